//! Services: keepalived (always: installed, version, running, its parent's pid) and whether
//! each service the plan manages is running. One is running when a process of that name (its
//! 15-byte `comm`) is; `ipvsadm`, which is no daemon, counts as running when the kernel's IPVS
//! table holds a virtual service. The script part (`sh/services.sh`) finds the processes by
//! their `comm` under /proc (grep and the `read` builtin), and reads keepalived's pid file.

use super::{clip, malformed, ProbeError, ProbeRequest};
use crate::facts::{Facts, IpvsFact};
use crate::remote::protocol::Record;
use crate::remote::{rooted, sq, Script};

const SH: &str = include_str!("sh/services.sh");

/// Where keepalived (Debian's init script and systemd unit alike) writes its parent's pid.
pub const KEEPALIVED_PIDFILE: &str = "/run/keepalived.pid";

/// The section's part of the script.
pub(super) fn script(s: &mut Script, req: &ProbeRequest) {
    s.lib(SH);
    // The version only where keepalived is managed: `keepalived --version` costs ~0.2 s on a
    // slow host (measured in the VM lab), a tenth of a whole probe.
    s.line(if req.services.iter().any(|s| s == "keepalived") { "keepalived_facts version" } else { "keepalived_facts installed" });
    let mut names: Vec<String> = vec!["keepalived".into()];
    for svc in &req.services {
        let comm = comm_name(svc);
        if svc != "ipvsadm" && !names.contains(&comm) {
            names.push(comm);
        }
    }
    let names: Vec<String> = names.iter().map(|n| sq(n)).collect();
    s.line(format!("processes {}", names.join(" ")));
    s.line(format!("pidfile {}", rooted(KEEPALIVED_PIDFILE)));
}

/// A process's comm is its name cut to 15 bytes (TASK_COMM_LEN).
fn comm_name(name: &str) -> String {
    let mut end = name.len().min(15);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// A process the script found: pid, parent pid, name.
struct Proc {
    pid: u32,
    ppid: u32,
    comm: String,
}

/// The services' records as they come; the facts are made in `finish`, which needs them all
/// (and the IPVS table, for ipvsadm).
#[derive(Default)]
pub(super) struct Services {
    procs: Vec<Proc>,
    pidfile: Option<u32>,
}

impl Services {
    /// Takes a record of this section; `false` for any other kind.
    pub(super) fn take(&mut self, r: &Record, facts: &mut Facts, warnings: &mut Vec<String>) -> Result<bool, ProbeError> {
        match r.kind {
            "keepalived" => match r.args.split_once(' ').unwrap_or((r.args, "")) {
                ("installed", _) => facts.keepalived.installed = true,
                ("version", line) => {
                    facts.keepalived.version = keepalived_version(line);
                    if facts.keepalived.version.is_none() {
                        warnings.push(format!("`keepalived --version` printed `{}`, not a version", clip(line.trim())));
                    }
                }
                _ => return Err(malformed(r, "expected `keepalived installed` or `keepalived version LINE`")),
            },
            "proc" => {
                let mut parts = r.args.splitn(3, ' ');
                let (pid, ppid, comm) = (parts.next().and_then(|p| p.parse().ok()), parts.next().and_then(|p| p.parse().ok()), parts.next());
                match (pid, ppid, comm) {
                    (Some(pid), Some(ppid), Some(comm)) => self.procs.push(Proc { pid, ppid, comm: comm.to_string() }),
                    // The process exited between the scan and the read of its status.
                    (Some(_), None, _) | (Some(_), _, None) => {}
                    _ => return Err(malformed(r, "expected `proc PID PPID COMM`")),
                }
            }
            "pidfile" => match r.args.trim().parse() {
                Ok(pid) => self.pidfile = Some(pid),
                Err(_) => warnings.push(format!("{KEEPALIVED_PIDFILE} holds `{}`, not a pid", clip(r.args))),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// keepalived and the other services; after the IPVS table is known.
    pub(super) fn finish(self, req: &ProbeRequest, facts: &mut Facts, warnings: &mut Vec<String>) {
        let keepalived: Vec<&Proc> = self.procs.iter().filter(|p| p.comm == "keepalived").collect();
        facts.keepalived.running = !keepalived.is_empty();
        facts.keepalived.pid = keepalived_pid(&keepalived, self.pidfile);
        if let Some(pid) = self.pidfile {
            if facts.keepalived.installed && !keepalived.iter().any(|p| p.pid == pid) {
                warnings.push(format!("{KEEPALIVED_PIDFILE} names pid {pid}, which is not a running keepalived (a stale pid file: reloads through it will fail)"));
            }
        }
        facts.services.insert("keepalived".into(), facts.keepalived.running);
        for svc in &req.services {
            let running = if svc == "ipvsadm" {
                // ipvsadm is no daemon: "running" is the kernel's IPVS table holding virtual services.
                matches!(&facts.ipvs, IpvsFact::Table(t) if !t.services.is_empty())
            } else {
                let comm = comm_name(svc);
                self.procs.iter().any(|p| p.comm == comm)
            };
            facts.services.insert(svc.clone(), running);
        }
    }
}

/// `Keepalived v2.2.7 (01/16,2022)` -> `2.2.7`.
fn keepalived_version(line: &str) -> Option<String> {
    let line = line.trim();
    let rest = line.strip_prefix("Keepalived ").or_else(|| line.strip_prefix("keepalived "))?;
    let word = rest.split_whitespace().next()?;
    let v = word.strip_prefix('v').unwrap_or(word);
    v.starts_with(|c: char| c.is_ascii_digit()).then(|| v.to_string())
}

/// The pid of keepalived's parent: the pid file's if that process is a keepalived, else the
/// lowest pid among keepalived processes whose parent is not a keepalived (its VRRP and checker
/// children are).
fn keepalived_pid(keepalived: &[&Proc], pidfile: Option<u32>) -> Option<u32> {
    if let Some(pid) = pidfile.filter(|pid| keepalived.iter().any(|p| p.pid == *pid)) {
        return Some(pid);
    }
    let parents = keepalived.iter().filter(|p| !keepalived.iter().any(|q| q.pid == p.ppid)).map(|p| p.pid).min();
    parents.or_else(|| keepalived.iter().map(|p| p.pid).min())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_parent_pid() {
        let procs = |v: &[(u32, u32)]| v.iter().map(|(pid, ppid)| Proc { pid: *pid, ppid: *ppid, comm: "keepalived".into() }).collect::<Vec<_>>();
        // (pid, ppid) of each keepalived, the pid file's pid, the parent's pid expected.
        type Case<'a> = (&'a [(u32, u32)], Option<u32>, Option<u32>);
        let cases: &[Case] = &[
            (&[], None, None),
            (&[(1403, 1402), (1402, 1), (1404, 1402)], None, Some(1402)),
            // Two independent keepalived trees (a second instance): the lowest parent.
            (&[(2001, 2000), (2000, 1), (1500, 1), (1501, 1500)], None, Some(1500)),
            // The pid file wins when it names a live keepalived, and is ignored when stale.
            (&[(2001, 2000), (2000, 1), (1500, 1)], Some(2000), Some(2000)),
            (&[(1403, 1402), (1402, 1)], Some(77), Some(1402)),
        ];
        for (list, pidfile, want) in cases {
            let procs = procs(list);
            let refs: Vec<&Proc> = procs.iter().collect();
            assert_eq!(keepalived_pid(&refs, *pidfile), *want, "{list:?} pidfile {pidfile:?}");
        }
    }
}
