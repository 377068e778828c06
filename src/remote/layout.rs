//! Where lvsctl keeps its state on a host. The only place these paths are spelled: scripts
//! get them through `Script::new` (`$S`) or these constants, always under `$ROOT`.
//!
//! ```text
//! /var/lib/lvsctl/                 0700
//!   lock/holder                    the apply holding the host (a directory: mkdir is atomic)
//!   generation                     the current generation number
//!   manifest.json                  what the current generation manages (facts::Manifest)
//!   managed-files                  its files, one a line (the probe reads them)
//!   generations/N/                 one apply: record.json (0600), backup/, status, time,
//!                                  holder, log and the runtime values before it
//! ```

pub const STATE_DIR: &str = "/var/lib/lvsctl";
pub const MANIFEST: &str = "/var/lib/lvsctl/manifest.json";
pub const MANAGED_FILES: &str = "/var/lib/lvsctl/managed-files";
pub const GENERATIONS: &str = "/var/lib/lvsctl/generations";

/// The directory of generation `n`.
pub fn generation_dir(n: u64) -> String {
    format!("{GENERATIONS}/{n}")
}

/// The record of generation `n` (what it gave the host, for rollback).
pub fn record(n: u64) -> String {
    format!("{}/record.json", generation_dir(n))
}
