//! The live facts probe: one POSIX sh script per host, run in one exec, and the parser of what
//! it prints.
//!
//! Why one script: every remote exec is a round trip (and, through a login shell, a profile
//! read: about 90 ms with some `.bashrc`s). Asking for each file, sysctl and address apart would
//! cost dozens of round trips per host; one script that prints everything costs one. So
//! `script` writes a small sh program from a `ProbeRequest` (what the plan manages), the caller
//! runs it as `sh -s` with the script on stdin, and `parse` turns its stdout into `Facts`.
//!
//! What the script must not do: write anything on the host. No temporary files, no `sysctl -w`,
//! no iptables other than `iptables-save`, no service commands: it only reads files, /proc and
//! the output of `ip`, `iptables-save`, `ipvsadm -Ln` and `keepalived --version`. (With the
//! legacy iptables backend, `iptables-save -t nat` may make the kernel load `iptable_nat`, so
//! the mangle table is read there only when /proc/net/ip_tables_names lists it; nft loads
//! nothing. ipvsadm runs `modprobe ip_vs` when it cannot reach IPVS, so it only runs where
//! /proc/net/ip_vs shows IPVS is already there.) It runs under dash and busybox sh: no
//! bashisms, and no subshell per file or sysctl (sysctls are read from /proc/sys with the
//! `read` builtin).
//!
//! One module per fact section, each holding its part of the script (a library in `sh/`, and
//! the calls it appends with every argument quoted) beside the parser of its records, as
//! pyinfra keeps a fact's command beside its `process()`: `files`, `sysctl`, `network`,
//! `services`, `ipvs` (with `ipvs_table`, the table's two texts) and `os`. This module writes
//! the script's frame (`sh/probe.sh`: the start record, the tools the host lacks) and drives
//! the sections over the records; the records themselves are read by the one reader of every
//! remote script, `remote::protocol` (a motd before the first record is skipped; an output cut
//! short, or with anything after `end`, is an error). A record kind no section takes is an
//! error, never skipped.
//!
//! Output format, one record a line; every record starts with `@@lvsctl `, which no base64 text
//! and no line of `ip` or `iptables-save` output can start with:
//!
//! ```text
//! @@lvsctl probe 1                      format version: the script's first record
//! @@lvsctl missing TOOL                 base64, stat, ip or iptables-save is not on the PATH
//!
//! files.rs
//! @@lvsctl file MODE OWNER GROUP PATH   a regular file (mode in octal), then its content in
//! BASE64...                             base64 on the following lines (wrapped or not)
//! @@lvsctl nofile PATH                  absent
//! @@lvsctl notfile PATH                 exists but is not a regular file
//! @@lvsctl unreadable PATH              exists but cannot be read
//! @@lvsctl listed PATH                  a line of /var/lib/lvsctl/managed-files (then probed)
//! @@lvsctl nolist                       no managed-files list
//! @@lvsctl manifest                     /var/lib/lvsctl/manifest.json follows in base64
//! @@lvsctl nomanifest
//!
//! sysctl.rs
//! @@lvsctl sysctl KEY VALUE             runtime value from /proc/sys
//! @@lvsctl nosysctl KEY                 no such /proc/sys entry (e.g. the interface is absent)
//!
//! network.rs
//! @@lvsctl addr LINE                    a line of `ip -o -4 addr show up` (a VIP on a down
//!                                       device, e.g. tunl0 never brought up, receives nothing)
//! @@lvsctl route LINE                   a line of `ip -4 route show default`
//! @@lvsctl nat LINE                     a line of `iptables-save -t nat` that mentions LVSCTL
//! @@lvsctl mangle LINE                  the same of `iptables-save -t mangle` (firewall marks)
//! @@lvsctl nat6 LINE                    the same of `ip6tables-save -t nat` (IPv6 forwards)
//!
//! services.rs
//! @@lvsctl keepalived installed
//! @@lvsctl keepalived version LINE      first line of `keepalived --version` (hosts managing it)
//! @@lvsctl proc PID PPID COMM           a process whose name is keepalived or a requested service
//! @@lvsctl pidfile PID                  /run/keepalived.pid
//!
//! ipvs.rs
//! @@lvsctl ipvsadm                      directors: `ipvsadm -Ln` follows, verbatim
//! @@lvsctl ipvsadmfailed                ipvsadm is installed but `ipvsadm -Ln` failed (not root?)
//! @@lvsctl ipvsproc                     ... so /proc/net/ip_vs follows instead (also without ipvsadm)
//! @@lvsctl ipvshz HZ                    the kernel's CONFIG_HZ (/proc gives persistence in ticks)
//! @@lvsctl noipvs                       no /proc/net/ip_vs: no IPVS in the kernel
//!
//! os.rs
//! @@lvsctl os ID=... / os ID_LIKE=... / os VERSION_ID=...   lines of /etc/os-release
//!
//! boot.rs
//! @@lvsctl init systemd|openrc|sysvinit
//! @@lvsctl netstack NAME                network-scripts, NetworkManager, systemd-networkd,
//!                                       netplan, ifupdown: each that is active
//! @@lvsctl enabled UNIT STATE           enabled, disabled or masked at boot
//!
//! sysctl.rs, at the end of the script
//! @@lvsctl sysctlfile PATH              a sysctl.d file (or /etc/sysctl.conf) that exists
//! @@lvsctl sysctllink TARGET            ... and is a symlink to TARGET
//! @@lvsctl sysctlline PATH:LINE         a line of one that may set a managed key (grep -H -F)
//!
//! @@lvsctl end                          the script ran to its end: no end, truncated output
//! ```

