//! Recorded (or crafted, in the recorded format) outputs -> expected facts, like pyinfra's
//! fact tests, and the errors of outputs that must not parse; then the probe and the change
//! computation together. The script itself runs in `shells` (dash and busybox sh on this
//! machine) and over ssh in the lab when it is up. The helpers here are shared with the
//! sections' own tests.

use std::collections::BTreeMap;

use super::*;
use crate::changes::{self, Change};
use crate::facts::{FileFact, IpvsFact, KeepalivedFact, Manifest, SysctlOverride};
use crate::plan::{Address, ManagedFile, Role, Route, Secrets, Service, Sysctl, SYSCTL_FILE};

mod shells;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub(super) fn request(files: &[&str], sysctls: &[(&str, &str)], services: &[&str]) -> ProbeRequest {
    ProbeRequest {
        files: strings(files),
        sysctls: sysctls.iter().map(|(k, _)| k.to_string()).collect(),
        services: strings(services),
        sysctl_values: sysctls.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ipvs: false,
        units: Vec::new(),
    }
}

const IFCFG_LO0: &str = "/etc/sysconfig/network-scripts/ifcfg-lo:0";
const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";
const RULES: &str = "/etc/lvsctl/router-nat.rules";
const IPVSADM_RULES: &str = "/etc/sysconfig/ipvsadm";

pub(super) fn real_server() -> ProbeRequest {
    request(
        &[IFCFG_LO0, SYSCTL_FILE],
        &[("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"), ("net.ipv4.conf.lo.arp_ignore", "1"), ("net.ipv4.conf.lo.arp_announce", "2")],
        &[],
    )
}

pub(super) fn director() -> ProbeRequest {
    ProbeRequest {
        ipvs: true,
        ..request(
            &[KEEPALIVED_CONF, SYSCTL_FILE],
            &[("net.ipv4.conf.all.send_redirects", "0"), ("net.ipv4.conf.default.send_redirects", "0"), ("net.ipv4.conf.eth0.send_redirects", "0")],
            &["keepalived"],
        )
    }
}

/// The one director of playbooks/dr-ipvsadm-single.yml.
fn ipvsadm_director() -> ProbeRequest {
    ProbeRequest {
        ipvs: true,
        ..request(
            &[IPVSADM_RULES, "/etc/sysconfig/network-scripts/ifcfg-eth0:0", SYSCTL_FILE],
            &[("net.ipv4.conf.all.send_redirects", "0"), ("net.ipv4.conf.default.send_redirects", "0"), ("net.ipv4.conf.eth0.send_redirects", "0")],
            &["ipvsadm"],
        )
    }
}

/// A service of the kernel's table: (protocol, vip, port, scheduler, persistence timeout), real servers.
fn ipvs_service(target: (&str, u16), scheduler: &str, persistence: Option<u64>, real_servers: Vec<(&str, u16, i64, u64, u64)>) -> crate::ipvs::Service {
    crate::ipvs::Service {
        protocol: crate::ipvs::Protocol::Tcp,
        vip: Some(target.0.parse().unwrap()),
        port: Some(target.1),
        fwmark: None,
        scheduler: scheduler.into(),
        persistent: persistence.is_some(),
        persistence_timeout: persistence,
        flags: vec![],
        real_servers: real_servers
            .into_iter()
            .map(|(a, port, weight, active, inact)| crate::ipvs::RealServer { address: a.parse().unwrap(), port, forward: crate::ipvs::Forward::Route, weight, active_conn: active, inact_conn: inact })
            .collect(),
    }
}

fn ipvs_table(source: crate::ipvs::Source, services: Vec<crate::ipvs::Service>) -> IpvsFact {
    IpvsFact::Table(crate::ipvs::Table { source, services })
}

fn router() -> ProbeRequest {
    request(&[RULES, SYSCTL_FILE], &[("net.ipv4.ip_forward", "1")], &[])
}

fn file(content: &str, mode: u32) -> FileFact {
    FileFact { content: content.into(), mode, owner: "root".into(), group: "root".into() }
}

pub(super) fn addr(ip: &str, prefix: u8, dev: &str, label: Option<&str>) -> Address {
    Address { ip: ip.parse().unwrap(), prefix, dev: dev.into(), label: label.map(String::from) }
}

