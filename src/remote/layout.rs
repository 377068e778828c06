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

/// The state directory, spelled once (the constants below are built from it).
macro_rules! state_dir {
    () => {
        "/var/lib/lvsctl"
    };
}

pub const STATE_DIR: &str = state_dir!();
/// What the current generation manages (`facts::Manifest`), read by the probe.
pub const MANIFEST: &str = concat!(state_dir!(), "/manifest.json");
/// The current generation's files, one a line: the probe reads them without parsing JSON.
pub const MANAGED_FILES: &str = concat!(state_dir!(), "/managed-files");
