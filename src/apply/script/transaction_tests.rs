//! The transaction run for real, offline: the script `transaction` writes, run by dash and by
//! busybox sh against a directory tree standing for a host (`Root`), with pretend host tools
//! first on its PATH (tests/transaction/bin/fake: `ip`, `iptables*`, `keepalived`,
//! `systemctl`, `service`, `modprobe`, `ipvsadm-*`, `chown`, `mv`). The fakes log what they
//! are asked and keep the host's runtime state (addresses, links, routes, nat chains, the IPVS
//! table, a keepalived in $ROOT/proc and the configuration it loaded), so the transaction's
//! own checks see a host that behaves, and a test reads that state back.
//!
//! Why: the transaction is the one part of lvsctl that changes hosts, and it promises all or
//! nothing: applied and verified, or rolled back to the host as it was. The netns lab proves
//! that against real tools, but needs root and the lab to itself; these cases run anywhere in
//! seconds, so every step's failure and its rollback is pinned, the host compared byte for
//! byte before and after.
//!
//! The cases are data (`cases()`): a host of an example playbook, fresh or at an older
//! generation, what goes wrong on it, and what must come out: the records and the outcome
//! apply reads from them, the tools' calls in order, and for a failure the rollback's calls
//! and the host exactly as it was. Facts are read from the tree the way the probe reads a host
//! (`Host::facts`), so a success also proves the next plan is empty. What the fakes cannot
//! show: real validators (tests/fixtures.rs runs `keepalived -t`), real processes, a real
//! kernel (the labs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{transaction, TxnOptions};
use crate::apply::{Outcome, TxnRecords};
use crate::changes::{compute, HostChanges};
use crate::facts::{Facts, FileFact, Manifest};
use crate::plan::{director, Address, HostPlan, Route, Secrets, SYSCTL_FILE};
use crate::probe::proc_sys_path;
use crate::remote::{layout, Root};

const HOLDER: &str = "lvsctl apply by test@runner pid 1";
const OTHER_HOLDER: &str = "lvsctl apply by alice@laptop pid 77 since 2026-01-01T00:00:00Z";

// ---- The cases ----

/// The host before the apply under test.
#[derive(Clone, Copy)]
enum Before {
    /// Never touched by lvsctl: no files of ours, the kernel's default sysctls.
    Fresh,
    /// Generation 1 applied (by the transaction itself) from an older topology: the plan as
    /// edited by the function.
    Applied(fn(&mut HostPlan)),
}