use std::collections::{BTreeMap, BTreeSet};

mod boot;
mod files;
mod ipvs;
mod ipvs_table;
mod network;
mod os;
mod services;
mod sysctl;

pub use services::KEEPALIVED_PIDFILE;
pub use sysctl::{normalize_key, proc_sys_path};

use crate::facts::Facts;
use crate::plan::HostPlan;
use crate::remote::protocol::{self, ProtocolError, Record, MARK};
use crate::remote::{self, Root, Script};

/// Version of the output format; `parse` refuses any other.
pub const FORMAT: &str = "1";

/// The script's name in the protocol's errors (`the probe's output is truncated ...`).
const SCRIPT: &str = "probe";

/// The script's frame: the start record and the tools the host lacks.
const PRELUDE: &str = include_str!("sh/probe.sh");

/// What to probe on one host: the files, sysctls and services its plan manages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeRequest {
    /// Absolute paths of the files the plan manages. The files lvsctl managed last time (the
    /// host's managed-files list) are probed as well, without being named here.
    pub files: Vec<String>,
    /// Sysctl keys, dot-separated, with `/` standing for a `.` inside a component
    /// (`net.ipv4.conf.eth0/100.rp_filter`), as `plan::sysctl_key` writes them.
    pub sysctls: Vec<String>,
    /// Services whose running state is wanted (keepalived is always probed).
    pub services: Vec<String>,
    /// The values the plan sets, by key: another sysctl file that sets a key to the same value
    /// is no override worth a warning. A key missing here is compared with our sysctl file on the
    /// host instead, and reported whatever its value when that file is absent too.
    pub sysctl_values: BTreeMap<String, String>,
    /// Read the kernel's IPVS table (directors; also whenever `services` has `ipvsadm`).
    pub ipvs: bool,
    /// Units whose boot-time state is wanted (the plan's and its alternatives' `boot_units`).
    pub units: Vec<String>,
}

impl ProbeRequest {
    /// The IPVS table is read for directors, and wherever the ipvsadm "service" is asked about.
    pub fn wants_ipvs(&self) -> bool {
        self.ipvs || self.services.iter().any(|s| s == "ipvsadm")
    }

