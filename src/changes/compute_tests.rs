//! `compute` as a table, facts in and changes out, the way pyinfra tests its operations: each
//! case is a host of an example playbook whose facts are the plan as applied (`converged`)
//! then edited (a file changed by hand, a VIP the topology dropped still on the host, a
//! stopped daemon...), and the changes it must give, one line each. Every case then runs a
//! second time on the facts of the host after those changes (`after`): nothing is left to do.
//!
//! Why: the changes are what apply does to a host, and the manifest rules (remove only what
//! lvsctl put there and the topology dropped, never the host's own) are easy to get subtly
//! wrong; a table shows every rule next to its reason. The IPVS drift rules have their own
//! tests in changes.rs.

use super::*;
use crate::facts::FileFact;
use crate::ipvs::testing::{as_planned, example};
use crate::plan::persistence::{Backend, Family, Persistence, BOOT_UNIT, NETWORK_UNIT, UNIT_DIR};
use crate::plan::{director, router, FileKind, NETWORK_SCRIPTS};
use crate::render::Templates;

/// The host the facts start from.
#[derive(Clone, Copy)]
enum Host {
    /// Never touched by lvsctl, nothing of ours on it (`Facts::empty`).
    Fresh,
    /// Exactly as the plan wants it, as lvsctl left it (`converged`).
    Converged,
    /// As an lvsctl before persistence left it (`before_persistence`): the same host's
    /// network-scripts files, no boot script, no unit of lvsctl's, none enabled.
    BeforePersistence,
}

struct Case {
    name: &'static str,
    playbook: &'static str,
    host: &'static str,
    /// The facts: `from`, then `edit`.
    from: Host,
    edit: fn(&mut Facts),
    want: &'static [&'static str],
}

fn as_is(_: &mut Facts) {}

/// The plan of `host`, persisting with network-scripts files (the table's rows name ifcfg
/// files; the systemd units have rows of their own, `systemd_cases`).
fn plan(playbook: &str, host: &str) -> (HostPlan, Secrets) {
    plan_persisting(playbook, host, Backend::NetworkScripts)
}

/// The plan of `host`, persisting with systemd units (the offline default).
fn systemd_plan(playbook: &str, host: &str) -> (HostPlan, Secrets) {
    plan_persisting(playbook, host, Backend::Systemd)
}

fn plan_persisting(playbook: &str, host: &str, backend: Backend) -> (HostPlan, Secrets) {
    let cluster = example(playbook);
    let templates = Templates::new(None).unwrap();
    let how = Persistence { backend, family: Family::Redhat, reason: "test".into() };
    let plans = crate::plan::build(&cluster, &templates).unwrap();
    let p = plans.into_iter().find(|p| p.host == host).unwrap_or_else(|| panic!("{playbook} has no {host}"));
    (p.refinish(&how, &templates).unwrap(), Secrets::of(&cluster))
}

/// A host as an lvsctl before persistence left it, applying `plan` (a network-scripts one):
/// its files but the boot script and units, its record without boot units, nothing enabled.
fn before_persistence(plan: &HostPlan) -> Facts {
    let mut old = plan.clone();
    old.files.retain(|f| !matches!(f.kind, FileKind::BootScript | FileKind::SystemdUnit));
    old.boot_units.clear();
    let f = converged(&old);
    assert!(f.manifest.boot_units.is_empty() && f.enabled.is_empty() && f.files.keys().any(|p| p.starts_with(NETWORK_SCRIPTS)), "not an old network-scripts host: {f:#?}");
    f
}