/// What the host is like, or what happens to it between the plan and the apply.
#[derive(Clone, Copy)]
enum Setup {
    /// A fake tool misbehaves: `fail|once|noop|late PATTERN` (tests/transaction/bin/fake).
    Fault(&'static str),
    /// keepalived accepts the planned configuration (`keepalived -t`), then exits right after
    /// starting or reloading with it.
    KeepalivedDies,
    /// The host has no such network device (no /proc/sys/net/ipv4/conf/DEV, no link).
    NoDevice(&'static str),
    /// No systemd: services go through `service NAME ACTION`.
    NoSystemd,
    /// The host has no default route.
    NoDefaultRoute,
    /// Another apply holds the lock.
    LockHeld,
    /// Run with --break-lock.
    BreakLock,
    /// A power cut came between taking the lock and writing which boot took it: a lock with
    /// a holder but no boot id, last changed an hour ago, on a host up for a minute.
    LockCutShort,
    /// Between plan and apply, someone appends to a file.
    EditedSincePlan(&'static str),
    /// Between plan and apply, someone sets a sysctl.
    SysctlSincePlan(&'static str, &'static str),
}

impl Setup {
    /// What the host is like, set up before any generation; the rest happens just before the
    /// apply under test, after its plan.
    fn is_the_host(&self) -> bool {
        matches!(self, Setup::NoDevice(_) | Setup::NoSystemd | Setup::NoDefaultRoute)
    }
}

#[derive(Clone, Copy)]
enum Want {
    /// `done N`; `log`: calls of the fake tools that must appear in this order.
    Applied { generation: u64, log: &'static [&'static str] },
    /// `fail STEP MESSAGE`, the rollback, `rolledback GENERATION`; the host as before; `undo`:
    /// calls that must follow the failing one, in this order; `never`: calls that must not
    /// appear at all (a step that must not have been reached).
    RolledBack { step: &'static str, message: &'static str, generation: u64, undo: &'static [&'static str], never: &'static [&'static str] },
    /// `locked HOLDER`: nothing written, the other apply's lock kept.
    Locked,
    /// `changed PATHS`: nothing written, the lock released.
    ChangedSincePlan(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    playbook: &'static str,
    host: &'static str,
    before: Before,
    setup: &'static [Setup],
    want: Want,
}

fn cases() -> Vec<Case> {
    use Before::*;
    use Setup::*;
    vec![
        // ---- Success ----
        Case {
            name: "a fresh DR real server: ARP sysctls before its VIP is bound",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            before: Fresh,
            setup: &[],
            want: Want::Applied {
                generation: 1,
                log: &[
                    "chown root:root $ROOT/etc/sysconfig/network-scripts/.lvsctl-new.ifcfg-lo:0",
                    "mv -f $ROOT/etc/sysconfig/network-scripts/.lvsctl-new.ifcfg-lo:0 $ROOT/etc/sysconfig/network-scripts/ifcfg-lo:0",
                    "mv -f $ROOT/etc/sysctl.d/.lvsctl-new.90-lvsctl.conf $ROOT/etc/sysctl.d/90-lvsctl.conf",
                    "ip addr replace 10.77.0.100/32 dev lo label lo:0",
                    "  sees arp_ignore=1 arp_announce=2",
                    "ip -o addr show dev lo up",
                ],
            },
        },
        Case {
            name: "a fresh keepalived director: keepalived -t on the candidate, installed, then started",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            before: Fresh,
            setup: &[],
            want: Want::Applied {
                generation: 1,
                log: &[
                    "keepalived -t -e -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf",
                    "mv -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf $ROOT/etc/keepalived/keepalived.conf",
                    "systemctl start keepalived",
                ],
            },
        },
        Case {
            name: "a fresh router: rules tested, the chains loaded without flushing the host's own, in one iptables-restore",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            before: Fresh,
            setup: &[],
            want: Want::Applied {
                generation: 1,
                log: &[
                    "iptables-restore --test $ROOT/etc/lvsctl/.lvsctl-new.router-nat.rules",
                    "mv -f $ROOT/etc/lvsctl/.lvsctl-new.router-nat.rules $ROOT/etc/lvsctl/router-nat.rules",
                    "iptables -t nat -S PREROUTING",
                    "iptables-restore --noflush $ROOT/var/lib/lvsctl/generations/1/nat.rules",
                    "iptables -t nat -S LVSCTL-PREROUTING",
                    "iptables -t nat -S LVSCTL-POSTROUTING",
                ],
            },
        },
        Case {
            name: "a fresh TUN real server: modprobe ipip, tunl0 up, then its VIP",
            playbook: "tun-keepalived.yml",
            host: "web1",
            before: Fresh,
            setup: &[],
            want: Want::Applied {
                generation: 1,
                log: &["modprobe ipip", "ip link set dev tunl0 up", "ip addr replace 10.77.0.53/32 dev tunl0", "  sees arp_ignore=1 arp_announce=2"],
            },
        },
        Case {
            name: "a fresh ipvsadm director: VIPs, then the rules loaded with ipvsadm-restore",
            playbook: "nat-director.yml",
            host: "lvs1",
            before: Fresh,
            setup: &[],
            want: Want::Applied {
                generation: 1,
                log: &[
                    "ip addr replace 10.77.0.100/32 dev eth0 label eth0:0",
                    "ip addr replace 10.77.1.254/24 dev eth1 label eth1:0",
                    "ipvsadm-save -n",
                    "ipvsadm-restore",
                ],
            },
        },
        Case {
            name: "a fresh NAT real server: its default route through the director",
            playbook: "nat-director.yml",
            host: "web1",
            before: Fresh,
            setup: &[],
            want: Want::Applied { generation: 1, log: &["ip route replace default via 10.77.1.254 dev eth0"] },
        },
        Case {
            name: "a fresh keepalived director without systemd: `service keepalived start`",
            playbook: "dr-keepalived-single.yml",
            host: "lvs1",
            before: Fresh,
            setup: &[NoSystemd],
            want: Want::Applied { generation: 1, log: &["service keepalived start"] },
        },
        Case {
            name: "a lock a power cut left before it named its boot: stale, taken over",
            playbook: "dr-keepalived-single.yml",
            host: "web1",
            before: Fresh,
            setup: &[LockCutShort],
            want: Want::Applied { generation: 1, log: &["ip addr replace 10.77.0.100/32 dev lo label lo:0"] },
        },
        Case {
            name: "a held lock broken with --break-lock",
            playbook: "dr-keepalived-single.yml",
            host: "web1",
            before: Fresh,
            setup: &[LockHeld, BreakLock],
            want: Want::Applied { generation: 1, log: &["ip addr replace 10.77.0.100/32 dev lo label lo:0"] },
        },
        Case {
            name: "an update: keepalived.conf changed, backed up, reloaded",
            playbook: "dr-keepalived-pair-sync.yml",
            host: "lvs2",
            before: Applied(older_keepalived_conf),
            setup: &[],
            want: Want::Applied {
                generation: 2,
                log: &[
                    "keepalived -t -e -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf",
                    "mv -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf $ROOT/etc/keepalived/keepalived.conf",
                    "systemctl reload keepalived",
                ],
            },
        },
        Case {
            name: "an update: a VIP the topology dropped removed with its file, a mode fixed, a sysctl changed",
            playbook: "dr-keepalived-sorry-quorum.yml",
            host: "web2",
            before: Applied(older_real_server),
            setup: &[],
            want: Want::Applied {
                generation: 2,
                log: &[
                    "mv -f $ROOT/etc/sysconfig/network-scripts/.lvsctl-new.ifcfg-lo:1 $ROOT/etc/sysconfig/network-scripts/ifcfg-lo:1",
                    "ip addr del 10.77.0.109/32 dev lo",
                ],
            },
        },
        Case {
            // Never unhooked first: between that and the restore, new connections reached the
            // router itself and were refused (VM lab, under load).
            name: "an update: the router's rules changed, reloaded with --noflush in one commit, its hooked jumps left in place",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            before: Applied(older_router_rules),
            setup: &[],
            want: Want::Applied { generation: 2, log: &["iptables -t nat -S PREROUTING", "iptables-restore --noflush $ROOT/var/lib/lvsctl/generations/2/nat.rules"] },
        },
        // ---- Nothing done ----
        Case {
            name: "another apply holds the lock: nothing changed, its lock kept",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            before: Applied(older_keepalived_conf),
            setup: &[LockHeld],
            want: Want::Locked,
        },
        Case {
            name: "the sysctl file and a sysctl edited since the plan: nothing written",
            playbook: "dr-keepalived-sorry-quorum.yml",
            host: "web2",
            before: Applied(older_real_server),
            setup: &[EditedSincePlan(SYSCTL_FILE), SysctlSincePlan("net.ipv4.conf.lo.arp_announce", "0")],
            want: Want::ChangedSincePlan(&["/etc/sysctl.d/90-lvsctl.conf", "/proc/sys/net/ipv4/conf/lo/arp_announce"]),
        },
        Case {
            name: "keepalived.conf edited since the plan: nothing written",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            before: Applied(older_keepalived_conf),
            setup: &[EditedSincePlan(director::KEEPALIVED_CONF)],
            want: Want::ChangedSincePlan(&["/etc/keepalived/keepalived.conf"]),
        },
        Case {
            name: "a file the plan creates appeared since the plan: nothing written",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            before: Fresh,
            setup: &[EditedSincePlan("/etc/sysconfig/network-scripts/ifcfg-lo:0")],
            want: Want::ChangedSincePlan(&["/etc/sysconfig/network-scripts/ifcfg-lo:0"]),
        },
        // ---- Failures, each rolled back ----
        Case {
            name: "validate: keepalived -t rejects the candidate; the running keepalived untouched",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            before: Applied(older_keepalived_conf),
            setup: &[Fault("fail keepalived -t *")],
            want: Want::RolledBack {
                step: "validate",
                message: "keepalived -t -e -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf : keepalived: failed (fault injected by the test)",
                generation: 1,
                undo: &[],
                never: &["mv -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf $ROOT/etc/keepalived/keepalived.conf", "systemctl reload keepalived"],
            },
        },
        Case {
            name: "validate: iptables-restore --test rejects the router's rules",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            before: Fresh,
            setup: &[Fault("fail iptables-restore --test *")],
            want: Want::RolledBack {
                step: "validate",
                message: "iptables-restore --test $ROOT/etc/lvsctl/.lvsctl-new.router-nat.rules : iptables-restore: failed (fault injected by the test)",
                generation: 0,
                undo: &[],
                never: &["iptables-restore --noflush $ROOT/var/lib/lvsctl/generations/1/nat.rules"],
            },
        },
        Case {
            name: "install: the second rename fails; the first file, a mode-only update, gets its mode back",
            playbook: "dr-keepalived-sorry-quorum.yml",
            host: "web2",
            before: Applied(older_real_server),
            setup: &[Fault("fail mv -f *.lvsctl-new.ifcfg-lo:2 *")],
            want: Want::RolledBack {
                step: "install",
                message: "cannot rename into /etc/sysconfig/network-scripts/ifcfg-lo:2",
                generation: 1,
                undo: &[],
                never: &["ip addr del 10.77.0.109/32 dev lo"],
            },
        },
        Case {
            name: "activate: a sysctl of a device the director lacks; the sysctls set before it restored",
            playbook: "nat-keepalived-pair.yml",
            host: "lvs1",
            before: Fresh,
            setup: &[NoDevice("eth1")],
            want: Want::RolledBack {
                step: "activate",
                message: "cannot set /proc/sys/net/ipv4/conf/eth1/send_redirects to 0",
                generation: 0,
                undo: &[],
                never: &["systemctl start keepalived"],
            },
        },
        Case {
            name: "activate: the second VIP cannot be added; the first removed again",
            playbook: "dr-keepalived-sorry-quorum.yml",
            host: "web1",
            before: Fresh,
            setup: &[Fault("fail ip addr replace 10.77.0.101/32 *")],
            want: Want::RolledBack {
                step: "activate",
                message: "ip addr replace 10.77.0.101/32 dev lo label lo:1 : ip: failed (fault injected by the test)",
                generation: 0,
                undo: &["ip addr del 10.77.0.100/32 dev lo"],
                never: &["ip addr replace 10.77.0.102/32 dev lo label lo:2"],
            },
        },
        Case {
            name: "activate: a VIP the topology dropped is removed, then a new one fails; the old VIP back with its label",
            playbook: "dr-keepalived-sorry-quorum.yml",
            host: "web2",
            before: Applied(older_real_server),
            setup: &[Fault("fail ip addr replace 10.77.0.102/32 *")],
            want: Want::RolledBack {
                step: "activate",
                message: "ip addr replace 10.77.0.102/32 dev lo label lo:2 : ip: failed (fault injected by the test)",
                generation: 1,
                undo: &["ip addr del 10.77.0.102/32 dev lo", "ip addr add 10.77.0.109/32 dev lo label lo:9"],
                never: &[],
            },
        },
        Case {
            name: "activate: the default route cannot be replaced; the old one stays",
            playbook: "nat-director.yml",
            host: "web2",
            before: Fresh,
            setup: &[Fault("fail ip route replace default via 10.77.1.254 *")],
            want: Want::RolledBack {
                step: "activate",
                message: "ip route replace default via 10.77.1.254 dev eth0 : ip: failed (fault injected by the test)",
                generation: 0,
                undo: &["ip route replace default via 10.77.0.1 dev eth0"],
                never: &[],
            },
        },
        Case {
            name: "activate: iptables-restore --noflush fails on an update; the old chains loaded back",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            before: Applied(older_router_rules),
            setup: &[Fault("fail iptables-restore --noflush */nat.rules")],
            want: Want::RolledBack {
                step: "activate",
                message: "iptables-restore --noflush $ROOT/var/lib/lvsctl/generations/2/nat.rules : iptables-restore: failed (fault injected by the test)",
                generation: 1,
                undo: &["iptables -t nat -F LVSCTL-PREROUTING", "iptables -t nat -X LVSCTL-PREROUTING", "iptables-restore --noflush"],
                never: &[],
            },
        },
        Case {
            name: "activate: the IPv6 forwards' ip6tables-restore fails on a fresh router; both families' chains removed",
            playbook: "dr-keepalived-dual-stack.yml",
            host: "gw",
            before: Fresh,
            setup: &[Fault("fail ip6tables-restore --noflush */nat.rules")],
            want: Want::RolledBack {
                step: "activate",
                message: "ip6tables-restore --noflush $ROOT/var/lib/lvsctl/generations/1/nat.rules : ip6tables-restore: failed (fault injected by the test)",
                generation: 0,
                undo: &["iptables -t nat -X LVSCTL-PREROUTING", "ip6tables -t nat -X LVSCTL-PREROUTING"],
                never: &[],
            },
        },
        Case {
            name: "activate: ip6tables-restore fails on an update of the IPv6 forwards; the old ip6tables chains loaded back",
            playbook: "dr-keepalived-dual-stack.yml",
            host: "gw",
            before: Applied(older_router6_rules),
            setup: &[Fault("fail ip6tables-restore --noflush */nat.rules")],
            want: Want::RolledBack {
                step: "activate",
                message: "ip6tables-restore --noflush $ROOT/var/lib/lvsctl/generations/2/nat.rules : ip6tables-restore: failed (fault injected by the test)",
                generation: 1,
                undo: &["ip6tables -t nat -F LVSCTL-PREROUTING", "ip6tables -t nat -X LVSCTL-PREROUTING", "ip6tables-restore --noflush"],
                never: &[],
            },
        },
        Case {
            name: "the last firewall-mark service gone: the mark chain unhooked and deleted, its file removed",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            before: Applied(with_mark_chain),
            setup: &[],
            want: Want::Applied {
                generation: 2,
                log: &["iptables -t mangle -D PREROUTING -j LVSCTL-FWMARK", "iptables -t mangle -F LVSCTL-FWMARK", "iptables -t mangle -X LVSCTL-FWMARK"],
            },
        },
        Case {
            name: "activate: deleting the dropped mark chain fails; the chain loaded back as it was",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            before: Applied(with_mark_chain),
            setup: &[Fault("fail iptables -t mangle -X *")],
            want: Want::RolledBack {
                step: "activate",
                message: "iptables -t mangle -X LVSCTL-FWMARK : iptables: failed (fault injected by the test)",
                generation: 1,
                undo: &["iptables-restore --noflush"],
                never: &[],
            },
        },
        Case {
            name: "activate: keepalived reload fails once; the old configuration restored and reloaded",
            playbook: "dr-keepalived-pair-sync.yml",
            host: "lvs1",
            before: Applied(older_keepalived_conf),
            setup: &[Fault("once systemctl reload keepalived")],
            want: Want::RolledBack {
                step: "activate",
                message: "service keepalived reload failed (see $ROOT/var/lib/lvsctl/generations/2/log)",
                generation: 1,
                undo: &["mv -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf $ROOT/etc/keepalived/keepalived.conf", "systemctl reload keepalived"],
                never: &[],
            },
        },
        Case {
            name: "activate: systemd says keepalived failed to start, but it runs; stopped again, files removed",
            playbook: "dr-keepalived-router.yml",
            host: "lvs2",
            before: Fresh,
            setup: &[Fault("late systemctl start keepalived")],
            want: Want::RolledBack {
                step: "activate",
                message: "service keepalived start failed (see $ROOT/var/lib/lvsctl/generations/1/log)",
                generation: 0,
                undo: &["systemctl stop keepalived"],
                never: &[],
            },
        },
        Case {
            name: "activate: ipvsadm-restore fails after loading; VIPs removed, the IPVS table as before",
            playbook: "nat-director.yml",
            host: "lvs1",
            before: Fresh,
            setup: &[Fault("late ipvsadm-restore")],
            want: Want::RolledBack {
                step: "activate",
                message: "service ipvsadm start failed (see $ROOT/var/lib/lvsctl/generations/1/log)",
                generation: 0,
                undo: &["ip addr del 10.77.0.100/32 dev eth0", "ip addr del 10.77.1.254/24 dev eth1", "ipvsadm-restore"],
                never: &[],
            },
        },
        Case {
            name: "verify: a VIP does not stick; removed, ARP sysctls restored",
            playbook: "dr-ipvsadm-single.yml",
            host: "web1",
            before: Fresh,
            setup: &[Fault("noop ip addr replace 10.77.0.100/32 *")],
            want: Want::RolledBack {
                step: "verify",
                message: "10.77.0.100/32 is not on lo (or lo is down)",
                generation: 0,
                undo: &["ip addr del 10.77.0.100/32 dev lo"],
                never: &[],
            },
        },
        Case {
            name: "verify: a chain missing after the load; the chains removed",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            before: Fresh,
            setup: &[Fault("noop iptables-restore --noflush *")],
            want: Want::RolledBack {
                step: "verify",
                message: "chain LVSCTL-PREROUTING is missing",
                generation: 0,
                undo: &["iptables -t nat -D PREROUTING -j LVSCTL-PREROUTING"],
                never: &[],
            },
        },
        Case {
            name: "verify: keepalived exits after starting; stopped, files removed",
            playbook: "dr-keepalived-single.yml",
            host: "lvs1",
            before: Fresh,
            setup: &[KeepalivedDies],
            want: Want::RolledBack {
                step: "verify",
                message: "keepalived is not running (see /var/log or journalctl; $ROOT/var/lib/lvsctl/generations/1/log)",
                generation: 0,
                undo: &["systemctl stop keepalived"],
                never: &[],
            },
        },
        Case {
            name: "verify: keepalived exits on reloading the new configuration; started again with the old one",
            playbook: "dr-keepalived-pair-sync.yml",
            host: "lvs1",
            before: Applied(older_keepalived_conf),
            setup: &[KeepalivedDies],
            want: Want::RolledBack {
                step: "verify",
                message: "keepalived is not running (see /var/log or journalctl; $ROOT/var/lib/lvsctl/generations/2/log)",
                generation: 1,
                undo: &["systemctl reload keepalived", "systemctl start keepalived"],
                never: &[],
            },
        },
        Case {
            name: "record: the manifest cannot be written; the old default route back",
            playbook: "nat-director.yml",
            host: "web1",
            before: Fresh,
            setup: &[Fault("fail mv -f *manifest.json.new *")],
            want: Want::RolledBack {
                step: "record",
                message: "cannot write the manifest",
                generation: 0,
                undo: &["ip route replace default via 10.77.0.1 dev eth0"],
                never: &[],
            },
        },
        Case {
            name: "record: the managed-files list cannot be written; the manifest as it was",
            playbook: "dr-keepalived-sorry-quorum.yml",
            host: "web1",
            before: Applied(older_real_server),
            setup: &[Fault("fail mv -f *managed-files.new *")],
            want: Want::RolledBack { step: "record", message: "cannot write the managed-files list", generation: 1, undo: &[], never: &[] },
        },
        Case {
            name: "record: the generation number cannot be written; not `done` with the old number",
            playbook: "dr-keepalived-router.yml",
            host: "lvs2",
            before: Applied(older_keepalived_conf),
            setup: &[Fault("fail mv -f *generation.new *")],
            want: Want::RolledBack {
                step: "record",
                message: "cannot write the generation number",
                generation: 1,
                undo: &["mv -f $ROOT/etc/keepalived/.lvsctl-new.keepalived.conf $ROOT/etc/keepalived/keepalived.conf", "systemctl reload keepalived"],
                never: &[],
            },
        },
        Case {
            name: "record fails on a NAT real server that had no default route: the route added removed",
            playbook: "nat-director.yml",
            host: "web2",
            before: Fresh,
            setup: &[NoDefaultRoute, Fault("fail mv -f *manifest.json.new *")],
            want: Want::RolledBack {
                step: "record",
                message: "cannot write the manifest",
                generation: 0,
                undo: &["ip route del default"],
                never: &[],
            },
        },
    ]
}

// ---- Older generations (the `Before::Applied` edits) ----

fn file_mut<'a>(p: &'a mut HostPlan, path: &str) -> &'a mut crate::plan::ManagedFile {
    p.files.iter_mut().find(|f| f.path == path).unwrap_or_else(|| panic!("{} has no {path}", p.host))
}

