//! OS: which distribution the host runs, from os-release's `ID` and `ID_LIKE` (`/etc`, else
//! `/usr/lib`), e.g. "rocky rhel centos fedora". The script part is `sh/os.sh`.

use super::{malformed, ProbeError};
use crate::facts::Facts;
use crate::remote::protocol::Record;
use crate::remote::Script;

const SH: &str = include_str!("sh/os.sh");

/// The section's part of the script.
pub(super) fn script(s: &mut Script) {
    s.lib(SH).line("os_release");
}

/// The os-release lines as they come.
#[derive(Default)]
pub(super) struct Os {
    id: Option<String>,
    like: Option<String>,
    version: Option<String>,
}

impl Os {
    /// Takes a record of this section; `false` for any other kind.
    pub(super) fn take(&mut self, r: &Record) -> Result<bool, ProbeError> {
        if r.kind != "os" {
            return Ok(false);
        }
        match r.args.split_once('=') {
            Some(("ID", v)) => self.id = Some(unquote(v)),
            Some(("ID_LIKE", v)) => self.like = Some(unquote(v)),
            Some(("VERSION_ID", v)) => self.version = Some(unquote(v)),
            _ => return Err(malformed(r, "expected `os ID=...`, `os ID_LIKE=...` or `os VERSION_ID=...`")),
        }
        Ok(true)
    }

    /// `ID` then `ID_LIKE`, in one string; none when os-release says neither.
    pub(super) fn finish(self, facts: &mut Facts) {
        facts.boot.os_version = self.version.clone();
        facts.os_family = match (self.id, self.like) {
            (None, None) => None,
            (id, like) => Some([id, like].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")).filter(|s| !s.is_empty()),
        };
        facts.boot.os = facts.os_family.clone();
    }
}

/// An os-release value without its quotes.
fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}