/// A host exactly as `plan` wants it, as lvsctl left it (the manifest its record's).
pub(super) fn converged(plan: &HostPlan) -> Facts {
    let mut f = Facts::default();
    for file in &plan.files {
        f.files.insert(file.path.clone(), FileFact { content: file.content.clone(), mode: file.mode, owner: file.owner.clone(), group: file.group.clone() });
    }
    f.sysctls = plan.sysctls.iter().map(|s| (s.key.clone(), s.value.clone())).collect();
    f.addresses = plan.addresses.clone();
    f.routes = plan.routes.clone();
    f.nat_chains = plan.nat_chains.clone();
    f.services = plan.services.iter().map(|s| (s.name.clone(), true)).collect();
    f.keepalived.installed = true;
    if !plan.ipvs.is_empty() {
        f.ipvs = IpvsFact::Table(as_planned(&plan.ipvs));
    }
    f.enabled = plan.boot_units.iter().map(|u| (u.clone(), true)).collect();
    f.manifest = GenerationRecord::of(plan).manifest();
    f
}

/// The host after the changes, as the transaction leaves it.
fn after(plan: &HostPlan, facts: &Facts, h: &HostChanges) -> Facts {
    let mut f = facts.clone();
    for c in &h.changes {
        match c {
            Change::File(fc) => match &fc.after {
                Some(a) => {
                    f.files.insert(fc.path.clone(), FileFact { content: a.text.clone(), mode: fc.mode, owner: fc.owner.clone(), group: fc.group.clone() });
                }
                None => {
                    f.files.remove(&fc.path);
                }
            },
            Change::Sysctl { key, to, .. } => {
                f.sysctls.insert(key.clone(), to.clone());
            }
            Change::AddressAdd { address } => f.addresses.push(address.clone()),
            Change::AddressRemove { address } => f.addresses.retain(|a| a != address),
            // `ip route replace`: one route a destination.
            Change::RouteAdd { route } => {
                f.routes.retain(|r| r.destination != route.destination);
                f.routes.push(route.clone());
            }
            Change::RouteRemove { route } => f.routes.retain(|r| r != route),
            Change::NatRules { chains, .. } => f.nat_chains = chains.clone(),
            Change::ChainsRemove { chains } => f.nat_chains.retain(|c| !chains.contains(c)),
            Change::Boot { unit, enable } => {
                f.enabled.insert(unit.clone(), *enable);
            }
            // The reload after it programs the table.
            Change::Drain { .. } => {}
            Change::Service { name, .. } | Change::IpvsTable { service: name, .. } => {
                f.services.insert(name.clone(), true);
                if !plan.ipvs.is_empty() {
                    f.ipvs = IpvsFact::Table(as_planned(&plan.ipvs));
                }
            }
        }
    }
    f.manifest = h.record.manifest();
    f
}

/// A change as one line.
fn describe(c: &Change) -> String {
    match c {
        Change::File(f) => {
            let action = match f.action {
                FileAction::Create => "create",
                FileAction::Update => "update",
                FileAction::Delete => "delete",
            };
            let mode = match f.old_mode {
                Some(old) if f.action == FileAction::Update => format!(" (mode {old:o} -> {:o}{})", f.mode, if f.before == f.after { ", same content" } else { "" }),
                _ => String::new(),
            };
            format!("{action} {}{mode}", f.path)
        }
        Change::Sysctl { key, from, to } => format!("sysctl {key} {} -> {to}", from.as_deref().unwrap_or("(none)")),
        Change::AddressAdd { address } => format!("address add {address}"),
        Change::AddressRemove { address } => format!("address remove {address}"),
        Change::RouteAdd { route: r } => format!("route add {} via {} dev {}", r.destination, r.via, r.dev),
        Change::RouteRemove { route: r } => format!("route remove {} via {} dev {}", r.destination, r.via, r.dev),
        Change::NatRules { file, chains } => format!("nat load {file} {}", chains.join(" ")),
        Change::ChainsRemove { chains } => format!("chains remove {}", chains.join(" ")),
        Change::Service { name, action, .. } => format!("service {name} {}", action.as_str()),
        Change::IpvsTable { service, action, differences, .. } => format!("ipvs {service} {}: {}", action.as_str(), differences.join("; ")),
        Change::Boot { unit, enable } => format!("boot {} {unit}", if *enable { "enable" } else { "disable" }),
        Change::Drain { targets, timeout_s } => {
            format!("drain {} ({timeout_s} s)", targets.iter().map(|t| format!("{} of {}", t.real_server, t.service)).collect::<Vec<_>>().join(", "))
        }
    }
}