/// keepalived.conf as an older topology rendered it.
fn older_keepalived_conf(p: &mut HostPlan) {
    file_mut(p, director::KEEPALIVED_CONF).content.push_str("# generation 1\n");
}

/// The router's rules with an older public address.
/// A director whose topology had a firewall-mark service: lvsctl's mangle chain loaded.
fn with_mark_chain(p: &mut HostPlan) {
    let rules = "*mangle\n:LVSCTL-FWMARK - [0:0]\n-A PREROUTING -j LVSCTL-FWMARK\n-A LVSCTL-FWMARK -d 10.77.0.101/32 -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1\nCOMMIT\n";
    p.add_file(crate::plan::fwmark::RULES_FILE.into(), rules.into(), 0o640, false);
    p.nat_chains = vec!["mangle:LVSCTL-FWMARK".into()];
}

fn older_router_rules(p: &mut HostPlan) {
    let f = file_mut(p, crate::plan::router::RULES_FILE);
    f.content = f.content.replace("10.77.9.2", "10.77.9.3");
}

/// The router's IPv6 forwards from another public address.
fn older_router6_rules(p: &mut HostPlan) {
    let f = file_mut(p, crate::plan::router::RULES6_FILE);
    f.content = f.content.replace("fd77:9::2", "fd77:9::3");
}