    /// What `plan` and each of its alternatives (`HostPlan::with_alternatives`) manage.
    pub fn for_plan(plan: &HostPlan) -> ProbeRequest {
        let mut req = ProbeRequest::default();
        for p in std::iter::once(plan).chain(&plan.alternatives) {
            for f in &p.files {
                if !req.files.contains(&f.path) {
                    req.files.push(f.path.clone());
                }
            }
            for u in &p.boot_units {
                if !req.units.contains(u) {
                    req.units.push(u.clone());
                }
            }
            for s in &p.services {
                if !req.services.contains(&s.name) {
                    req.services.push(s.name.clone());
                }
            }
        }
        for s in &plan.sysctls {
            if !req.sysctls.contains(&s.key) {
                req.sysctls.push(s.key.clone());
                req.sysctl_values.insert(s.key.clone(), s.value.clone());
            }
        }
        req.ipvs = !plan.ipvs.is_empty();
        // A director's drain marks, drained or not: every plan is made with them.
        if plan.roles.iter().any(|r| matches!(r, crate::plan::Role::MasterDirector | crate::plan::Role::BackupDirector)) && !req.files.iter().any(|f| f == crate::model::drained::DRAINED_FILE) {
            req.files.push(crate::model::drained::DRAINED_FILE.into());
        }
        req
    }
}

/// The POSIX sh script (must run under dash and busybox sh; no bashisms), read-only on the host.
pub fn script(req: &ProbeRequest) -> String {
    script_at(req, &Root::default())
}

/// The script with every fixed host path (state dir, os-release, sysctl.d dirs, pid file, and
/// /proc/net/ip_vs and /boot, so a test can fake a kernel with IPVS) under `root.dir`: "" on a
/// host; tests point it at a fixture tree, and put their tools first on the PATH. Files named
/// in the request and the managed-files list, /proc/sys and the rest of /proc are never
/// rerooted. The sections' records come in this order (`sysctl` splits in two: the boot files
/// are read last).
fn script_at(req: &ProbeRequest, root: &Root) -> String {
    let mut s = Script::new(root);
    s.lib(remote::LIBRARY).lib(PRELUDE);
    s.line(format!("rec probe {FORMAT}"));
    s.line(format!("need {}", [files::TOOLS, network::TOOLS].concat().join(" ")));
    files::script(&mut s, req);
    sysctl::runtime_script(&mut s, req);
    network::script(&mut s);
    services::script(&mut s, req);
    ipvs::script(&mut s, req);
    os::script(&mut s);
    boot::script(&mut s, req);
    sysctl::boot_files_script(&mut s, req);
    s.line("rec end");
    s.finish()
}

/// Why a host's facts could not be read from the probe's output.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("the probe printed no `@@lvsctl probe` line{} (hint: is the remote shell a POSIX sh? is `sh` on the PATH?)", first_line.as_ref().map(|l| format!("; its output began with `{l}`")).unwrap_or_else(|| "; its output was empty".into()))]
    NoStart { first_line: Option<String> },
    #[error("the probe's output is in format `{found}`, this lvsctl reads format `{FORMAT}`")]
    Format { found: String },
    #[error("the probe's output is truncated after line {lines} (no `@@lvsctl end`; last line `{last}`) (hint: the connection dropped or the remote shell was killed)")]
    Truncated { lines: usize, last: String },
    #[error("malformed probe output at line {line}: {reason}: `{text}`")]
    Malformed { line: usize, reason: String, text: String },
    #[error("`{path}` exists on the host but cannot be read (hint: connect as root, or set `become`)")]
    Unreadable { path: String },
    #[error("`{tool}` is not on the host's PATH; the probe needs it to read files")]
    MissingTool { tool: String },
    #[error("the probe printed no IPVS table (`@@lvsctl ipvsadm`, `ipvsproc` or `noipvs`) although it was asked for one")]
    NoIpvsRecord,
}

impl From<ProtocolError> for ProbeError {
    fn from(e: ProtocolError) -> ProbeError {
        match e {
            ProtocolError::Empty { first_line, .. } => ProbeError::NoStart { first_line },
            ProtocolError::Truncated { lines, last, .. } => ProbeError::Truncated { lines, last },
            ProtocolError::Malformed { line, text, why, .. } => ProbeError::Malformed { line, reason: why, text: clip(&text) },
        }
    }
}

