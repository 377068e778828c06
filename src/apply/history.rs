//! Generations on a host: listing them (`lvsctl history`) and fetching the record of one
//! (`lvsctl rollback`), each as one small read-only script (`remote/sh/history.sh`,
//! `remote/sh/fetch.sh`) answering in the remote protocol.

use data_encoding::BASE64;

use crate::record::GenerationRecord;
use crate::remote::protocol::{self, ProtocolError};
use crate::remote::{Root, Script};

/// One generation as listed on a host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Generation {
    pub number: u64,
    /// applying | applied | rolled-back | failed
    pub status: String,
    pub time: String,
    pub holder: String,
}

/// A host's generations as `lvsctl history` shows them.
#[derive(Debug, serde::Serialize)]
pub struct HostGenerations {
    pub host: String,
    pub current: Option<u64>,
    pub generations: Vec<Generation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a host's generations or record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Ssh(#[from] crate::ssh::SshError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("the generation's record is missing on the host")]
    NoRecord,
    #[error("bad record encoding: {0}")]
    Encoding(#[source] data_encoding::DecodeError),
    #[error("bad record: {0}")]
    Record(#[source] serde_json::Error),
}

/// Why a host has no generation to go back to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("generation 0 (before lvsctl) has no record to return to")]
    GenerationZero,
    #[error("generation {number} was {status}, not applied")]
    NotApplied { number: u64, status: String },
    #[error("no generation {0} on this host")]
    NoSuchGeneration(u64),
    #[error("lvsctl never applied anything here")]
    NeverApplied,
    #[error("no applied generation before {0}")]
    NoneBefore(u64),
}

impl TargetError {
    /// Nothing earlier to return to: without `--to`, the host is left as it is (not an error).
    pub fn nothing_earlier(&self) -> bool {
        matches!(self, TargetError::NeverApplied | TargetError::NoneBefore(_))
    }
}

const LIST: &str = include_str!("../remote/sh/history.sh");
const FETCH: &str = include_str!("../remote/sh/fetch.sh");
const LIST_NAME: &str = "generation listing";
const FETCH_NAME: &str = "record fetch";

/// The script that lists a host's generations.
pub fn list_script(root: &Root) -> String {
    let mut s = Script::new(root);
    s.lib(crate::remote::LIBRARY).lib(LIST);
    s.finish()
}

/// Parse the listing: (current generation, generations sorted by number).
pub fn parse_list(out: &str) -> Result<(u64, Vec<Generation>), HistoryError> {
    let mut current = 0;
    let mut gens = Vec::new();
    for r in protocol::read(LIST_NAME, out)? {
        match r.kind {
            "current" => current = r.number(LIST_NAME)?,
            "gen" => {
                let f = r.fields(LIST_NAME, 4)?;
                let number = f[0].parse().map_err(|_| r.malformed(LIST_NAME, "the generation is not a number"))?;
                gens.push(Generation { number, status: f[1].to_string(), time: f[2].to_string(), holder: f[3].to_string() });
            }
            _ => return Err(r.unexpected(LIST_NAME).into()),
        }
    }
    gens.sort_by_key(|g| g.number);
    Ok((current, gens))
}

/// Which generation to go back to: `to`, or the newest applied one before the current.
pub fn target(current: u64, gens: &[Generation], to: Option<u64>) -> Result<u64, TargetError> {
    match to {
        Some(0) => Err(TargetError::GenerationZero),
        Some(n) => match gens.iter().find(|g| g.number == n) {
            Some(g) if g.status == "applied" => Ok(n),
            Some(g) => Err(TargetError::NotApplied { number: n, status: g.status.clone() }),
            None => Err(TargetError::NoSuchGeneration(n)),
        },
        None => gens
            .iter()
            .rev()
            .find(|g| g.number < current && g.status == "applied")
            .map(|g| g.number)
            .ok_or(if current == 0 { TargetError::NeverApplied } else { TargetError::NoneBefore(current) }),
    }
}

/// The script that prints generation `n`'s record.
pub fn fetch_script(n: u64, root: &Root) -> String {
    let mut s = Script::new(root);
    s.lib(crate::remote::LIBRARY).var("N", &n.to_string()).lib(FETCH);
    s.finish()
}

pub fn parse_fetch(out: &str) -> Result<GenerationRecord, HistoryError> {
    let records = protocol::read(FETCH_NAME, out)?;
    let record = match records.as_slice() {
        [r] if r.kind == "record" => r,
        [r] if r.kind == "norecord" => return Err(HistoryError::NoRecord),
        [r, ..] => return Err(r.unexpected(FETCH_NAME).into()),
        [] => return Err(HistoryError::NoRecord),
    };
    let bytes = BASE64.decode(record.body_joined().as_bytes()).map_err(HistoryError::Encoding)?;
    serde_json::from_slice(&bytes).map_err(HistoryError::Record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_picks_the_previous_applied_generation() {
        let out = "@@lvsctl current 4\n@@lvsctl gen 1 applied 2026-01-01T00:00:00Z lvsctl apply by a@b pid 1\n@@lvsctl gen 2 applied t h\n@@lvsctl gen 3 rolled-back t h\n@@lvsctl gen 4 applied t h\n@@lvsctl end\n";
        let (cur, gens) = parse_list(out).unwrap();
        assert_eq!((cur, gens.len()), (4, 4));
        assert_eq!(gens[0].holder, "lvsctl apply by a@b pid 1");
        assert_eq!(target(cur, &gens, None), Ok(2));
        assert_eq!(target(cur, &gens, Some(1)), Ok(1));
        assert_eq!(target(cur, &gens, Some(3)), Err(TargetError::NotApplied { number: 3, status: "rolled-back".into() }));
        assert_eq!(target(cur, &gens, Some(9)), Err(TargetError::NoSuchGeneration(9)));
        assert!(target(0, &[], None).unwrap_err().nothing_earlier());
        // Cut short, or a line that is no generation: an error, never skipped.
        assert!(parse_list("@@lvsctl current 1\n").is_err());
        assert!(parse_list("@@lvsctl gen x applied t h\n@@lvsctl end\n").is_err());
        assert!(parse_list("@@lvsctl generation 1\n@@lvsctl end\n").is_err());
    }
}