/// A real server that had a fourth VIP (lo:9, dropped since), no lo:2 yet, ifcfg-lo:1 at mode
/// 0600 and arp_announce at 1.
fn older_real_server(p: &mut HostPlan) {
    let dir = crate::plan::NETWORK_SCRIPTS;
    let lo2 = format!("{dir}/ifcfg-lo:2");
    p.files.retain(|f| f.path != lo2);
    p.addresses.retain(|a| a.label.as_deref() != Some("lo:2"));
    file_mut(p, &format!("{dir}/ifcfg-lo:1")).mode = 0o600;
    let mut lo9 = file_mut(p, &format!("{dir}/ifcfg-lo:0")).clone();
    lo9.path = format!("{dir}/ifcfg-lo:9");
    lo9.content = lo9.content.replace("lo:0", "lo:9").replace("10.77.0.100", "10.77.0.109");
    p.files.push(lo9);
    p.files.sort_by(|a, b| a.path.cmp(&b.path));
    p.addresses.push(Address { ip: "10.77.0.109".parse().unwrap(), prefix: 32, dev: "lo".into(), label: Some("lo:9".into()) });
    for s in &mut p.sysctls {
        if s.key.ends_with("arp_announce") {
            s.value = "1".into();
        }
    }
    let sysctl = file_mut(p, SYSCTL_FILE);
    sysctl.content = sysctl.content.replace("arp_announce = 2", "arp_announce = 1");
}

// ---- A host: a directory tree and the fakes' state ----

/// lvsctl's generations on a host (remote::layout).
fn generations_dir() -> String {
    format!("{}/generations", layout::STATE_DIR)
}

fn generation_dir(n: u64) -> String {
    format!("{}/{n}", generations_dir())
}

fn record_path(n: u64) -> String {
    format!("{}/record.json", generation_dir(n))
}

/// The kernel's defaults for the per-device sysctls a fresh host has.
const DEVICE_SYSCTLS: [(&str, &str); 4] = [("arp_ignore", "0"), ("arp_announce", "0"), ("rp_filter", "1"), ("send_redirects", "1")];

struct Host {
    dir: PathBuf,
    root: PathBuf,
    state: PathBuf,
}