pub(super) fn route(via: &str, dev: &str) -> Route {
    Route { destination: "default".into(), via: via.parse().unwrap(), dev: dev.into() }
}

fn sysctls(v: &[(&str, &str)]) -> BTreeMap<String, String> {
    v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn services(v: &[(&str, bool)]) -> BTreeMap<String, bool> {
    v.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// `Facts` has no `PartialEq`; compare field by field, naming the case and the field.
fn assert_facts(case: &str, got: &Facts, want: &Facts) {
    assert_eq!(got.files, want.files, "{case}: files");
    assert_eq!(got.sysctls, want.sysctls, "{case}: sysctls");
    assert_eq!(got.addresses, want.addresses, "{case}: addresses");
    assert_eq!(got.routes, want.routes, "{case}: routes");
    assert_eq!(got.nat_chains, want.nat_chains, "{case}: nat_chains");
    assert_eq!(got.services, want.services, "{case}: services");
    assert_eq!(got.manifest, want.manifest, "{case}: manifest");
    assert_eq!(got.keepalived, want.keepalived, "{case}: keepalived");
    assert_eq!(got.os_family, want.os_family, "{case}: os_family");
    assert_eq!(got.sysctl_overrides, want.sysctl_overrides, "{case}: sysctl_overrides");
    assert_eq!(got.ipvs, want.ipvs, "{case}: ipvs");
}

fn manifest(json: &str) -> Manifest {
    serde_json::from_str(json).unwrap()
}

fn debian_lo_eth0(ip: &str) -> Vec<Address> {
    vec![addr("127.0.0.1", 8, "lo", None), addr(ip, 24, "eth0", None)]
}

struct Case {
    name: &'static str,
    output: &'static str,
    request: ProbeRequest,
    want: Facts,
    warnings: Vec<&'static str>,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "lab-web1-fresh: a host lvsctl never touched (recorded over ssh in the lab)",
            output: include_str!("../../../tests/probe/lab-web1-fresh.out"),
            request: real_server(),
            want: Facts {
                sysctls: sysctls(&[("net.ipv4.conf.all.arp_ignore", "0"), ("net.ipv4.conf.all.arp_announce", "0"), ("net.ipv4.conf.lo.arp_ignore", "0"), ("net.ipv4.conf.lo.arp_announce", "0")]),
                addresses: debian_lo_eth0("10.77.0.21"),
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", false)]),
                keepalived: KeepalivedFact { installed: true, version: Some("2.2.7".into()), running: false, pid: None },
                os_family: Some("debian".into()),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "director: keepalived MASTER with its VIP, a motd before the output",
            output: include_str!("../../../tests/probe/director.out"),
            request: director(),
            want: Facts {
                files: [
                    (KEEPALIVED_CONF.to_string(), file(include_str!("../../../tests/probe/files/director-keepalived.conf"), 0o640)),
                    (SYSCTL_FILE.to_string(), file(include_str!("../../../tests/probe/files/director-sysctl.conf"), 0o644)),
                ]
                .into(),
                sysctls: sysctls(&[("net.ipv4.conf.all.send_redirects", "0"), ("net.ipv4.conf.default.send_redirects", "0"), ("net.ipv4.conf.eth0.send_redirects", "0")]),
                addresses: vec![
                    addr("127.0.0.1", 8, "lo", None),
                    addr("10.77.0.11", 24, "eth0", None),
                    addr("10.77.0.100", 32, "eth0", None),
                    addr("10.77.1.11", 24, "eth1", None),
                ],
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", true)]),
                manifest: manifest(include_str!("../../../tests/probe/files/director-manifest.json")),
                keepalived: KeepalivedFact { installed: true, version: Some("2.2.8".into()), running: true, pid: Some(1402) },
                os_family: Some("rocky rhel centos fedora".into()),
                // web2 removed by its health check.
                ipvs: ipvs_table(crate::ipvs::Source::Ipvsadm, vec![ipvs_service(("10.77.0.100", 80), "wlc", Some(60), vec![("10.77.0.21", 80, 1, 4, 17)])]),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "director-proc: keepalived BACKUP without ipvsadm, the table from /proc/net/ip_vs (ticks at HZ=1000)",
            output: include_str!("../../../tests/probe/director-proc.out"),
            request: director(),
            want: Facts {
                files: [
                    (KEEPALIVED_CONF.to_string(), file(include_str!("../../../tests/probe/files/director-keepalived.conf"), 0o640)),
                    (SYSCTL_FILE.to_string(), file(include_str!("../../../tests/probe/files/director-sysctl.conf"), 0o644)),
                ]
                .into(),
                sysctls: sysctls(&[("net.ipv4.conf.all.send_redirects", "0"), ("net.ipv4.conf.default.send_redirects", "0"), ("net.ipv4.conf.eth0.send_redirects", "0")]),
                addresses: debian_lo_eth0("10.77.0.12"),
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", true)]),
                keepalived: KeepalivedFact { installed: true, version: Some("2.2.7".into()), running: true, pid: Some(733) },
                os_family: Some("debian".into()),
                ipvs: ipvs_table(crate::ipvs::Source::Proc, vec![ipvs_service(("10.77.0.100", 80), "wlc", Some(60), vec![("10.77.0.21", 80, 1, 0, 0), ("10.77.0.22", 80, 1, 0, 0)])]),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "ipvsadm-engine: the scheduler changed and a real server added by hand",
            output: include_str!("../../../tests/probe/ipvsadm-engine.out"),
            request: ipvsadm_director(),
            want: Facts {
                sysctls: sysctls(&[("net.ipv4.conf.all.send_redirects", "1"), ("net.ipv4.conf.default.send_redirects", "1"), ("net.ipv4.conf.eth0.send_redirects", "1")]),
                addresses: vec![addr("127.0.0.1", 8, "lo", None), addr("10.77.0.11", 24, "eth0", None), addr("10.77.0.100", 32, "eth0", Some("eth0:0"))],
                // ipvsadm is no daemon: "running" is a table with services.
                services: services(&[("keepalived", false), ("ipvsadm", true)]),
                os_family: Some("debian".into()),
                ipvs: ipvs_table(
                    crate::ipvs::Source::Ipvsadm,
                    vec![ipvs_service(("10.77.0.100", 80), "rr", None, vec![("10.77.0.21", 80, 1, 0, 0), ("10.77.0.22", 80, 1, 0, 0), ("10.77.0.29", 80, 1, 0, 0)])],
                ),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "real-server-drift: VIP on lo:0, all.arp_ignore back to 0",
            output: include_str!("../../../tests/probe/real-server-drift.out"),
            request: real_server(),
            want: Facts {
                files: [
                    (IFCFG_LO0.to_string(), file(include_str!("../../../tests/probe/files/rs-ifcfg-lo0"), 0o644)),
                    (SYSCTL_FILE.to_string(), file(include_str!("../../../tests/probe/files/rs-sysctl.conf"), 0o644)),
                ]
                .into(),
                sysctls: sysctls(&[("net.ipv4.conf.all.arp_ignore", "0"), ("net.ipv4.conf.all.arp_announce", "2"), ("net.ipv4.conf.lo.arp_ignore", "1"), ("net.ipv4.conf.lo.arp_announce", "2")]),
                addresses: vec![addr("127.0.0.1", 8, "lo", None), addr("10.77.0.100", 32, "lo", Some("lo:0")), addr("10.77.0.21", 24, "eth0", None)],
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", false)]),
                manifest: manifest(include_str!("../../../tests/probe/files/rs-manifest.json")),
                os_family: Some("debian".into()),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "alpine-busybox: base64 wrapped at 76 columns, a veth named eth0@if6, no iptables-save",
            output: include_str!("../../../tests/probe/alpine-busybox.out"),
            request: real_server(),
            want: Facts {
                files: [
                    (IFCFG_LO0.to_string(), file(include_str!("../../../tests/probe/files/rs-ifcfg-lo0"), 0o644)),
                    (SYSCTL_FILE.to_string(), file(include_str!("../../../tests/probe/files/rs-sysctl.conf"), 0o600)),
                ]
                .into(),
                sysctls: sysctls(&[("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"), ("net.ipv4.conf.lo.arp_ignore", "1"), ("net.ipv4.conf.lo.arp_announce", "2")]),
                addresses: vec![addr("127.0.0.1", 8, "lo", None), addr("10.77.0.100", 32, "lo", Some("lo:0")), addr("10.77.0.22", 24, "eth0", None)],
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", false)]),
                os_family: Some("alpine".into()),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "router-iptables-legacy: lvsctl's chains among `# Warning: iptables-legacy tables present` lines",
            output: include_str!("../../../tests/probe/router-iptables-legacy.out"),
            request: router(),
            want: Facts {
                files: [
                    (RULES.to_string(), file(include_str!("../../../tests/probe/files/router-nat.rules"), 0o640)),
                    (SYSCTL_FILE.to_string(), file(include_str!("../../../tests/probe/files/router-sysctl.conf"), 0o644)),
                ]
                .into(),
                sysctls: sysctls(&[("net.ipv4.ip_forward", "1")]),
                addresses: vec![addr("127.0.0.1", 8, "lo", None), addr("10.77.0.2", 24, "eth0", None), addr("10.77.9.2", 24, "eth1", None)],
                nat_chains: strings(&["LVSCTL-PREROUTING", "LVSCTL-POSTROUTING"]),
                services: services(&[("keepalived", false)]),
                os_family: Some("debian".into()),
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "overrides: sysctl files read after 90-lvsctl.conf that undo it (the script's own output against a tree)",
            output: include_str!("../../../tests/probe/overrides.out"),
            request: real_server(),
            want: Facts {
                sysctls: sysctls(&[("net.ipv4.conf.all.arp_ignore", "0"), ("net.ipv4.conf.all.arp_announce", "0"), ("net.ipv4.conf.lo.arp_ignore", "0"), ("net.ipv4.conf.lo.arp_announce", "0")]),
                addresses: debian_lo_eth0("10.77.0.21"),
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", false)]),
                os_family: Some("debian".into()),
                // Not reported: the earlier 50-default.conf, /run's 95-tuning.conf (masked by
                // /etc's), 97-masked.conf (masked by a /dev/null link), the glob in 99-glob.conf,
                // sysctl.conf's lo.arp_announce=2 (our value), and 99-sysctl.conf (a link to
                // sysctl.conf, reported once as /etc/sysctl.conf).
                sysctl_overrides: vec![
                    SysctlOverride { key: "net.ipv4.conf.lo.arp_ignore".into(), value: "0".into(), file: "/etc/sysctl.d/95-tuning.conf".into() },
                    SysctlOverride { key: "net.ipv4.conf.all.arp_announce".into(), value: "1".into(), file: "/etc/sysctl.d/95-tuning.conf".into() },
                    SysctlOverride { key: "net.ipv4.conf.all.arp_ignore".into(), value: "0".into(), file: "/etc/sysctl.conf".into() },
                ],
                ..Facts::default()
            },
            warnings: vec![],
        },
        Case {
            name: "bad-manifest: a manifest cut mid-write is a warning, not a failure",
            output: include_str!("../../../tests/probe/bad-manifest.out"),
            request: real_server(),
            want: Facts {
                sysctls: sysctls(&[("net.ipv4.conf.all.arp_ignore", "0"), ("net.ipv4.conf.all.arp_announce", "0"), ("net.ipv4.conf.lo.arp_ignore", "0"), ("net.ipv4.conf.lo.arp_announce", "0")]),
                addresses: debian_lo_eth0("10.77.0.21"),
                routes: vec![route("10.77.0.2", "eth0")],
                services: services(&[("keepalived", false)]),
                os_family: Some("debian".into()),
                ..Facts::default()
            },
            warnings: vec!["/var/lib/lvsctl/manifest.json is unparsable (EOF while parsing a string at line 1 column 60): what lvsctl applied before is unknown, so nothing the topology dropped will be removed"],
        },
    ]
}

#[test]
fn recorded_outputs_give_the_expected_facts() {
    for case in cases() {
        let (facts, warnings) = parse(case.output, &case.request).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_facts(case.name, &facts, &case.want);
        assert_eq!(warnings, case.warnings, "{}: warnings", case.name);
    }
}

/// Cut anywhere, an output never parses: a dropped connection is an error, not a host
/// with fewer files.
#[test]
fn every_truncation_of_a_recorded_output_is_an_error() {
    for case in cases() {
        let lines: Vec<&str> = case.output.lines().collect();
        for n in 0..lines.len() {
            let cut = lines[..n].join("\n");
            match parse(&cut, &case.request) {
                Err(ProbeError::Truncated { .. }) | Err(ProbeError::NoStart { .. }) => {}
                other => panic!("{}: cut after {n} lines gave {other:?}", case.name),
            }
        }
    }
    let recorded = include_str!("../../../tests/probe/director.out");
    let cut: String = recorded.lines().take(4).collect::<Vec<_>>().join("\n");
    let err = parse(&cut, &director()).unwrap_err();
    assert!(matches!(err, ProbeError::Truncated { lines: 4, .. }), "{err:?}");
    assert!(err.to_string().starts_with("the probe's output is truncated after line 4 (no `@@lvsctl end`"), "{err}");
}

#[test]
fn malformed_output_names_the_offending_line() {
    let good = include_str!("../../../tests/probe/real-server-drift.out");
    let cases: &[(&str, &str, &str)] = &[
        ("@@lvsctl sysctl net.ipv4.conf.all.arp_ignore 0", "@@lvsctl sysctl net.ipv4.conf.all.arp_ignore 0\nbash: line 1: oops", "line 14: a line outside any `@@lvsctl` record: `bash: line 1: oops`"),
        ("@@lvsctl os ID=debian", "@@lvsctl osx ID=debian", "unknown record: `@@lvsctl osx ID=debian`"),
        ("@@lvsctl file 644 root root /etc/sysctl.d/90-lvsctl.conf", "@@lvsctl file 6x4 root root /etc/sysctl.d/90-lvsctl.conf", "the mode is not octal"),
        ("@@lvsctl file 644 root root /etc/sysctl.d/90-lvsctl.conf", "@@lvsctl file 644 root /etc/sysctl.d/90-lvsctl.conf", "expected `file MODE OWNER GROUP PATH`"),
        ("@@lvsctl route default via 10.77.0.2 dev eth0 ", "@@lvsctl addr 2: eth0    inet6 fe80::1/64", "not a line of `ip -o addr show`"),
    ];
    for (from, to, message) in cases {
        assert!(good.contains(from), "{from}");
        let bad = good.replacen(from, to, 1);
        let err = parse(&bad, &real_server()).unwrap_err();
        assert!(matches!(err, ProbeError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().contains(message), "{err}\n  does not contain: {message}");
    }
    // Base64 that is not: the error names the line of the payload.
    let bad = good.replacen("IyBNYW5h", "Iy!NYW5h", 1);
    let err = parse(&bad, &real_server()).unwrap_err().to_string();
    assert!(err.starts_with("malformed probe output at line 3: bad base64 after `@@lvsctl file 644 root root /etc/sysconfig/network-scripts/ifcfg-lo:0`"), "{err}");
}

#[test]
fn a_host_that_cannot_be_probed_properly_is_an_error() {
    let head = "@@lvsctl probe 1\n";
    let end = "@@lvsctl end\n";
    let err = parse(&format!("{head}@@lvsctl unreadable /etc/keepalived/keepalived.conf\n{end}"), &director()).unwrap_err();
    assert_eq!(err.to_string(), "`/etc/keepalived/keepalived.conf` exists on the host but cannot be read (hint: connect as root, or set `become`)");
    let err = parse(&format!("{head}@@lvsctl missing base64\n@@lvsctl nofile /etc/sysctl.d/90-lvsctl.conf\n{end}"), &director()).unwrap_err();
    assert_eq!(err.to_string(), "`base64` is not on the host's PATH; the probe needs it to read files");
    let err = parse("@@lvsctl probe 2\n@@lvsctl end\n", &director()).unwrap_err();
    assert_eq!(err.to_string(), "the probe's output is in format `2`, this lvsctl reads format `1`");
    let err = parse("sh: 1: Syntax error: \"(\" unexpected\n", &director()).unwrap_err();
    assert!(err.to_string().contains("its output began with `sh: 1: Syntax error"), "{err}");
    let err = parse("", &director()).unwrap_err();
    assert!(err.to_string().contains("its output was empty"), "{err}");
}

/// The remote protocol's rules hold for the probe too: nothing but blank lines after
/// `end`, and the script's first record is `probe` (a motd before it is no record).
#[test]
fn records_after_the_end_or_before_the_start_are_errors() {
    let good = include_str!("../../../tests/probe/real-server-drift.out");
    let n = good.lines().count();
    let err = parse(&format!("{good}\n\n@@lvsctl sysctl net.ipv4.ip_forward 1\n"), &real_server()).unwrap_err();
    assert_eq!(err.to_string(), format!("malformed probe output at line {}: output after `@@lvsctl end`: `@@lvsctl sysctl net.ipv4.ip_forward 1`", n + 3));
    assert!(parse(&format!("{good}\n\n"), &real_server()).is_ok(), "blank lines after the end are no output");
    let err = parse(&format!("@@lvsctl nolist\n{good}"), &real_server()).unwrap_err();
    assert_eq!(err.to_string(), "malformed probe output at line 1: a record before `@@lvsctl probe`: `@@lvsctl nolist`");
    let err = parse("@@lvsctl nolist\n@@lvsctl end\n", &real_server()).unwrap_err();
    assert!(matches!(err, ProbeError::NoStart { first_line: Some(ref l) } if l == "@@lvsctl nolist"), "{err:?}");
}

#[test]
fn warnings_for_what_a_plan_cannot_see_through() {
    let out = "@@lvsctl probe 1\n\
        @@lvsctl missing ip\n\
        @@lvsctl notfile /etc/keepalived/keepalived.conf\n\
        @@lvsctl nofile /etc/sysctl.d/90-lvsctl.conf\n\
        @@lvsctl listed /etc/sysctl.d/90-lvsctl.conf\n\
        @@lvsctl manifest\n\
        eyJjbHVzdGVyIjoid2ViIiwiZ2VuZXJhdGlvbiI6MSwiZmlsZXMiOlsiL2V0Yy9vbGQuY29uZiJdLCJzeXNjdGxzIjpbXSwiYWRkcmVzc2VzIjpbXSwicm91dGVzIjpbXSwibmF0X2NoYWlucyI6W119\n\
        @@lvsctl keepalived installed\n\
        @@lvsctl keepalived version keepalived: error while loading shared libraries: libnl-3.so.200\n\
        @@lvsctl proc 900 1 keepalived\n\
        @@lvsctl pidfile 812\n\
        @@lvsctl noipvs\n\
        @@lvsctl end\n";
    let (facts, warnings) = parse(out, &director()).unwrap();
    assert_eq!(facts.ipvs, IpvsFact::NoIpvs);
    assert_eq!(facts.manifest.files, vec!["/etc/old.conf"]);
    assert_eq!((facts.keepalived.running, facts.keepalived.pid, facts.keepalived.version.clone()), (true, Some(900), None));
    assert_eq!(
        warnings,
        vec![
            "`ip` is not on the host's PATH: its addresses and routes are unknown (install iproute2)",
            "/etc/keepalived/keepalived.conf exists but is not a regular file (a directory?): lvsctl cannot write it until it is removed",
            "`keepalived --version` printed `keepalived: error while loading shared libraries: libnl-3.so.200`, not a version",
            "/etc/old.conf is in /var/lib/lvsctl/manifest.json but not in /var/lib/lvsctl/managed-files, so it was not probed: its state on the host is unknown",
            "/run/keepalived.pid names pid 812, which is not a running keepalived (a stale pid file: reloads through it will fail)",
        ]
    );
}

/// The probe and the change computation together: a hand-edited IPVS table on the ipvsadm
/// engine's director is rebuilt by loading the rules again.
#[test]
fn a_hand_edited_ipvsadm_table_is_reloaded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut d = crate::diagnostic::Diagnostics::default();
    let topo = crate::topology::Topology::load(&root.join("playbooks/dr-ipvsadm-single.yml"), &mut d).unwrap();
    let inv = crate::inventory::Inventory::load(&topo.inventory.as_ref().unwrap().value, &mut d).unwrap();
    let cluster = crate::model::Cluster::build(&topo, &inv, &mut d).unwrap();
    let templates = crate::render::Templates::new(None).unwrap();
    let plans = crate::plan::build(&cluster, &templates).unwrap();
    // Recorded from a network-scripts host (the VIP in ifcfg-eth0:0).
    let how = crate::plan::persistence::Persistence { backend: crate::plan::persistence::Backend::NetworkScripts, family: crate::plan::persistence::Family::Redhat, reason: "test".into() };
    let plan = &plans.iter().find(|p| p.host == "lvs1").unwrap().refinish(&how, &templates).unwrap();
    let req = ProbeRequest::for_plan(plan);
    let mut want = ipvsadm_director();
    want.files.insert(0, "/etc/lvsctl/boot.sh".into());
    want.files.push("/etc/systemd/system/lvsctl-boot.service".into());
    // A director's drain marks, read whether or not it has any.
    want.files.push(crate::model::drained::DRAINED_FILE.into());
    want.units = vec!["ipvsadm".into(), "lvsctl-boot.service".into()];
    assert_eq!(req, want);
    let (mut facts, _) = parse(include_str!("../../../tests/probe/ipvsadm-engine.out"), &req).unwrap();
    // The rules file as planned (a new one would be loaded by its reload anyway): the table
    // was edited by hand behind it.
    let rules = plan.file(IPVSADM_RULES).unwrap();
    facts.files.insert(IPVSADM_RULES.into(), crate::facts::FileFact { content: rules.content.clone(), mode: rules.mode, owner: "root".into(), group: "root".into() });
    let changes = changes::compute(plan, &facts, &Secrets::default()).changes;
    // One IpvsTable change (the Boot changes come after it).
    let tables: Vec<&Change> = changes.iter().filter(|c| matches!(c, Change::IpvsTable { .. })).collect();
    assert!(
        matches!(tables[..], [Change::IpvsTable { service, action: crate::changes::ServiceAction::Reload, differences, .. }]
            if service == "ipvsadm" && differences == &["TCP 10.77.0.100:80 wrr: scheduler rr (want wrr)", "TCP 10.77.0.100:80 wrr: 10.77.0.29:80 not in the topology (Route weight 1)"]),
        "{changes:?}"
    );
    assert!(!changes.iter().any(|c| matches!(c, Change::Service { .. })), "one action loads the rules: {changes:?}");
}

fn managed(path: &str, content: &str, mode: u32) -> ManagedFile {
    ManagedFile { path: path.into(), kind: crate::plan::FileKind::of_path(path).unwrap_or(crate::plan::FileKind::Other), content: content.into(), mode, owner: "root".into(), group: "root".into(), secret: false }
}

fn real_server_plan() -> HostPlan {
    HostPlan {
        cluster: "web".into(),
        host: "web1".into(),
        roles: vec![Role::RealServer],
        files: vec![managed(IFCFG_LO0, include_str!("../../../tests/probe/files/rs-ifcfg-lo0"), 0o644), managed(SYSCTL_FILE, include_str!("../../../tests/probe/files/rs-sysctl.conf"), 0o644)],
        sysctls: [("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"), ("net.ipv4.conf.lo.arp_ignore", "1"), ("net.ipv4.conf.lo.arp_announce", "2")]
            .iter()
            .map(|(k, v)| Sysctl { key: k.to_string(), value: v.to_string(), comment: None })
            .collect(),
        addresses: vec![addr("10.77.0.100", 32, "lo", Some("lo:0"))],
        routes: vec![],
        nat_chains: vec![],
        services: vec![],
        ipvs: vec![],
        kernel_modules: vec![],
        ..HostPlan::new("web", "web1")
    }
}

#[test]
fn a_request_is_what_the_plan_manages() {
    let mut plan = real_server_plan();
    plan.services.push(Service { name: "keepalived".into(), reload_on: vec![], rules_file: None });
    plan.files.push(plan.files[0].clone());
    let req = ProbeRequest::for_plan(&plan);
    assert_eq!(req.files, vec![IFCFG_LO0, SYSCTL_FILE]);
    assert_eq!(req.sysctls, real_server().sysctls);
    assert_eq!(req.sysctl_values, real_server().sysctl_values);
    assert_eq!(req.services, vec!["keepalived"]);
}

/// The probe and the change computation together: drift in one sysctl is one change.
#[test]
fn the_drifted_real_server_needs_exactly_its_arp_sysctl() {
    let plan = real_server_plan();
    let req = ProbeRequest::for_plan(&plan);
    let (facts, _) = parse(include_str!("../../../tests/probe/real-server-drift.out"), &req).unwrap();
    let changes = changes::compute(&plan, &facts, &Secrets::default()).changes;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(matches!(&changes[0], Change::Sysctl { key, from: Some(from), to } if key == "net.ipv4.conf.all.arp_ignore" && from == "0" && to == "1"), "{changes:?}");
    // And a fresh host needs everything.
    let (facts, _) = parse(include_str!("../../../tests/probe/lab-web1-fresh.out"), &req).unwrap();
    let changes = changes::compute(&plan, &facts, &Secrets::default()).changes;
    assert_eq!(changes.len(), 2 + 4 + 1, "{changes:?}");
}
