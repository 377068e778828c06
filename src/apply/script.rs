//! The per-host transaction as ONE POSIX sh script, run in ONE exec.
//!
//! Steps, each announced as a `step NAME` record (`remote::protocol`): lock (refused, naming
//! the holder, when another apply holds it) -> check that the host still is as planned (files
//! by SHA-256, sysctl values) -> back up every file it will touch and the runtime values it
//! will change as generation N (0700/0600) -> write candidates next to their targets ->
//! validate them on the host (`keepalived -t -e -f`, `iptables-restore --test`, every
//! jumped-to chain declared) -> install them by rename -> activate in a safe order (ARP
//! sysctls before any VIP is bound, addresses, routes, lvsctl's chains with --noflush,
//! keepalived reload or start) -> verify (sysctls, addresses, chains, daemon alive) -> record
//! the generation and the manifest, release the lock.
//!
//! Any failure after the backup rolls the host back (files restored, previous sysctl values
//! written back, addresses, routes and chains restored, keepalived reloaded with the old
//! config) and reports `fail STEP MESSAGE`, then `rolledback N-1`. The script ignores SIGHUP
//! and SIGPIPE and logs to the generation directory: when the SSH connection is cut it still
//! finishes or rolls back, and releases the lock.
//!
//! The functions are the sh library `remote/sh/transaction.sh`; this file only turns a
//! `HostChanges` into calls of them, one a line, every argument quoted. It reads nothing but
//! the changes: whatever the transaction needs is in them (`changes.rs`).

use data_encoding::BASE64;

use crate::changes::{Change, FileAction, HostChanges, Verify};
use crate::plan::FileKind;
use crate::probe::proc_sys_path;
use crate::remote::{sq, Root, Script};

/// The transaction's sh library.
pub const LIBRARY: &str = include_str!("../remote/sh/transaction.sh");

/// What the script needs besides the changes: who runs it, and how.
pub struct TxnOptions<'a> {
    /// "user@runner pid N", written into the lock.
    pub holder: &'a str,
    pub break_lock: bool,
    /// Where the script runs: `Root::default()` on a real host; a directory tree in tests.
    pub root: Root,
    /// Activate together with the other hosts of the stage: once validated, the script says
    /// `ready` and waits for a line on its stdin: `go` installs and activates, anything else
    /// (or EOF) rolls back (`barrier` in transaction.sh).
    pub barrier: bool,
}