fn write(path: &Path, content: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

impl Host {
    /// A host lvsctl never touched: lo, eth0 and eth1 up with an address each, a default route,
    /// one nat rule of its own, systemd, an init and an sshd in /proc.
    fn fresh(dir: PathBuf) -> Host {
        let _ = std::fs::remove_dir_all(&dir);
        let host = Host { root: dir.join("root"), state: dir.join("fake"), dir };
        for dev in ["all", "default", "lo", "eth0", "eth1"] {
            for (key, value) in DEVICE_SYSCTLS {
                write(&host.root.join(format!("proc/sys/net/ipv4/conf/{dev}/{key}")), format!("{value}\n").as_bytes(), 0o644);
            }
        }
        write(&host.root.join("proc/sys/net/ipv4/ip_forward"), b"0\n", 0o644);
        write(&host.root.join("proc/sys/net/ipv6/conf/all/forwarding"), b"0\n", 0o644);
        for (pid, comm, ppid) in [(1, "systemd", 0), (612, "sshd", 1)] {
            write(&host.root.join(format!("proc/{pid}/comm")), format!("{comm}\n").as_bytes(), 0o444);
            write(&host.root.join(format!("proc/{pid}/status")), format!("Name:\t{comm}\nPPid:\t{ppid}\n").as_bytes(), 0o444);
        }
        std::fs::create_dir_all(host.root.join("run/systemd/system")).unwrap();
        write(&host.root.join("etc/hostname"), b"host\n", 0o644);
        host.set_state("links", "lo up\neth0 up\neth1 up\n");
        host.set_state("addrs", "lo 127.0.0.1/8 -\neth0 10.77.0.50/24 -\neth1 10.77.1.50/24 -\n");
        host.set_state("routes", "default via 10.77.0.1 dev eth0\n10.77.0.0/24 dev eth0 proto kernel scope link src 10.77.0.50\n");
        host.set_state("nat", "-A POSTROUTING -o eth1 -j MASQUERADE\n");
        host.set_state("ipvs", "");
        host.set_state("log", "");
        host
    }

    fn set_state(&self, name: &str, content: &str) {
        write(&self.state.join(name), content.as_bytes(), 0o644);
    }

    fn state(&self, name: &str) -> String {
        std::fs::read_to_string(self.state.join(name)).unwrap_or_default()
    }

    fn path(&self, host_path: &str) -> PathBuf {
        self.root.join(host_path.trim_start_matches('/'))
    }

    fn read(&self, host_path: &str) -> Option<String> {
        std::fs::read_to_string(self.path(host_path)).ok()
    }

    fn setup(&self, s: Setup, plan: &HostPlan) {
        match s {
            Setup::Fault(line) => {
                let mut faults = self.state("faults");
                faults.push_str(line);
                faults.push('\n');
                self.set_state("faults", &faults);
            }
            Setup::KeepalivedDies => self.set_state("keepalived-dies-on", &plan.file(director::KEEPALIVED_CONF).expect("a keepalived director").content),
            Setup::NoDevice(dev) => {
                std::fs::remove_dir_all(self.root.join(format!("proc/sys/net/ipv4/conf/{dev}"))).unwrap();
                let keep = |text: String| text.lines().filter(|l| l.split(' ').next() != Some(dev)).map(|l| format!("{l}\n")).collect::<String>();
                self.set_state("links", &keep(self.state("links")));
                self.set_state("addrs", &keep(self.state("addrs")));
            }
            Setup::NoSystemd => std::fs::remove_dir_all(self.root.join("run/systemd")).unwrap(),
            Setup::NoDefaultRoute => {
                let routes: String = self.state("routes").lines().filter(|l| !l.starts_with("default ")).map(|l| format!("{l}\n")).collect();
                self.set_state("routes", &routes);
            }
            Setup::LockHeld => write(&self.path(&format!("{}/lock/holder", layout::STATE_DIR)), format!("{OTHER_HOLDER}\n").as_bytes(), 0o600),
            Setup::BreakLock => {}
            Setup::LockCutShort => {
                write(&self.path(&format!("{}/lock/holder", layout::STATE_DIR)), format!("{OTHER_HOLDER}\n").as_bytes(), 0o600);
                write(&self.root.join("proc/uptime"), b"60.00 50.00\n", 0o444);
                let lock = self.path(&format!("{}/lock", layout::STATE_DIR));
                let o = std::process::Command::new("touch").arg("-d").arg("1 hour ago").arg(&lock).output().unwrap();
                assert!(o.status.success(), "touch: {}", String::from_utf8_lossy(&o.stderr));
            }
            Setup::EditedSincePlan(path) => {
                let mut text = self.read(path).unwrap_or_default();
                text.push_str("# edited by hand\n");
                write(&self.path(path), text.as_bytes(), 0o644);
            }
            Setup::SysctlSincePlan(key, value) => write(&self.path(&proc_sys_path(key)), format!("{value}\n").as_bytes(), 0o644),
        }
    }

    /// The host's facts as the probe would read them (files, sysctls, addresses on links that
    /// are up, default routes, lvsctl's chains that something jumps to, services, manifest).
    fn facts(&self, plan: &HostPlan) -> Facts {
        let mut f = Facts::empty();
        if let Some(m) = self.read(layout::MANIFEST) {
            f.manifest = serde_json::from_str::<Manifest>(&m).unwrap();
        }
        for path in plan.files.iter().map(|f| &f.path).chain(&f.manifest.files) {
            if let Some(content) = self.read(path) {
                f.files.insert(path.clone(), FileFact { content, mode: mode_of(&self.path(path)), owner: "root".into(), group: "root".into() });
            }
        }
        for s in &plan.sysctls {
            if let Some(v) = self.read(&proc_sys_path(&s.key)) {
                f.sysctls.insert(s.key.clone(), v.trim().to_string());
            }
        }
        let links = self.state("links");
        let up = |dev: &str| links.lines().any(|l| l == format!("{dev} up"));
        for line in self.state("addrs").lines() {
            let [dev, cidr, label] = line.split(' ').collect::<Vec<_>>()[..] else { panic!("addrs: {line}") };
            let (ip, prefix) = cidr.split_once('/').unwrap();
            if up(dev) {
                f.addresses.push(Address { ip: ip.parse().unwrap(), prefix: prefix.parse().unwrap(), dev: dev.into(), label: (label != "-").then(|| label.into()) });
            }
        }
        for line in self.state("routes").lines() {
            if let ["default", "via", via, "dev", dev, ..] = line.split(' ').collect::<Vec<_>>()[..] {
                f.routes.push(Route { destination: "default".into(), via: via.parse().unwrap(), dev: dev.into() });
            }
        }
        for table in ["nat", "mangle", "ip6-nat"] {
            let rules = self.state(table);
            for line in rules.lines() {
                if let Some(chain) = line.strip_prefix(":LVSCTL-").and_then(|l| l.split(' ').next()) {
                    let chain = format!("LVSCTL-{chain}");
                    if rules.lines().any(|l| l.ends_with(&format!(" -j {chain}"))) {
                        f.nat_chains.push(if table == "nat" { chain } else { format!("{table}:{chain}") });
                    }
                }
            }
        }
        f.enabled = self.state("enabled").lines().map(|u| (u.to_string(), true)).collect();
        f.services.insert("keepalived".into(), !self.state("keepalived.pids").trim().is_empty());
        f.services.insert("ipvsadm".into(), self.state("ipvs").lines().any(|l| l.starts_with("-A ")));
        f
    }

    /// Everything a rollback must give back: every file under the root with its mode (the
    /// generations directory aside: a failed generation stays, for the record), and the runtime
    /// state (addresses, routes, chains, the IPVS table, keepalived running and what it
    /// loaded). Not the links' state and not what a module load created: neither is undone
    /// (`HostChanges::kernel_modules`).
    fn snapshot(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let generations = self.path(&generations_dir());
        let mut stack = vec![self.root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let rel = format!("/{}", p.strip_prefix(&self.root).unwrap().display());
                let ty = e.file_type().unwrap();
                if p == generations || is_process(&rel) {
                    continue;
                }
                if ty.is_dir() {
                    stack.push(p);
                } else if ty.is_symlink() {
                    out.insert(rel, format!("-> {}", std::fs::read_link(&p).unwrap().display()));
                } else {
                    out.insert(rel, format!("{:o} {}", mode_of(&p), String::from_utf8_lossy(&std::fs::read(&p).unwrap())));
                }
            }
        }
        for name in ["addrs", "routes", "nat", "mangle", "ip6-nat", "ipvs"] {
            out.insert(format!("runtime: {name}"), self.state(name));
        }
        let running = !self.state("keepalived.pids").trim().is_empty();
        out.insert("runtime: keepalived".into(), if running { format!("running with\n{}", self.state("keepalived.loaded")) } else { "stopped".into() });
        out
    }

    /// The fakes' log from line `from` on, the root shown as `$ROOT`.
    fn log(&self, from: usize) -> Vec<String> {
        let root = self.root.to_string_lossy().into_owned();
        self.state("log").lines().skip(from).map(|l| l.replace(&root, "$ROOT")).collect()
    }
}

/// `/proc/<pid>/...`: a process (keepalived's are compared as "running").
fn is_process(rel: &str) -> bool {
    rel.strip_prefix("/proc/").and_then(|r| r.split('/').next()).is_some_and(|pid| pid.chars().all(|c| c.is_ascii_digit()))
}

/// Paths a kernel module load creates, kept after a rollback by design.
fn made_by_a_module(rel: &str) -> bool {
    rel.starts_with("/sys/module/") || rel.starts_with("/proc/sys/net/ipv4/conf/tunl0/") || rel.starts_with("/proc/sys/net/netfilter/")
}

// ---- Shells ----

/// A shell the transaction runs under (busybox: its applets on the PATH after the fakes).
struct Shell {
    name: &'static str,
    argv: Vec<String>,
    /// busybox: its applets (cat, cp, grep, sed, stat, base64, ...) as the host's tools, an
    /// Alpine host; made per run in the case's directory (links only).
    applets: Option<String>,
}

const APPLETS: [&str; 23] =
    ["awk", "base64", "basename", "cat", "chmod", "cmp", "cp", "cut", "date", "dirname", "grep", "head", "mkdir", "mv", "rm", "sed", "sha256sum", "sleep", "sort", "stat", "sync", "tr", "uniq"];