fn kernel(f: &mut Facts) -> &mut crate::ipvs::Table {
    match &mut f.ipvs {
        IpvsFact::Table(t) => t,
        other => panic!("no IPVS table: {other:?}"),
    }
}

fn real_server(ip: &str, weight: i64) -> crate::ipvs::RealServer {
    crate::ipvs::RealServer { address: ip.parse().unwrap(), port: 80, forward: crate::ipvs::Forward::Route, weight, active_conn: 3, inact_conn: 0 }
}

fn file<'a>(f: &'a mut Facts, path: &str) -> &'a mut FileFact {
    f.files.get_mut(path).unwrap_or_else(|| panic!("no {path}"))
}

fn dropped_vip() -> Address {
    Address { ip: "10.77.0.109".parse().unwrap(), prefix: 32, dev: "lo".into(), label: Some("lo:9".into()) }
}

const LO9: &str = "/etc/sysconfig/network-scripts/ifcfg-lo:9";

fn cases() -> Vec<Case> {
    vec![
        // ---- A DR real server ----
        Case {
            name: "a fresh real server: its files created, ARP sysctls set, then its VIP",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Fresh,
            edit: as_is,
            want: &[
                "create /etc/lvsctl/boot.sh",
                "create /etc/sysconfig/network-scripts/ifcfg-lo:0",
                "create /etc/sysctl.d/90-lvsctl.conf",
                "create /etc/systemd/system/lvsctl-boot.service",
                "sysctl net.ipv4.conf.all.arp_ignore (none) -> 1",
                "sysctl net.ipv4.conf.all.arp_announce (none) -> 2",
                "sysctl net.ipv4.conf.lo.arp_ignore (none) -> 1",
                "sysctl net.ipv4.conf.lo.arp_announce (none) -> 2",
                "address add 10.77.0.100/32 dev lo label lo:0",
                "boot enable lvsctl-boot.service",
            ],
        },
        Case { name: "a converged real server: nothing", playbook: "dr-keepalived-router.yml", host: "web1", from: Host::Converged, edit: as_is, want: &[] },
        Case {
            name: "its VIP with another label: nothing (labels are cosmetic)",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| f.addresses[0].label = None,
            want: &[],
        },
        Case {
            name: "an ARP sysctl reset by hand: set again, and nothing else",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| {
                f.sysctls.insert("net.ipv4.conf.all.arp_ignore".into(), "0".into());
            },
            want: &["sysctl net.ipv4.conf.all.arp_ignore 0 -> 1"],
        },
        Case {
            name: "its VIP gone: added back",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| f.addresses.clear(),
            want: &["address add 10.77.0.100/32 dev lo label lo:0"],
        },
        Case {
            name: "a VIP the topology dropped, in the manifest and on the host: removed, with its file",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| {
                f.manifest.addresses.push(dropped_vip());
                f.addresses.push(dropped_vip());
                f.manifest.files.push(LO9.into());
                f.files.insert(LO9.into(), FileFact { content: "DEVICE=lo:9\n".into(), mode: 0o644, owner: "root".into(), group: "root".into() });
            },
            want: &["delete /etc/sysconfig/network-scripts/ifcfg-lo:9", "address remove 10.77.0.109/32 dev lo label lo:9"],
        },
        Case {
            name: "a dropped VIP in the manifest, no longer on the host: nothing to remove",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| f.manifest.addresses.push(dropped_vip()),
            want: &[],
        },
        Case {
            name: "an address of the host's own, not in the manifest: left alone",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| f.addresses.push(Address { ip: "192.0.2.7".parse().unwrap(), prefix: 32, dev: "lo".into(), label: None }),
            want: &[],
        },
        Case {
            name: "a file of the host's own, not in the manifest: left alone",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| {
                f.files.insert(format!("{NETWORK_SCRIPTS}/ifcfg-eth0"), FileFact { content: "DEVICE=eth0\n".into(), mode: 0o644, owner: "root".into(), group: "root".into() });
            },
            want: &[],
        },
        Case {
            // rm -f on the host: harmless, and gone from the next manifest.
            name: "a file in the manifest the host no longer has: a delete all the same, once",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| f.manifest.files.push(LO9.into()),
            want: &["delete /etc/sysconfig/network-scripts/ifcfg-lo:9"],
        },
        Case {
            name: "an ifcfg file at another mode: its mode set",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| file(f, &format!("{NETWORK_SCRIPTS}/ifcfg-lo:0")).mode = 0o600,
            want: &["update /etc/sysconfig/network-scripts/ifcfg-lo:0 (mode 600 -> 644, same content)"],
        },
        Case {
            name: "a fresh TUN real server: the modules file too",
            playbook: "tun-keepalived.yml",
            host: "web1",
            from: Host::Fresh,
            edit: as_is,
            want: &[
                "create /etc/lvsctl/boot.sh",
                "create /etc/modules-load.d/lvsctl.conf",
                "create /etc/sysconfig/network-scripts/ifcfg-tunl0",
                "create /etc/sysctl.d/90-lvsctl.conf",
                "create /etc/systemd/system/lvsctl-boot.service",
                "sysctl net.ipv4.conf.all.arp_ignore (none) -> 1",
                "sysctl net.ipv4.conf.all.arp_announce (none) -> 2",
                "sysctl net.ipv4.conf.lo.arp_ignore (none) -> 1",
                "sysctl net.ipv4.conf.lo.arp_announce (none) -> 2",
                "sysctl net.ipv4.conf.all.rp_filter (none) -> 0",
                "sysctl net.ipv4.conf.tunl0.rp_filter (none) -> 0",
                "address add 10.77.0.53/32 dev tunl0",
                "boot enable lvsctl-boot.service",
            ],
        },
        // ---- A keepalived director ----
        Case {
            name: "a fresh keepalived director: files, sysctls, keepalived started",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Fresh,
            edit: as_is,
            want: &[
                "create /etc/keepalived/keepalived.conf",
                "create /etc/lvsctl/boot.sh",
                "create /etc/sysctl.d/90-lvsctl.conf",
                "create /etc/systemd/system/lvsctl-boot.service",
                "sysctl net.ipv4.conf.all.send_redirects (none) -> 0",
                "sysctl net.ipv4.conf.default.send_redirects (none) -> 0",
                "sysctl net.ipv4.conf.eth0.send_redirects (none) -> 0",
                "service keepalived start",
                "boot enable keepalived",
                "boot enable lvsctl-boot.service",
            ],
        },
        Case {
            name: "keepalived.conf edited by hand: replaced, keepalived reloaded",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| file(f, director::KEEPALIVED_CONF).content.push_str("# by hand\n"),
            want: &["update /etc/keepalived/keepalived.conf", "service keepalived reload"],
        },
        Case {
            name: "keepalived.conf at 0644: its mode set, keepalived reloaded all the same",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| file(f, director::KEEPALIVED_CONF).mode = 0o644,
            want: &["update /etc/keepalived/keepalived.conf (mode 644 -> 640, same content)", "service keepalived reload"],
        },
        // ---- Drain before removal ----
        Case {
            name: "a real server the topology dropped: drained (weight 0, its service's drain_timeout), then the reload removes it",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| {
                file(f, director::KEEPALIVED_CONF).content.push_str("! web3 was here\n");
                kernel(f).services[0].real_servers.push(real_server("10.77.0.23", 1));
            },
            want: &["update /etc/keepalived/keepalived.conf", "drain 10.77.0.23:80 of TCP 10.77.0.100:80 (30 s)", "service keepalived reload"],
        },
        Case {
            name: "a service the topology dropped, which the old keepalived.conf had: all its real servers drained; a foreign one and a weight-0 one are not",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| {
                file(f, director::KEEPALIVED_CONF).content.push_str("virtual_server 10.77.0.101 8080 {\n}\n");
                let t = kernel(f);
                let mut gone = t.services[0].clone();
                gone.port = Some(8080);
                gone.vip = Some("10.77.0.101".parse().unwrap());
                gone.real_servers = vec![real_server("10.77.0.21", 1), real_server("10.77.0.22", 0)];
                for r in &mut gone.real_servers {
                    r.port = 8080;
                }
                let mut foreign = gone.clone();
                foreign.vip = Some("10.77.0.200".parse().unwrap());
                t.services.extend([gone, foreign]);
            },
            want: &["update /etc/keepalived/keepalived.conf", "drain 10.77.0.21:8080 of TCP 10.77.0.101:8080 (30 s)", "service keepalived reload"],
        },
        Case {
            name: "a real server a firewall-mark service dropped: drained by the mark (`ipvsadm -e -f 1`), at port 0",
            playbook: "dr-keepalived-fwmark.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| {
                file(f, director::KEEPALIVED_CONF).content.push_str("! web3 was here\n");
                let mut web3 = real_server("10.77.0.23", 1);
                web3.port = 0;
                kernel(f).services[0].real_servers.push(web3);
            },
            want: &["update /etc/keepalived/keepalived.conf", "drain 10.77.0.23:0 of FWM 1 (30 s)", "service keepalived reload"],
        },
        // ---- lvsctl's iptables chains ----
        Case {
            name: "a fresh director of a firewall-mark service: its mangle chain loaded and restored at boot",
            playbook: "dr-keepalived-fwmark.yml",
            host: "lvs1",
            from: Host::Fresh,
            edit: as_is,
            want: &[
                "create /etc/keepalived/keepalived.conf",
                "create /etc/lvsctl/boot.sh",
                "create /etc/lvsctl/director-fwmark.rules",
                "create /etc/sysctl.d/90-lvsctl.conf",
                "create /etc/systemd/system/lvsctl-boot.service",
                "create /etc/systemd/system/lvsctl-nat.service",
                "sysctl net.ipv4.conf.all.send_redirects (none) -> 0",
                "sysctl net.ipv4.conf.default.send_redirects (none) -> 0",
                "sysctl net.ipv4.conf.eth0.send_redirects (none) -> 0",
                "nat load /etc/lvsctl/director-fwmark.rules mangle:LVSCTL-FWMARK",
                "service keepalived start",
                "boot enable keepalived",
                "boot enable lvsctl-boot.service",
                "boot enable lvsctl-nat.service",
            ],
        },
        Case {
            name: "the mark chain gone from the kernel (a flush by hand): loaded again",
            playbook: "dr-keepalived-fwmark.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| f.nat_chains.clear(),
            want: &["nat load /etc/lvsctl/director-fwmark.rules mangle:LVSCTL-FWMARK"],
        },
        Case {
            name: "the last firewall-mark service removed: lvsctl's mark chain unhooked and deleted",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| {
                f.manifest.nat_chains.push("mangle:LVSCTL-FWMARK".into());
                f.nat_chains.push("mangle:LVSCTL-FWMARK".into());
            },
            want: &["chains remove mangle:LVSCTL-FWMARK"],
        },
        Case {
            name: "a chain lvsctl made that is gone already: nothing to remove",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| f.manifest.nat_chains.push("mangle:LVSCTL-FWMARK".into()),
            want: &[],
        },
        Case {
            name: "keepalived stopped and its file edited: started, no reload besides",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| {
                f.services.insert("keepalived".into(), false);
                file(f, director::KEEPALIVED_CONF).content.push_str("# by hand\n");
            },
            want: &["update /etc/keepalived/keepalived.conf", "service keepalived start"],
        },
        Case {
            name: "the IPVS table drifted: keepalived restarted",
            playbook: "dr-keepalived-router.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| match &mut f.ipvs {
                IpvsFact::Table(t) => t.services[0].scheduler = "rr".into(),
                other => panic!("{other:?}"),
            },
            want: &["ipvs keepalived restart: TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)"],
        },
        // ---- An ipvsadm director ----
        Case {
            name: "no IPVS table on an ipvsadm director: the rules loaded (start)",
            playbook: "nat-director.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| {
                f.services.insert("ipvsadm".into(), false);
                f.ipvs = IpvsFact::Table(crate::ipvs::Table { source: crate::ipvs::Source::Ipvsadm, services: Vec::new() });
            },
            want: &["service ipvsadm start"],
        },
        Case {
            name: "the ipvsadm rules file edited: replaced and loaded again (reload)",
            playbook: "nat-director.yml",
            host: "lvs1",
            from: Host::Converged,
            edit: |f| file(f, crate::plan::persistence::REDHAT_IPVSADM_RULES).content.push_str("# by hand\n"),
            want: &["update /etc/sysconfig/ipvsadm", "service ipvsadm reload"],
        },
        // ---- A NAT real server: its default route ----
        Case {
            name: "a fresh NAT real server with a default route of its own: replaced by the director's",
            playbook: "nat-director.yml",
            host: "web1",
            from: Host::Fresh,
            edit: |f| {
                f.routes.push(Route { destination: "default".into(), via: "10.77.1.1".parse().unwrap(), dev: "eth0".into() });
            },
            want: &[
                "create /etc/lvsctl/boot.sh",
                "create /etc/sysconfig/network-scripts/route-eth0",
                "create /etc/sysctl.d/90-lvsctl.conf",
                "create /etc/systemd/system/lvsctl-boot.service",
                "route add default via 10.77.1.254 dev eth0",
                "boot enable lvsctl-boot.service",
            ],
        },
        Case {
            name: "a gateway the topology changed: the old route removed, the new one added",
            playbook: "nat-director.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| {
                let old = Route { destination: "default".into(), via: "10.77.1.253".parse().unwrap(), dev: "eth0".into() };
                f.manifest.routes = vec![old.clone()];
                f.routes = vec![old];
            },
            want: &["route remove default via 10.77.1.253 dev eth0", "route add default via 10.77.1.254 dev eth0"],
        },
        // ---- A router: lvsctl's nat chains ----
        Case {
            name: "a fresh router: rules file, ip_forward, conntrack table, chains loaded",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            from: Host::Fresh,
            edit: as_is,
            want: &[
                "create /etc/lvsctl/boot.sh",
                "create /etc/lvsctl/router-nat.rules",
                "create /etc/modules-load.d/lvsctl.conf",
                "create /etc/sysctl.d/90-lvsctl.conf",
                "create /etc/systemd/system/lvsctl-boot.service",
                "create /etc/systemd/system/lvsctl-nat.service",
                "sysctl net.ipv4.ip_forward (none) -> 1",
                "sysctl net.netfilter.nf_conntrack_max (none) -> 262144",
                "nat load /etc/lvsctl/router-nat.rules LVSCTL-PREROUTING LVSCTL-POSTROUTING",
                "boot enable lvsctl-boot.service",
                "boot enable lvsctl-nat.service",
            ],
        },
        Case {
            name: "the chains flushed away by hand: loaded again",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            from: Host::Converged,
            edit: |f| f.nat_chains.clear(),
            want: &["nat load /etc/lvsctl/router-nat.rules LVSCTL-PREROUTING LVSCTL-POSTROUTING"],
        },
        Case {
            name: "the rules file edited: replaced and loaded",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            from: Host::Converged,
            edit: |f| file(f, router::RULES_FILE).content.push_str("# by hand\n"),
            want: &["update /etc/lvsctl/router-nat.rules", "nat load /etc/lvsctl/router-nat.rules LVSCTL-PREROUTING LVSCTL-POSTROUTING"],
        },
        Case {
            name: "ip_forward off: on again",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            from: Host::Converged,
            edit: |f| {
                f.sysctls.insert("net.ipv4.ip_forward".into(), "0".into());
            },
            want: &["sysctl net.ipv4.ip_forward 0 -> 1"],
        },
        Case {
            name: "the conntrack table back at the kernel's size (module reloaded): raised again",
            playbook: "dr-keepalived-router.yml",
            host: "gw",
            from: Host::Converged,
            edit: |f| {
                f.sysctls.insert("net.netfilter.nf_conntrack_max".into(), "2048".into());
            },
            want: &["sysctl net.netfilter.nf_conntrack_max 2048 -> 262144"],
        },
    ]
}

