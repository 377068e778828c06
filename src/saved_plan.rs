//! A saved plan (`lvsctl plan --out FILE`, then `lvsctl apply FILE`): what was reviewed, so
//! apply can refuse when any host changed since. It records where the topology and inventory
//! are and, per host, a SHA-256 fingerprint of the changes' data (contents by the hash of their
//! masked text). It holds
//! no file content and no secret.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::changes::HostChanges;
use crate::error::{Error, Result};

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    pub lvsctl_saved_plan: u32,
    pub topology: PathBuf,
    pub inventory: PathBuf,
    pub templates: Option<PathBuf>,
    pub limit: Vec<String>,
    pub hosts: Vec<SavedHost>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedHost {
    pub host: String,
    pub changes: usize,
    pub fingerprint: String,
}

/// The fingerprint of a host's changes as reviewed (`HostChanges::fingerprint`: their data,
/// not how they are drawn, so a new diff layout does not invalidate saved plans).
pub fn fingerprint(changes: &HostChanges) -> String {
    changes.fingerprint()
}

impl SavedPlan {
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("saved plan serializes");
        std::fs::write(path, text + "\n").map_err(|source| Error::Write { path: path.to_path_buf(), source })
    }

    /// `Some` when `path` is a saved plan (JSON with our marker), `None` for a topology.
    pub fn read_if_saved(path: &Path) -> Option<SavedPlan> {
        let text = std::fs::read_to_string(path).ok()?;
        if !text.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str::<SavedPlan>(&text).ok().filter(|p| p.lvsctl_saved_plan == FORMAT)
    }
}

pub fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}