fn find(candidates: &[&str]) -> Option<String> {
    candidates.iter().find(|p| Path::new(p).exists()).map(|p| p.to_string())
}

/// dash and busybox sh; a missing one is said loudly, and is an error under CI.
fn shells() -> Vec<Shell> {
    let mut out = Vec::new();
    match find(&["/usr/bin/dash", "/bin/dash"]) {
        Some(dash) => out.push(Shell { name: "dash", argv: vec![dash, "-s".into()], applets: None }),
        None => missing("dash"),
    }
    match find(&["/usr/bin/busybox", "/bin/busybox"]) {
        Some(bb) => out.push(Shell { name: "busybox", argv: vec![bb.clone(), "sh".into(), "-s".into()], applets: Some(bb) }),
        None => missing("busybox"),
    }
    out
}

fn missing(shell: &str) {
    let message = format!("SKIPPED: the transaction cases under {shell}: {shell} is not installed (apt-get install {shell})");
    assert!(std::env::var_os("CI").is_none(), "{message}; CI must have it");
    eprintln!("{message}");
}

fn fakes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transaction/bin")
}

/// One run of a transaction: its records (the root shown as `$ROOT`), what apply makes of them,
/// and the fakes' calls during it.
struct Run {
    records: Vec<String>,
    outcome: Outcome,
    log: Vec<String>,
}

fn run(host: &Host, shell: &Shell, changes: &HostChanges, break_lock: bool) -> Result<Run, String> {
    run_with(host, shell, changes, break_lock, None)
}