/// Rows whose plan persists with systemd units (`systemd_plan`): the boot units' own rules.
fn systemd_cases() -> Vec<Case> {
    vec![
        Case {
            // The VIP is bound already: only how it comes back at boot changes.
            name: "a host an older lvsctl left with ifcfg files: moved to the boot script and unit, its VIP left bound",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::BeforePersistence,
            edit: as_is,
            want: &["create /etc/lvsctl/boot.sh", "create /etc/systemd/system/lvsctl-boot.service", "delete /etc/sysconfig/network-scripts/ifcfg-lo:0", "boot enable lvsctl-boot.service"],
        },
        Case { name: "a converged real server with systemd units: nothing", playbook: "dr-keepalived-router.yml", host: "web1", from: Host::Converged, edit: as_is, want: &[] },
        Case {
            name: "lvsctl-boot.service disabled by hand: enabled again, and nothing else",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| {
                f.enabled.insert(BOOT_UNIT.into(), false);
            },
            want: &["boot enable lvsctl-boot.service"],
        },
        Case {
            name: "lvsctl-network.service the plan dropped, enabled and in the manifest: disabled, its file deleted",
            playbook: "dr-keepalived-router.yml",
            host: "web1",
            from: Host::Converged,
            edit: |f| {
                let path = format!("{UNIT_DIR}/{NETWORK_UNIT}");
                f.files.insert(path.clone(), FileFact { content: "[Unit]\n".into(), mode: 0o644, owner: "root".into(), group: "root".into() });
                f.manifest.files.push(path);
                f.manifest.boot_units.push(NETWORK_UNIT.into());
                f.enabled.insert(NETWORK_UNIT.into(), true);
            },
            want: &["delete /etc/systemd/system/lvsctl-network.service", "boot disable lvsctl-network.service"],
        },
    ]
}

