//! Files: the plan's, the ones lvsctl managed last time (the host's managed-files list, so a
//! file the topology dropped is still seen and can be removed), and the manifest of what lvsctl
//! applied. The script part (`sh/files.sh`) prints each file's mode, owner and group and its
//! content in base64, so any bytes cross the line protocol intact. A file that exists but
//! cannot be read is an error (connect as root), one that is not a regular file a warning; so
//! is a manifest that does not parse, since it only tells what the topology dropped since.

use std::collections::BTreeSet;

use super::{clip, malformed, numbered, record_text, ProbeError, ProbeRequest};
use crate::facts::{Facts, FileFact, Manifest};
use crate::remote::layout::{MANAGED_FILES, MANIFEST};
use crate::remote::protocol::Record;
use crate::remote::{rooted, sq, Script};

const SH: &str = include_str!("sh/files.sh");

/// The tools without which no file can be read: a host without one cannot be probed.
pub(super) const TOOLS: [&str; 2] = ["base64", "stat"];

/// The section's part of the script: the plan's files, the listed ones, the manifest.
pub(super) fn script(s: &mut Script, req: &ProbeRequest) {
    s.lib(SH);
    for f in &req.files {
        s.line(format!("f {}", sq(f)));
    }
    let probed: Vec<String> = req.files.iter().map(|f| sq(f)).collect();
    s.line(format!("listed {} {}", rooted(MANAGED_FILES), probed.join(" ")).trim_end());
    s.line(format!("manifest {}", rooted(MANIFEST)));
}

/// The error for a host that lacks a tool the files need (`missing` records).
pub(super) fn require_tools(missing: &BTreeSet<&str>) -> Result<(), ProbeError> {
    match TOOLS.iter().find(|t| missing.contains(*t)) {
        Some(tool) => Err(ProbeError::MissingTool { tool: tool.to_string() }),
        None => Ok(()),
    }
}

/// The files' records as they come: the files go straight into the facts, the manifest waits
/// for `finish` (it is compared with every file probed).
#[derive(Default)]
pub(super) struct Files<'r> {
    /// Every path the script answered for, whatever it found there.
    probed: BTreeSet<&'r str>,
    manifest: Option<&'r Record<'r>>,
}

impl<'r> Files<'r> {
    /// Takes a record of this section; `false` for any other kind.
    pub(super) fn take(&mut self, r: &'r Record<'r>, facts: &mut Facts, warnings: &mut Vec<String>) -> Result<bool, ProbeError> {
        match r.kind {
            "file" => {
                let mut parts = r.args.splitn(4, ' ');
                let (Some(mode), Some(owner), Some(group), Some(path)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
                    return Err(malformed(r, "expected `file MODE OWNER GROUP PATH`"));
                };
                let mode = u32::from_str_radix(mode, 8).map_err(|_| malformed(r, "the mode is not octal"))?;
                let bytes = base64(r)?;
                let content = match String::from_utf8(bytes) {
                    Ok(s) => s,
                    Err(e) => {
                        warnings.push(format!("{path} is not UTF-8 text: compared with invalid bytes replaced"));
                        String::from_utf8_lossy(e.as_bytes()).into_owned()
                    }
                };
                self.probed.insert(path);
                facts.files.insert(path.to_string(), FileFact { content, mode, owner: owner.into(), group: group.into() });
            }
            "nofile" => {
                self.probed.insert(r.args);
            }
            "notfile" => {
                self.probed.insert(r.args);
                warnings.push(format!("{} exists but is not a regular file (a directory?): lvsctl cannot write it until it is removed", r.args));
            }
            "unreadable" => return Err(ProbeError::Unreadable { path: r.args.to_string() }),
            "listed" | "nolist" => {}
            "manifest" => self.manifest = Some(r),
            "nomanifest" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The manifest: absent is a host lvsctl never applied to; unparsable is a warning. A file
    /// it names that was not probed (not in the managed-files list) is said.
    pub(super) fn finish(self, facts: &mut Facts, warnings: &mut Vec<String>) {
        if let Some(r) = self.manifest {
            let parsed = base64(r).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<Manifest>(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(m) => facts.manifest = m,
                Err(e) => warnings.push(format!(
                    "{MANIFEST} is unparsable ({e}): what lvsctl applied before is unknown, so nothing the topology dropped will be removed"
                )),
            }
        }
        for path in &facts.manifest.files {
            if !self.probed.contains(path.as_str()) {
                warnings.push(format!(
                    "{path} is in {MANIFEST} but not in {MANAGED_FILES}, so it was not probed: its state on the host is unknown"
                ));
            }
        }
    }
}

/// A record's body as base64 (wrapped or not); a bad one names its first bad line.
fn base64(r: &Record) -> Result<Vec<u8>, ProbeError> {
    let text: String = r.body.iter().flat_map(|l| l.chars()).filter(|c| !c.is_ascii_whitespace()).collect();
    data_encoding::BASE64.decode(text.as_bytes()).map_err(|e| {
        let body = numbered(r);
        let bad = body.iter().find(|(_, l)| l.chars().any(|c| !c.is_ascii_alphanumeric() && !"+/= \t".contains(c)));
        let (line, text) = bad.or(body.last()).map(|(n, l)| (*n, clip(l))).unwrap_or((r.line, String::new()));
        ProbeError::Malformed { line, reason: format!("bad base64 after `{}` ({e})", record_text(r)), text }
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::request;
    use super::super::script;
    use crate::remote::sq;

    #[test]
    fn paths_are_single_quoted_in_the_script() {
        assert_eq!(sq("/etc/it's"), r"'/etc/it'\''s'");
        let req = request(&["/tmp/a b/$(reboot)`x`'*.conf"], &[], &[]);
        let s = script(&req);
        assert!(s.contains(r"f '/tmp/a b/$(reboot)`x`'\''*.conf'"), "{s}");
        assert!(s.contains(r#"listed "$ROOT"'/var/lib/lvsctl/managed-files' '/tmp/a b/$(reboot)`x`'\''*.conf'"#), "{s}");
        assert!(!s.contains("90-lvsctl"), "no sysctl section without sysctls");
    }
}
