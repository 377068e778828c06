//! Sysctls: the runtime value of every key the plan sets, read from /proc/sys, and the sysctl
//! files that may set one at boot.
//!
//! Which sysctl.d settings win at boot is decided here, in Rust, from the files and lines the
//! script lists (it only greps them for the keys' last words): systemd-sysctl's order
//! (basenames sorted, /etc masking /run, /usr/local/lib, /usr/lib and /lib), /etc/sysctl.conf
//! last. A setting of a managed key is an override when its file loads after
//! /etc/sysctl.d/90-lvsctl.conf and its value differs from the plan's
//! (`ProbeRequest::sysctl_values`); globs (`net.ipv4.conf.*.rp_filter`) are not, since
//! systemd lets an explicit key beat any glob.

use std::collections::BTreeMap;

use super::{clip, malformed, ProbeError, ProbeRequest};
use crate::facts::{parse_sysctl_file, Facts, SysctlOverride};
use crate::plan::SYSCTL_FILE;
use crate::remote::protocol::Record;
use crate::remote::{rooted, sq, Script};

const SH: &str = include_str!("sh/sysctl.sh");

/// Directories of sysctl.d files, most important first: a file masks a same-named one in any
/// directory after it (systemd-sysctl; procps' `sysctl --system` reads the same set).
const SYSCTL_DIRS: [&str; 5] = ["/etc/sysctl.d/", "/run/sysctl.d/", "/usr/local/lib/sysctl.d/", "/usr/lib/sysctl.d/", "/lib/sysctl.d/"];
/// Read after every sysctl.d file (procps; Debian links it as /etc/sysctl.d/99-sysctl.conf).
const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// The section's first part: each key's runtime value (and the library of both parts; none
/// without sysctls).
pub(super) fn runtime_script(s: &mut Script, req: &ProbeRequest) {
    if req.sysctls.is_empty() {
        return;
    }
    s.lib(SH);
    s.line(format!("sv {}", req.sysctls.iter().map(|k| sq(&proc_sys_path(k))).collect::<Vec<_>>().join(" ")));
    for k in &req.sysctls {
        s.line(format!("s {} {}", sq(k), sq(&proc_sys_path(k))));
    }
}

/// The section's second part, at the end of the script: the files that may set a key at boot,
/// and their lines that mention one (by its last word: `grep -F`, no parsing in sh).
pub(super) fn boot_files_script(s: &mut Script, req: &ProbeRequest) {
    if req.sysctls.is_empty() {
        return;
    }
    let mut words: Vec<String> = req.sysctls.iter().map(|k| last_component(k)).collect();
    words.sort();
    words.dedup();
    let words: Vec<String> = words.iter().map(|w| sq(w)).collect();
    // The globs stay outside the quotes: sh expands them on the host.
    let files: Vec<String> = SYSCTL_DIRS.iter().map(|d| format!("{}*.conf", rooted(d))).chain([rooted(SYSCTL_CONF)]).collect();
    s.line(format!("sysctl_files {} -- {}", words.join(" "), files.join(" ")));
}

/// The sysctls' records as they come: runtime values go straight into the facts; the boot
/// files wait for `finish`, which needs our own sysctl file as the host has it.
#[derive(Default)]
pub(super) struct Sysctls<'r> {
    /// Each sysctl file that exists, as the host names it, and its link target.
    files: Vec<(String, Option<String>)>,
    /// `PATH:LINE` of those files, with their line numbers in the output.
    lines: Vec<(usize, &'r str)>,
}