/// Each case of `cases` on the plan `plan` gives: `failures` gets what went wrong.
fn run(cases: Vec<Case>, plan_of: fn(&str, &str) -> (HostPlan, Secrets), failures: &mut Vec<String>) {
    for case in cases {
        let (host_plan, secrets) = plan_of(case.playbook, case.host);
        let mut facts = match case.from {
            Host::Fresh => Facts::empty(),
            Host::Converged => converged(&host_plan),
            Host::BeforePersistence => before_persistence(&plan(case.playbook, case.host).0),
        };
        (case.edit)(&mut facts);
        let h = compute(&host_plan, &facts, &secrets);
        let got: Vec<String> = h.changes.iter().map(describe).collect();
        if got != case.want {
            failures.push(format!("{} ({}/{}):\n  got  {got:#?}\n  want {:#?}", case.name, case.playbook, case.host, case.want));
            continue;
        }
        let again = compute(&host_plan, &after(&host_plan, &facts, &h), &secrets);
        if !again.changes.is_empty() {
            failures.push(format!("{}: a second run changes {:#?}", case.name, again.changes.iter().map(describe).collect::<Vec<_>>()));
        }
    }
}

#[test]
fn facts_give_these_changes_and_a_second_run_gives_none() {
    let mut failures = Vec::new();
    run(cases(), plan, &mut failures);
    run(systemd_cases(), systemd_plan, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The tables cover every kind of change.
#[test]
fn the_table_has_every_kind_of_change() {
    let all: Vec<&str> = cases().iter().chain(&systemd_cases()).flat_map(|c| c.want.iter().copied()).collect();
    for kind in [
        "create ",
        "update ",
        "(mode ",
        "delete ",
        "sysctl ",
        "address add ",
        "address remove ",
        "route add ",
        "route remove ",
        "nat load ",
        "service keepalived start",
        "service keepalived reload",
        "service ipvsadm start",
        "service ipvsadm reload",
        "ipvs keepalived restart",
        "boot enable ",
        "boot disable ",
        "drain ",
    ] {
        assert!(all.iter().any(|w| w.contains(kind)), "no case has `{kind}`");
    }
}