/// `run`; with `word`, the script waits at a barrier and `word` follows it on stdin.
fn run_with(host: &Host, shell: &Shell, changes: &HostChanges, break_lock: bool, word: Option<&[u8]>) -> Result<Run, String> {
    use std::io::Write;
    let mut fake_bin = fakes().to_string_lossy().into_owned();
    if let Some(busybox) = &shell.applets {
        let dir = host.dir.join("applets");
        if !dir.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            for a in APPLETS {
                std::os::unix::fs::symlink(busybox, dir.join(a)).unwrap();
            }
        }
        fake_bin = format!("{fake_bin}:{}", dir.display());
    }
    let o = TxnOptions { holder: HOLDER, break_lock, root: Root { dir: host.root.to_string_lossy().into_owned(), fake_bin: Some(fake_bin) }, barrier: word.is_some() };
    let script = transaction(changes, &o);
    let log_from = host.state("log").lines().count();
    let mut child = std::process::Command::new(&shell.argv[0])
        .args(&shell.argv[1..])
        .env("FAKE_STATE", &host.state)
        .env("FAKE_ROOT", &host.root)
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", shell.argv[0]))?;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    // The word comes as from lvsctl: once the script said `ready` (sent earlier, it would
    // be read with the script: sh reads its input in blocks).
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let mut child_stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(&mut child_stdout).lines() {
            let line = line.unwrap_or_default();
            if line == format!("{}ready", crate::remote::protocol::MARK) {
                let _ = ready_tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    if let Some(word) = word {
        if ready_rx.recv_timeout(std::time::Duration::from_secs(30)).is_ok() {
            let _ = stdin.write_all(word);
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = host.log(log_from);
    // A failing tool's message reaches stderr (apply does not read it); a success is silent.
    if !stderr.is_empty() && stdout.contains("@@lvsctl done ") {
        return Err(format!("the script wrote to stderr:\n{stderr}\nstdout:\n{stdout}"));
    }
    if let Some(bad) = log.iter().find(|l| l.starts_with("UNSUPPORTED")) {
        return Err(format!("the transaction made a call the fakes do not know: {bad}"));
    }
    let root = host.root.to_string_lossy().into_owned();
    let records = crate::remote::protocol::read("transaction", &stdout).map_err(|e| format!("{e}\n{stdout}"))?;
    let records: Vec<String> = records.iter().map(|r| format!("{} {}", r.kind, r.args).trim_end().replace(&root, "$ROOT")).collect();
    let progress = crate::apply::progress::Progress::new();
    let mut txn = TxnRecords::default();
    for line in stdout.lines() {
        txn.read(line, &changes.host, &progress);
    }
    Ok(Run { records, outcome: txn.outcome(), log })
}

// ---- Checking a case ----

/// The plan of `host` in an example playbook (each playbook planned once: a debug build takes
/// tens of milliseconds to, and every case of it asks twice). The case table was written for
/// network-scripts hosts (the ifcfg files of the seed documents' CentOS): its plans persist
/// that way; a playbook named `NAME.yml#systemd` is planned with lvsctl's systemd units.
fn plan_of(playbook: &str, host: &str) -> (HostPlan, Secrets) {
    type Planned = (Vec<HostPlan>, Secrets);
    static PLANNED: std::sync::OnceLock<std::sync::Mutex<BTreeMap<String, std::sync::Arc<Planned>>>> = std::sync::OnceLock::new();
    let planned = {
        let mut all = PLANNED.get_or_init(Default::default).lock().unwrap();
        all.entry(playbook.to_string())
            .or_insert_with(|| {
                let (name, backend) = match playbook.split_once('#') {
                    Some((name, b)) => (name, crate::plan::persistence::Backend::parse(b).expect("a persistence backend")),
                    None => (playbook, crate::plan::persistence::Backend::NetworkScripts),
                };
                let cluster = crate::ipvs::testing::example(name);
                let templates = crate::render::Templates::new(None).unwrap();
                let how = crate::plan::persistence::Persistence { backend, family: crate::plan::persistence::Family::Redhat, reason: "test".into() };
                let plans = crate::plan::build(&cluster, &templates).unwrap().iter().map(|p| p.refinish(&how, &templates).unwrap()).collect();
                std::sync::Arc::new((plans, Secrets::of(&cluster)))
            })
            .clone()
    };
    let plan = planned.0.iter().find(|p| p.host == host).unwrap_or_else(|| panic!("{playbook} has no host {host}"));
    (plan.clone(), planned.1.clone())
}

/// `want` appears in `log` in this order (not necessarily one after the other).
fn in_order(log: &[String], want: &[&str]) -> Result<(), String> {
    let mut at = 0;
    for w in want {
        match log[at..].iter().position(|l| l == w) {
            Some(i) => at += i + 1,
            None => return Err(format!("the fakes' log lacks `{w}` (after line {at}), in this order: {want:#?}\nlog:\n{}", log.join("\n"))),
        }
    }
    Ok(())
}

fn diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in before {
        match after.get(k) {
            None => out.push(format!("{k}: gone (was {v:?})")),
            Some(a) if a != v => out.push(format!("{k}: {v:?} -> {a:?}")),
            _ => {}
        }
    }
    for (k, v) in after {
        if !before.contains_key(k) && !made_by_a_module(k) {
            out.push(format!("{k}: new ({v:?})"));
        }
    }
    out
}

fn steps(generation: u64) -> Vec<String> {
    ["step lock", "step check", &format!("step backup {generation}"), "step write", "step validate", "step install", "step activate", "step verify", "step record"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("done {generation}")])
        .collect()
}

fn check(case: &Case, shell: &Shell, dir: PathBuf) -> Result<(), String> {
    let host = Host::fresh(dir);
    let (plan, secrets) = plan_of(case.playbook, case.host);
    let mut generation = 0;
    for s in case.setup.iter().filter(|s| s.is_the_host()) {
        host.setup(*s, &plan);
    }
    if let Before::Applied(edit) = case.before {
        let mut old = plan.clone();
        edit(&mut old);
        let run = run(&host, shell, &compute(&old, &host.facts(&old), &secrets), false)?;
        if run.records != steps(1) {
            return Err(format!("generation 1 did not apply: {:#?}\nlog:\n{}", run.records, run.log.join("\n")));
        }
        generation = 1;
    }
    let changes = compute(&plan, &host.facts(&plan), &secrets);
    if changes.changes.is_empty() {
        return Err("the case has nothing to apply".into());
    }
    for s in case.setup.iter().filter(|s| !s.is_the_host()) {
        host.setup(*s, &plan);
    }
    let break_lock = case.setup.iter().any(|s| matches!(s, Setup::BreakLock));
    let before = host.snapshot();
    let run = run(&host, shell, &changes, break_lock)?;
    let after = host.snapshot();
    let lock = host.path(&format!("{}/lock", layout::STATE_DIR));
    let status = |n: u64| host.read(&format!("{}/status", generation_dir(n))).unwrap_or_default().trim().to_string();
    let n = generation + 1;
    match case.want {
        Want::Applied { generation: want, log } => {
            let mut records = steps(want);
            if break_lock {
                records.insert(0, format!("broke-lock {OTHER_HOLDER}"));
            }
            if case.setup.iter().any(|s| matches!(s, Setup::LockCutShort)) {
                records.insert(0, format!("stale-lock {OTHER_HOLDER}"));
            }
            if run.records != records || !matches!(run.outcome, Outcome::Applied { generation } if generation == want) {
                return Err(format!("records {:#?}, outcome {:?}; wanted {records:#?}\nlog:\n{}", run.records, run.outcome, run.log.join("\n")));
            }
            in_order(&run.log, log)?;
            applied(&host, &plan, &changes, &run, want)?;
            let again = compute(&plan, &host.facts(&plan), &secrets);
            if !again.changes.is_empty() {
                return Err(format!("a second plan is not empty: {:#?}", again.changes));
            }
        }
        Want::RolledBack { step, message, generation: want, undo, never } => {
            let fail = format!("fail {step} {message}");
            let Some(at) = run.records.iter().position(|r| *r == fail) else {
                return Err(format!("no `{fail}` in the records {:#?}\nlog:\n{}", run.records, run.log.join("\n")));
            };
            let tail = &run.records[at + 1..];
            let tail_want = ["step rollback".to_string(), format!("rolledback {want}")];
            if tail != tail_want {
                return Err(format!("after `{fail}`: {tail:#?}, wanted {tail_want:#?}"));
            }
            match &run.outcome {
                Outcome::RolledBack { step: s, message: m, generation: g } if s == step && m.replace(&*host.root.to_string_lossy(), "$ROOT") == message && *g == want => {}
                other => return Err(format!("apply reads {other:?}")),
            }
            let changed = diff(&before, &after);
            if !changed.is_empty() {
                return Err(format!("the rollback left the host changed:\n{}\nlog:\n{}", changed.join("\n"), run.log.join("\n")));
            }
            if lock.exists() {
                return Err("the lock is still held".into());
            }
            if status(n) != "rolled-back" {
                return Err(format!("generation {n} is `{}`, not rolled-back", status(n)));
            }
            let failing = run.log.iter().position(|l| host.state("faults").lines().any(|f| fault_matches(f, l))).unwrap_or(0);
            in_order(&run.log[failing..], undo)?;
            if let Some(bad) = run.log.iter().find(|l| never.contains(&l.as_str())) {
                return Err(format!("`{bad}` was called"));
            }
        }
        Want::Locked => {
            if run.records != [format!("locked {OTHER_HOLDER}")] || !matches!(&run.outcome, Outcome::Locked { holder } if holder == OTHER_HOLDER) {
                return Err(format!("records {:#?}, outcome {:?}", run.records, run.outcome));
            }
            check_untouched(&before, &after, &run)?;
            if host.read(&format!("{}/lock/holder", layout::STATE_DIR)).as_deref() != Some(&format!("{OTHER_HOLDER}\n")) {
                return Err("the other apply's lock was touched".into());
            }
        }
        Want::ChangedSincePlan(paths) => {
            let want = vec!["step lock".to_string(), "step check".into(), format!("changed {}", paths.join(" "))];
            if run.records != want || !matches!(&run.outcome, Outcome::ChangedSincePlan { paths: p } if p == paths) {
                return Err(format!("records {:#?}, outcome {:?}; wanted {want:#?}", run.records, run.outcome));
            }
            check_untouched(&before, &after, &run)?;
            if lock.exists() {
                return Err("the lock is still held".into());
            }
            if host.path(&generation_dir(n)).exists() {
                return Err(format!("generation {n} was begun"));
            }
        }
    }
    Ok(())
}

fn fault_matches(fault: &str, call: &str) -> bool {
    let Some((_, pattern)) = fault.split_once(' ') else { return false };
    glob(pattern.as_bytes(), call.as_bytes())
}

/// sh's `case` glob, `*` and literal characters only (what the cases use).
fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

fn check_untouched(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>, run: &Run) -> Result<(), String> {
    let changed = diff(before, after);
    if !changed.is_empty() {
        return Err(format!("the host was changed:\n{}", changed.join("\n")));
    }
    let calls: Vec<&String> = run.log.iter().filter(|l| !l.starts_with("  ")).collect();
    if !calls.is_empty() {
        return Err(format!("tools were called: {calls:#?}"));
    }
    Ok(())
}

/// The host after `done N`: every planned file with its content and mode, sysctls, addresses,
/// routes, chains and services live, the generation recorded, the lock released.
fn applied(host: &Host, plan: &HostPlan, changes: &HostChanges, run: &Run, n: u64) -> Result<(), String> {
    let mut problems = Vec::new();
    for f in &plan.files {
        match host.read(&f.path) {
            Some(c) if c == f.content && mode_of(&host.path(&f.path)) == f.mode => {}
            Some(_) => problems.push(format!("{} differs (mode {:o})", f.path, mode_of(&host.path(&f.path)))),
            None => problems.push(format!("{} is missing", f.path)),
        }
    }
    for s in &plan.sysctls {
        let v = host.read(&proc_sys_path(&s.key)).unwrap_or_default();
        if v.trim() != s.value {
            problems.push(format!("{} is {v:?}, not {}", s.key, s.value));
        }
    }
    let facts = host.facts(plan);
    for a in &plan.addresses {
        if !facts.addresses.contains(a) {
            problems.push(format!("{a} is not live"));
        }
    }
    for r in &plan.routes {
        if !facts.routes.contains(r) {
            problems.push(format!("route {r:?} is not live"));
        }
    }
    for c in &plan.nat_chains {
        if !facts.nat_chains.contains(c) {
            problems.push(format!("chain {c} is not loaded and hooked"));
        }
    }
    if !host.state("nat").contains("-A POSTROUTING -o eth1 -j MASQUERADE") {
        problems.push("the host's own nat rule is gone".into());
    }
    for s in &plan.services {
        if facts.services.get(&s.name) != Some(&true) {
            problems.push(format!("{} is not running", s.name));
        }
    }
    if let Some(conf) = plan.file(director::KEEPALIVED_CONF) {
        if host.state("keepalived.loaded") != conf.content {
            problems.push("keepalived did not load the new keepalived.conf".into());
        }
    }
    if let Some(rules) = plan.services.iter().find_map(|s| s.rules_file.as_ref()) {
        let live: String = plan.file(rules).unwrap().content.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
        if host.state("ipvs") != live {
            problems.push(format!("the IPVS table is not {rules}"));
        }
    }
    let state = |p: &str| host.read(p).unwrap_or_default();
    let gen = generation_dir(n);
    let want = [
        (layout::MANIFEST.to_string(), format!("{}\n", serde_json::to_string(&changes.record.manifest()).unwrap())),
        (layout::MANAGED_FILES.to_string(), plan.files.iter().map(|f| format!("{}\n", f.path)).collect()),
        (format!("{}/generation", layout::STATE_DIR), format!("{n}\n")),
        (record_path(n), serde_json::to_string(&changes.record).unwrap()),
        (format!("{gen}/status"), "applied\n".into()),
        (format!("{gen}/holder"), format!("{HOLDER}\n")),
    ];
    for (path, content) in want {
        if state(&path) != content {
            problems.push(format!("{path} is {:?}, not {content:?}", state(&path)));
        }
    }
    for (path, mode) in [(layout::STATE_DIR.to_string(), 0o700), (generations_dir(), 0o700), (record_path(n), 0o600)] {
        if mode_of(&host.path(&path)) != mode {
            problems.push(format!("{path} has mode {:o}, not {mode:o}", mode_of(&host.path(&path))));
        }
    }
    // Every file replaced is backed up, 0600 whatever its mode (it may hold the VRRP secret).
    for f in changes.files().filter(|f| f.before.is_some()) {
        let backup = host.path(&format!("{gen}/backup{}", f.path));
        match std::fs::read_to_string(&backup) {
            Ok(c) if Some(&c) == f.before.as_ref().map(|b| &b.text) && mode_of(&backup) == 0o600 => {}
            _ => problems.push(format!("{} is not backed up as it was, 0600", f.path)),
        }
    }
    if host.path(&format!("{}/lock", layout::STATE_DIR)).exists() {
        problems.push("the lock is still held".into());
    }
    // A real server never binds a VIP while it would still answer ARP for it (IPv6 has no
    // ARP: its VIPs are never announced from lo or ip6tnl0).
    if plan.roles.contains(&crate::plan::Role::RealServer) {
        for (i, l) in run.log.iter().enumerate() {
            let ipv6 = l.split_whitespace().nth(3).is_some_and(|a| a.contains(':'));
            if l.starts_with("ip addr replace ") && !ipv6 && run.log.get(i + 1).map(String::as_str) != Some("  sees arp_ignore=1 arp_announce=2") {
                problems.push(format!("`{l}` while the host answers ARP: {:?}", run.log.get(i + 1)));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\nlog:\n{}", problems.join("\n"), run.log.join("\n")))
    }
}

/// Where the trees go: a tmpfs when there is one (the transaction syncs every file it writes,
/// which on a disk is half the time of a run), else the temporary directory.
fn scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let writable = shm.is_dir() && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly());
    if writable && std::env::var_os("TMPDIR").is_none() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Every case under every shell, a few at a time; all failures reported together, their trees
/// kept for a look.
fn check_all(tag: &str, cases: &[Case]) {
    let shells = shells();
    let mut jobs: Vec<(&Case, &Shell)> = cases.iter().flat_map(|c| shells.iter().map(move |s| (c, s))).collect();
    // The slow ones first (verify waits 3 s for a keepalived that is gone), so the rest overlap.
    jobs.sort_by_key(|(c, _)| !c.setup.iter().any(|s| matches!(s, Setup::KeepalivedDies)));
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    let times = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() + 2);
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((case, shell)) = jobs.get(i) else { break };
                let dir = scratch().join(format!("lvsctl-txn-{}-{tag}-{i}-{}", std::process::id(), shell.name));
                let started = std::time::Instant::now();
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(case, shell, dir.clone())));
                times.lock().unwrap().push((started.elapsed().as_millis(), format!("{} [{}]", case.name, shell.name)));
                match result.unwrap_or_else(|p| Err(format!("panicked: {}", p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()))) {
                    Ok(()) => {
                        let _ = std::fs::remove_dir_all(&dir);
                    }
                    Err(e) => failures.lock().unwrap().push(format!("{} [{}] ({}/{}; tree kept in {}):\n{e}", case.name, shell.name, case.playbook, case.host, dir.display())),
                }
            });
        }
    });
    let mut times = times.into_inner().unwrap();
    times.sort();
    let slowest: Vec<String> = times.iter().rev().take(5).map(|(ms, run)| format!("  {ms} ms {run}")).collect();
    eprintln!("{} case(s) x {} shell(s) in {} ms; the slowest:\n{}", cases.len(), shells.len(), started.elapsed().as_millis(), slowest.join("\n"));
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {} run(s) failed:\n\n{}", failures.len(), jobs.len(), failures.join("\n\n"));
}