impl<'r> Sysctls<'r> {
    /// Takes a record of this section; `false` for any other kind.
    pub(super) fn take(&mut self, r: &'r Record<'r>, facts: &mut Facts) -> Result<bool, ProbeError> {
        match r.kind {
            "sysctl" => {
                let (key, value) = r.args.split_once(' ').unwrap_or((r.args, ""));
                if key.is_empty() {
                    return Err(malformed(r, "expected `sysctl KEY VALUE`"));
                }
                facts.sysctls.insert(key.to_string(), value.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            "nosysctl" => {}
            "sysctlfile" => self.files.push((r.args.to_string(), None)),
            "sysctllink" => match self.files.last_mut() {
                Some((_, link @ None)) => *link = Some(r.args.to_string()),
                _ => return Err(malformed(r, "a link without its `sysctlfile`")),
            },
            "sysctlline" => self.lines.push((r.line, r.args)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The overrides, once the files are known (our sysctl file as the host has it is the
    /// reference for a key the plan gives no value).
    pub(super) fn finish(self, req: &ProbeRequest, facts: &mut Facts) -> Result<(), ProbeError> {
        facts.sysctl_overrides = sysctl_overrides(&self.files, &self.lines, req, facts.files.get(SYSCTL_FILE).map(|f| f.content.as_str()))?;
        Ok(())
    }
}

/// A sysctl key in its dot form, as the plan writes it: sysctl.d(5) lets a key be written with
/// `/` separators too, and "if the first separator is a slash, ... dots and slashes are
/// interchanged" (a leading `-`, "ignore failure", is dropped).
pub fn normalize_key(key: &str) -> String {
    let key = key.trim().trim_start_matches('-').trim();
    match key.find(['.', '/']) {
        Some(i) if key.as_bytes()[i] == b'/' => key.chars().map(|c| match c {
            '/' => '.',
            '.' => '/',
            c => c,
        }).collect(),
        _ => key.to_string(),
    }
}

/// The /proc/sys file of a key: `.` separates directories, and a `/` inside a component stands
/// for a `.` (`net.ipv4.conf.eth0/100.rp_filter` is `/proc/sys/net/ipv4/conf/eth0.100/rp_filter`).
pub fn proc_sys_path(key: &str) -> String {
    let mut p = String::from("/proc/sys");
    for component in normalize_key(key).split('.') {
        p.push('/');
        p.push_str(&component.replace('/', "."));
    }
    p
}

fn last_component(key: &str) -> String {
    let key = normalize_key(key);
    key.rsplit('.').next().unwrap_or(&key).replace('/', ".")
}

/// Settings of managed keys in files read after ours at boot, whose value differs from ours.
fn sysctl_overrides(files: &[(String, Option<String>)], lines: &[(usize, &str)], req: &ProbeRequest, our_file: Option<&str>) -> Result<Vec<SysctlOverride>, ProbeError> {
    let ours_on_host = our_file.map(parse_sysctl_file).unwrap_or_default();
    let our_name = SYSCTL_FILE.rsplit('/').next().unwrap_or(SYSCTL_FILE);
    let has_conf = files.iter().any(|(p, _)| p == SYSCTL_CONF);

    // basename -> (directory rank, path, link target)
    let mut effective: BTreeMap<&str, (usize, &str, Option<&str>)> = BTreeMap::new();
    for (path, link) in files {
        let Some((rank, name)) = SYSCTL_DIRS.iter().enumerate().find_map(|(i, d)| path.strip_prefix(d).map(|n| (i, n))) else { continue };
        if effective.get(name).is_none_or(|(r, _, _)| rank < *r) {
            effective.insert(name, (rank, path, link.as_deref()));
        }
    }
    let mut order: Vec<&str> = effective
        .iter()
        .filter(|(name, _)| **name > our_name)
        // Debian's 99-sysctl.conf -> ../sysctl.conf: that content is reported as /etc/sysctl.conf.
        .filter(|(_, (_, path, link))| !(has_conf && link.is_some_and(|l| resolve(path, l) == SYSCTL_CONF)))
        .map(|(_, (_, path, _))| *path)
        .collect();
    if has_conf {
        order.push(SYSCTL_CONF);
    }

    let wanted: BTreeMap<String, &String> = req.sysctls.iter().map(|k| (normalize_key(k), k)).collect();
    let all_paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let mut by_file: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (n, line) in lines {
        let path = all_paths.iter().filter(|p| line.len() > p.len() && line.starts_with(**p) && line.as_bytes()[p.len()] == b':').max_by_key(|p| p.len());
        let Some(path) = path else {
            return Err(ProbeError::Malformed { line: *n, reason: "a sysctl line of a file the probe did not list".into(), text: clip(line) });
        };
        by_file.entry(path).or_default().push(&line[path.len() + 1..]);
    }

    let mut out = Vec::new();
    for path in order {
        for line in by_file.get(path).into_iter().flatten() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            let key = normalize_key(key);
            // systemd: an explicit key beats any glob, wherever it is; procps ignores globs.
            if key.contains(['*', '?', '[']) {
                continue;
            }
            let Some(req_key) = wanted.get(&key) else { continue };
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            let ours = req.sysctl_values.get(*req_key).or_else(|| ours_on_host.get(*req_key)).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "));
            if ours.as_deref() == Some(value.as_str()) {
                continue;
            }
            out.push(SysctlOverride { key: (*req_key).clone(), value, file: path.to_string() });
        }
    }
    Ok(out)
}

/// A symlink's target as an absolute, normalized path.
fn resolve(link: &str, target: &str) -> String {
    let base = if target.starts_with('/') { "" } else { link.rsplit_once('/').map_or("", |(d, _)| d) };
    let mut parts: Vec<&str> = Vec::new();
    for c in base.split('/').chain(target.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::super::tests::request;
    use super::*;

    #[test]
    fn sysctl_keys_map_to_proc_sys() {
        let cases = [
            ("net.ipv4.ip_forward", "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"),
            ("net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.eth0/100.rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"),
            ("net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"),
            ("-net.ipv4.conf.lo.arp_ignore ", "net.ipv4.conf.lo.arp_ignore", "/proc/sys/net/ipv4/conf/lo/arp_ignore"),
            ("kernel/domainname", "kernel.domainname", "/proc/sys/kernel/domainname"),
        ];
        for (key, normal, path) in cases {
            assert_eq!(normalize_key(key), normal, "{key}");
            assert_eq!(proc_sys_path(key), path, "{key}");
        }
        assert_eq!(last_component("net.ipv4.conf.eth0/100.rp_filter"), "rp_filter");
        assert_eq!(resolve("/etc/sysctl.d/99-sysctl.conf", "../sysctl.conf"), "/etc/sysctl.conf");
        assert_eq!(resolve("/etc/sysctl.d/99-sysctl.conf", "/etc/./sysctl.conf"), "/etc/sysctl.conf");
    }

    #[test]
    fn without_plan_values_our_file_on_the_host_is_the_reference() {
        let files = vec![("/etc/sysctl.d/95-x.conf".to_string(), None)];
        let lines = [(1, "/etc/sysctl.d/95-x.conf:net.ipv4.ip_forward = 1"), (2, "/etc/sysctl.d/95-x.conf:net.ipv4.conf.all.rp_filter = 2")];
        let mut req = request(&[], &[("net.ipv4.ip_forward", "1"), ("net.ipv4.conf.all.rp_filter", "0")], &[]);
        req.sysctl_values.clear();
        let ours = "net.ipv4.ip_forward = 1\n";
        let got = sysctl_overrides(&files, &lines, &req, Some(ours)).unwrap();
        assert_eq!(got, vec![SysctlOverride { key: "net.ipv4.conf.all.rp_filter".into(), value: "2".into(), file: "/etc/sysctl.d/95-x.conf".into() }]);
        let got = sysctl_overrides(&files, &lines, &req, None).unwrap();
        assert_eq!(got.len(), 2, "with nothing to compare with, every later setting is reported");
    }
}