pub fn transaction(h: &HostChanges, o: &TxnOptions) -> String {
    let mut s = Script::new(&o.root);
    // Everything else in one brace group: `sh -s` reads it completely before running any of
    // it. Without that, sh runs commands as they arrive on stdin, and a connection cut while
    // the script is still in flight (sshd drops what it has not yet written into the pipe)
    // ends it half-way with the lock held (found in the VM lab, where sh reads slowly).
    s.line("{");
    // The commands run with stdin from /dev/null: the script's stdin stays open until the
    // barrier's word comes (fd 3), and a command reading stdin before it would wait for it
    // forever, the other directors waiting for this one.
    s.line("exec 3<&0 </dev/null");
    s.lib(crate::remote::LIBRARY);
    s.var("HOLDER", o.holder).var("BREAK_LOCK", if o.break_lock { "1" } else { "0" });
    s.lib(crate::plan::persistence::RECOVER_LIBRARY);
    s.lib(LIBRARY);
    s.line("take_lock");

    // Still as planned? Every file the changes touch and every sysctl they set.
    s.line("step check");
    for c in &h.changes {
        match c {
            Change::File(f) => match (&f.action, &f.before) {
                (FileAction::Create, _) => s.line(format!("absent_file {}", sq(&f.path))),
                (_, Some(before)) => s.line(format!("same_file {} {}", sq(&f.path), before.sha256)),
                (_, None) => &mut s,
            },
            Change::Sysctl { key, from: Some(from), .. } => s.line(format!("same_sysctl {} {}", sq(&proc_sys_path(key)), sq(from))),
            // Absent when probed: its module was not loaded, and anything may load it since
            // (the probe's own `iptables -t nat` loads nf_conntrack). Its value then is the
            // kernel's default, no one's change.
            _ => &mut s,
        };
    }
    s.line("check_done");

    // Generation N: backups and runtime values before, the record of what the host gets.
    s.line("begin_generation");
    for f in h.files() {
        s.line(format!("backup {}", sq(&f.path)));
    }
    for c in &h.changes {
        if let Change::Sysctl { key, .. } = c {
            s.line(format!("save_sysctl {}", sq(&proc_sys_path(key))));
        }
    }
    if let Some((targets, _)) = h.drain() {
        for t in targets {
            s.line(format!("drained {} {} {} {} {}", sq(&t.protocol_flag), sq(&t.vip), sq(&t.real_server), sq(&t.forward), t.weight));
        }
    }
    let record = serde_json::to_string(&h.record).expect("record serializes");
    s.line(format!("store_record {}", sq(&BASE64.encode(record.as_bytes()))));

    // Candidates next to their targets.
    s.line("step write");
    for f in h.files() {
        if let Some(after) = &f.after {
            s.line(format!("candidate {} {:o} {} {} {}", sq(&f.path), f.mode, sq(&f.owner), sq(&f.group), sq(&BASE64.encode(after.text.as_bytes()))));
        }
    }

    // Validate the candidates on the host, before anything becomes live.
    s.line("step validate");
    for f in h.files().filter(|f| f.after.is_some()) {
        match f.kind {
            FileKind::KeepalivedConf => s.line(format!("validate_keepalived {}", sq(&f.path))),
            FileKind::NatRules if crate::plan::is_ip6tables_file(&f.path) => s.line(format!("validate_nat6 {}", sq(&f.path))),
            FileKind::NatRules => s.line(format!("validate_nat {}", sq(&f.path))),
            _ => &mut s,
        };
    }

    // Install: units lvsctl drops are disabled while their files exist, then renames
    // (atomic per file), deletions, on disk; systemd reads changed units again.
    if o.barrier {
        s.line("barrier");
    }
    s.line("step install");
    for c in &h.changes {
        if let Change::Boot { unit, enable: false } = c {
            s.line(format!("boot_disable {}", sq(unit)));
        }
    }
    for f in h.files() {
        match f.action {
            FileAction::Create | FileAction::Update => s.line(format!("install_candidate {}", sq(&f.path))),
            FileAction::Delete => s.line(format!("remove_file {}", sq(&f.path))),
        };
    }
    if h.files().next().is_some() {
        s.line("installed");
    }
    if h.files().any(|f| f.kind == FileKind::SystemdUnit) {
        s.line("daemon_reload");
    }

    // Activate: modules first (ipip creates tunl0, whose sysctls and addresses follow), then
    // sysctls in plan order (ARP ones first), addresses, routes, chains, services: the
    // changes are already in that order.
    s.line("step activate");
    for m in &h.kernel_modules {
        s.line(format!("load_module {}", sq(m)));
    }
    for c in &h.changes {
        match c {
            Change::Sysctl { key, to, .. } => s.line(format!("set_sysctl {} {}", sq(&proc_sys_path(key)), sq(to))),
            Change::AddressRemove { address: a } => s.line(format!("addr_del {}/{} {}", a.ip, a.prefix, sq(&a.dev))),
            Change::AddressAdd { address: a } => {
                let label = a.label.as_ref().map(|l| format!(" {}", sq(l))).unwrap_or_default();
                s.line(format!("addr_add {}/{} {}{label}", a.ip, a.prefix, sq(&a.dev)))
            }
            Change::RouteRemove { route: r } => s.line(format!("route_del {} {} {}", sq(&r.destination), r.via, sq(&r.dev))),
            Change::RouteAdd { route: r } => s.line(format!("route_replace {} {} {}", sq(&r.destination), r.via, sq(&r.dev))),
            Change::NatRules { file, chains } => s.line(format!("nat_load {} {}", sq(file), chains.iter().map(|c| sq(c)).collect::<Vec<_>>().join(" "))),
            Change::ChainsRemove { chains } => s.line(format!("chains_remove {}", chains.iter().map(|c| sq(c)).collect::<Vec<_>>().join(" "))),
            // A drifted IPVS table is rebuilt by its service's action (see changes.rs).
            Change::Service { name, action, rules_file } | Change::IpvsTable { service: name, action, rules_file, .. } => {
                let rules = rules_file.as_deref().map(|r| format!(" {}", sq(r))).unwrap_or_default();
                s.line(format!("service_do {} {}{rules}", sq(name), action.as_str()))
            }
            Change::Boot { unit, enable: true } => s.line(format!("boot_enable {}", sq(unit))),
            // Drained before the transaction (`drain`); its record below gives the weights back
            // on a rollback.
            Change::File(_) | Change::Boot { .. } | Change::Drain { .. } => &mut s,
        };
    }

    // Verify what is now live.
    s.line("step verify");
    for v in &h.verify {
        match v {
            Verify::Sysctl { key, value } => s.line(format!("verify_sysctl {} {}", sq(&proc_sys_path(key)), sq(value))),
            Verify::Address { address: a } => s.line(format!("verify_addr {} {}", sq(&format!("{}/{}", a.ip, a.prefix)), sq(&a.dev))),
            Verify::NatChain { chain } => s.line(format!("verify_chain {}", sq(chain))),
            Verify::KeepalivedRunning => s.line("verify_keepalived"),
            Verify::Enabled { unit } => s.line(format!("verify_enabled {}", sq(unit))),
            Verify::IpvsTable { rules_file } => s.line(format!("verify_ipvs {}", sq(rules_file))),
        };
    }

    // Record: the manifest for the next plan, the list of files the probe reads.
    let manifest = serde_json::to_string(&h.record.manifest()).expect("manifest serializes");
    let managed: String = h.record.files.iter().map(|f| format!("{}\n", f.path)).collect();
    s.line(format!("finish_generation {} {}", sq(&manifest), sq(&managed)));
    s.line("}");
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ipvsadm engine's director with a drifted table: the transaction loads the rules with
    /// ipvsadm-restore (through `service_do`), and the script is valid sh for dash and busybox.
    #[test]
    fn an_ipvs_rebuild_is_one_service_action_in_a_valid_script() {
        let cluster = crate::ipvs::testing::example("dr-ipvsadm-single.yml");
        let plans = crate::plan::build(&cluster, &crate::render::Templates::new(None).unwrap()).unwrap();
        let plan = plans.iter().find(|p| p.host == "lvs1").unwrap();
        let mut h = crate::changes::compute(plan, &crate::facts::Facts::default(), &crate::plan::Secrets::default());
        h.changes = vec![Change::IpvsTable {
            service: "ipvsadm".into(),
            action: crate::changes::ServiceAction::Reload,
            rules_file: Some("/etc/sysconfig/ipvsadm".into()),
            differences: vec!["TCP 10.77.0.100:80 wrr: scheduler rr (want wrr)".into()],
        }];
        let o = TxnOptions { holder: "test", break_lock: false, root: Root::default(), barrier: false };
        let script = transaction(&h, &o);
        assert!(script.contains("\nservice_do 'ipvsadm' reload '/etc/sysconfig/ipvsadm'\n"), "{script}");
        for shell in [&["dash", "-n"][..], &["busybox", "sh", "-n"][..]] {
            let Ok(mut child) = std::process::Command::new(shell[0]).args(&shell[1..]).stdin(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn() else {
                eprintln!("{} skipped: not installed", shell[0]);
                continue;
            };
            {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
            }
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{shell:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

#[cfg(test)]
mod transaction_tests;

#[cfg(test)]
mod transaction_snapshots;

/// The drain library: weights to 0 and the wait for active connections to end.
pub const DRAIN_LIBRARY: &str = include_str!("../remote/sh/drain.sh");

/// Before a director's transaction: its real servers that the new configuration removes get
/// weight 0, then the script waits until none has an active connection or the timeout
/// passes, reporting the count each second (`draining N`). None when nothing is drained.
pub fn drain(h: &HostChanges, root: &Root) -> Option<String> {
    let (targets, timeout) = h.drain()?;
    let mut s = Script::new(root);
    s.line("{");
    // The commands run with stdin from /dev/null: the script's stdin stays open until the
    // barrier's word comes (fd 3), and a command reading stdin before it would wait for it
    // forever, the other directors waiting for this one.
    s.line("exec 3<&0 </dev/null");
    s.lib(crate::remote::LIBRARY);
    s.lib(DRAIN_LIBRARY);
    for t in targets {
        s.line(format!("drain {} {} {} {} {}", sq(&t.protocol_flag), sq(&t.vip), sq(&t.real_server), sq(&t.forward), sq(&t.service)));
    }
    s.line(format!("drain_wait {timeout}"));
    s.line("rec end");
    s.line("}");
    Some(s.finish())
}

/// The weights back, for a host whose transaction never ran after its drain (another
/// stage failed, the host changed since the plan, Ctrl-C).
pub fn undrain(h: &HostChanges, root: &Root) -> Option<String> {
    let (targets, _) = h.drain()?;
    let mut s = Script::new(root);
    s.line("{");
    // The commands run with stdin from /dev/null: the script's stdin stays open until the
    // barrier's word comes (fd 3), and a command reading stdin before it would wait for it
    // forever, the other directors waiting for this one.
    s.line("exec 3<&0 </dev/null");
    s.lib(crate::remote::LIBRARY);
    s.lib(DRAIN_LIBRARY);
    for t in targets {
        s.line(format!("undrain {} {} {} {} {}", sq(&t.protocol_flag), sq(&t.vip), sq(&t.real_server), sq(&t.forward), t.weight));
    }
    s.line("rec end");
    s.line("}");
    Some(s.finish())
}