#[test]
fn every_case_applies_or_rolls_back_the_host_to_exactly_what_it_was() {
    check_all("case", &cases());
}

/// Every host of every example playbook, fresh: applied, everything live, the next plan empty
/// (the hosts `cases()` already applies fresh aside).
#[test]
fn every_host_of_every_example_playbook_applies_on_a_fresh_host() {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let covered: Vec<(&str, &str)> =
        cases().iter().filter(|c| matches!((c.before, c.setup, c.want), (Before::Fresh, [], Want::Applied { .. }))).map(|c| (c.playbook, c.host)).collect();
    let mut cases = Vec::new();
    for playbook in crate::ipvs::testing::examples() {
        let cluster = crate::ipvs::testing::example(&playbook);
        for host in cluster.hosts.keys().filter(|h| !covered.contains(&(playbook.as_str(), h.as_str()))) {
            let name = leak(format!("a fresh {host} of {playbook}"));
            cases.push(Case { name, playbook: leak(playbook.clone()), host: leak(host.clone()), before: Before::Fresh, setup: &[], want: Want::Applied { generation: 1, log: &[] } });
        }
        // Every host again with lvsctl's systemd units (the offline default).
        for host in cluster.hosts.keys() {
            let name = leak(format!("a fresh {host} of {playbook} (systemd units)"));
            cases.push(Case { name, playbook: leak(format!("{playbook}#systemd")), host: leak(host.clone()), before: Before::Fresh, setup: &[], want: Want::Applied { generation: 1, log: &[] } });
        }
    }
    assert!(cases.len() + covered.len() >= 38, "{} hosts", cases.len());
    check_all("fresh", &cases);
}

/// Directors reloaded together: validated, the script says `ready` and reads lvsctl's word
/// (here already waiting in the pipe): `go` installs and activates; `abort`, or the end of
/// input (lvsctl gone), rolls back with nothing activated. The commands before the barrier
/// run with stdin from /dev/null, so none can take the word or wait for it.
#[test]
fn a_barrier_activates_on_go_and_rolls_back_on_anything_else() {
    for shell in shells() {
        for (word, activates) in [(&b"go\n"[..], true), (b"abort\n", false), (b"", false)] {
            let host = Host::fresh(scratch().join(format!("lvsctl-barrier-{}-{}-{}", std::process::id(), shell.name, word.len())));
            let (plan, secrets) = plan_of("dr-keepalived-router.yml", "lvs1");
            let changes = compute(&plan, &host.facts(&plan), &secrets);
            let run = run_with(&host, &shell, &changes, false, Some(word)).unwrap();
            let at = |r: &str| run.records.iter().position(|x| x.starts_with(r));
            assert!(at("ready").is_some_and(|r| at("step validate").is_some_and(|v| v < r)), "{}: no ready after validate: {:#?}", shell.name, run.records);
            if activates {
                assert!(matches!(run.outcome, Outcome::Applied { generation: 1 }), "{}: {:?} {:#?}", shell.name, run.outcome, run.records);
                assert!(at("step activate").is_some(), "{:#?}", run.records);
            } else {
                assert!(matches!(run.outcome, Outcome::RolledBack { .. }), "{}: {word:?}: {:?} {:#?}", shell.name, run.outcome, run.records);
                assert!(at("step activate").is_none() && at("step install").is_none(), "{}: {word:?}: went on past the barrier: {:#?}", shell.name, run.records);
                assert!(run.log.iter().all(|l| !l.starts_with("systemctl") && !l.starts_with("service")), "{}: {word:?}: a service touched: {:?}", shell.name, run.log);
            }
            let _ = std::fs::remove_dir_all(&host.dir);
        }
    }
}