/// Parse the script's stdout into facts. Warnings (unparsable manifest, ...) are returned, not printed.
pub fn parse(stdout: &str, req: &ProbeRequest) -> Result<(Facts, Vec<String>), ProbeError> {
    let records = records(stdout)?;
    let mut facts = Facts::default();
    let mut warnings = Vec::new();

    // What the host lacks comes first: without base64 or stat no file can be read at all.
    let missing: BTreeSet<&str> = records.iter().filter(|r| r.kind == "missing").map(|r| r.args.trim()).collect();
    files::require_tools(&missing)?;
    network::missing_ip(&missing, &mut warnings);

    let mut files = files::Files::default();
    let mut sysctls = sysctl::Sysctls::default();
    let mut network = network::Network::default();
    let mut services = services::Services::default();
    let mut ipvs = ipvs::Ipvs::default();
    let mut os = os::Os::default();
    for r in &records {
        let taken = r.kind == "missing"
            || files.take(r, &mut facts, &mut warnings)?
            || sysctls.take(r, &mut facts)?
            || network.take(r, &mut facts)?
            || services.take(r, &mut facts, &mut warnings)?
            || ipvs.take(r, &mut facts, &mut warnings)?
            || os.take(r)?
            || boot::take(r, &mut facts)?;
        if !taken {
            return Err(malformed(r, "unknown record"));
        }
    }

    // In this order: the nat chains are said missing only where the manifest names some;
    // ipvsadm "runs" when the IPVS table has services; the sysctl overrides are compared
    // with our sysctl file as the host has it.
    files.finish(&mut facts, &mut warnings);
    network.finish(&missing, &mut facts, &mut warnings);
    ipvs.finish(req, &mut facts, &mut warnings)?;
    services.finish(req, &mut facts, &mut warnings);
    os.finish(&mut facts);
    sysctls.finish(req, &mut facts)?;
    Ok((facts, warnings))
}

/// The records followed by body lines: a file's and the manifest's base64, an IPVS table's
/// text. After any other record, a line that is not blank is an error (a shell's complaint
/// mixed into the output), never skipped.
const WITH_BODY: [&str; 4] = ["file", "manifest", "ipvsadm", "ipvsproc"];

/// The records of a whole output after `probe FORMAT`, through the remote protocol's reader
/// (which skips a motd before the first record, and refuses an output cut short or with
/// anything after `end`).
fn records(stdout: &str) -> Result<Vec<Record<'_>>, ProbeError> {
    let mut records = match protocol::read(SCRIPT, stdout) {
        Err(ProtocolError::Empty { .. }) => return Err(no_start(stdout)),
        read => read?,
    };
    let Some(start) = records.first() else { return Err(no_start(stdout)) };
    if start.kind != "probe" {
        // The script's first record is `probe`: one before it was not printed by this script.
        let started_later = records.iter().any(|r| r.kind == "probe");
        return Err(if started_later { malformed(start, "a record before `@@lvsctl probe`") } else { no_start(stdout) });
    }
    if start.args.trim() != FORMAT {
        return Err(ProbeError::Format { found: clip(start.args.trim()) });
    }
    for r in records.iter().filter(|r| !WITH_BODY.contains(&r.kind)) {
        if let Some((line, text)) = numbered(r).into_iter().find(|(_, l)| !l.trim().is_empty()) {
            return Err(ProbeError::Malformed { line, reason: "a line outside any `@@lvsctl` record".into(), text: clip(text) });
        }
    }
    records.remove(0);
    Ok(records)
}

/// The output printed no `probe` record: the script did not run (not a POSIX sh, no `sh`).
fn no_start(stdout: &str) -> ProbeError {
    ProbeError::NoStart { first_line: stdout.lines().find(|l| !l.trim().is_empty()).map(clip) }
}

/// A record's body lines with their line numbers in the whole output.
fn numbered<'a>(r: &Record<'a>) -> Vec<(usize, &'a str)> {
    r.body.iter().enumerate().map(|(i, l)| (r.line + 1 + i, *l)).collect()
}

/// The record line as the script printed it.
fn record_text(r: &Record) -> String {
    if r.args.is_empty() {
        format!("{MARK}{}", r.kind)
    } else {
        format!("{MARK}{} {}", r.kind, r.args)
    }
}

/// A record whose arguments are not what its kind takes.
fn malformed(r: &Record, reason: impl Into<String>) -> ProbeError {
    ProbeError::Malformed { line: r.line, reason: reason.into(), text: clip(&record_text(r)) }
}

/// A line of the output as errors and warnings quote it: at most 200 bytes.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests;
