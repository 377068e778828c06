//! The remote layer: everything lvsctl says to a host and reads back, in one place.
//!
//! Every remote job (the facts probe, the apply transaction, the generation listing, the fetch
//! of a generation record) is ONE POSIX sh script run in ONE exec (`sh -s`, script on stdin),
//! and answers in ONE line protocol (`protocol`): records `@@lvsctl KIND ARGS`, each possibly
//! followed by body lines, ending with `@@lvsctl end`. This module holds what those scripts
//! share so no caller spells it again:
//! - `layout`: where lvsctl keeps its state on a host (`/var/lib/lvsctl/...`);
//! - `protocol`: the record format and its one reader (malformed output is an error);
//! - `Script`: a builder that quotes every argument (`sq`) and embeds the sh libraries, which
//!   live as real `.sh` files in `sh/` (so shellcheck sees them: tests/shellcheck.rs).
//!
//! Scripts are *rerootable*: every host path goes through `$ROOT` (empty on a real host), so
//! the tests run them against a directory tree with fake `ip`, `iptables`, `keepalived`,
//! `systemctl` on the PATH, under dash and busybox sh.

pub mod layout;
pub mod protocol;
#[cfg(test)]
mod shellcheck;

use std::fmt::Write;

use sha2::{Digest, Sha256};

/// Single-quote `s` for sh: safe for any bytes but NUL.
pub fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A host path as the script must use it: under `$ROOT`, quoted (`"$ROOT"'/etc/x'`).
pub fn rooted(path: &str) -> String {
    format!("\"$ROOT\"{}", sq(path))
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The library every remote script starts with (`rec`).
pub const LIBRARY: &str = include_str!("sh/lib.sh");

/// The standard search path of a remote script; tests put their fakes first (`Script::new`).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a script runs: a real host (`/`), or a test's directory tree with fake tools.
#[derive(Debug, Clone, Default)]
pub struct Root {
    /// Prefix of every host path; empty on a real host.
    pub dir: String,
    /// Directories searched before the standard PATH (tests' fake tools).
    pub fake_bin: Option<String>,
}

/// A remote script under construction: one line a call, every argument quoted by the caller
/// through `sq`/`rooted`, libraries added whole.
#[derive(Debug)]
pub struct Script {
    text: String,
}

impl Script {
    /// A script that sets `ROOT`, `PATH` and the state directory `S`, the names every
    /// library relies on.
    pub fn new(root: &Root) -> Script {
        let mut text = String::with_capacity(16 * 1024);
        let _ = writeln!(text, "ROOT={}", sq(&root.dir));
        match &root.fake_bin {
            Some(bin) => {
                let _ = writeln!(text, "PATH={}:{PATH}", sq(bin));
            }
            None => {
                let _ = writeln!(text, "PATH={PATH}");
            }
        }
        text.push_str("# shellcheck disable=SC2034 # for the libraries that keep state\n");
        let _ = writeln!(text, "S={}", rooted(layout::STATE_DIR));
        Script { text }
    }

    /// A line of sh, already quoted.
    pub fn line(&mut self, line: impl AsRef<str>) -> &mut Self {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
        self
    }

    /// `NAME='value'`.
    pub fn var(&mut self, name: &str, value: &str) -> &mut Self {
        let _ = writeln!(self.text, "{name}={}", sq(value));
        self
    }

    /// A whole sh library or block (from `sh/`).
    pub fn lib(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        if !text.ends_with('\n') {
            self.text.push('\n');
        }
        self
    }

    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_sh() {
        assert_eq!(sq("/etc/it's"), r"'/etc/it'\''s'");
        assert_eq!(rooted("/etc/x y"), r#""$ROOT"'/etc/x y'"#);
    }
}
