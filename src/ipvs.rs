//! The IPVS table of a director: what its kernel forwards (`Table`, read by the probe), what
//! the topology says it should forward (`expected`), and how the two compare (`compare`).
//!
//! `expected` is the one place that says what keepalived's `virtual_server` blocks, or the
//! ipvsadm engine's rules, program into the kernel: per service its protocol, VIP, port,
//! scheduler, persistence and forwarding method (dr -> Route, nat -> Masq, tun -> Tunnel),
//! per real server its data-plane address (`address`, else `ansible_host`), port and weight.
//!
//! `compare` sorts what differs into three kinds, because they mean different things:
//! - **missing**: a real server of the topology absent from the kernel's table, or kept there
//!   with weight 0 under `inhibit_on_failure`: keepalived's health check took it out, which is
//!   the cluster at work, not drift (so is a sorry server serving after the quorum was lost).
//!   Where nothing checks health (the ipvsadm engine, `check: { type: none }`) only a hand
//!   removes one: that is drift, reported as `differs`. A real server with weight 0 in the
//!   topology is not removed: keepalived keeps it with weight 0.
//! - **unexpected**: a real server or a whole service in the kernel that the topology lacks.
//! - **differs**: a service of the topology missing from the kernel, or its scheduler,
//!   persistence, flags (`ops`, a persistence granularity's `mask`), a real server's
//!   forwarding method or weight, or a sorry server not as planned.
//!
//! Pure: nothing here reads a host. Live numbers (connection counts) are in the table for
//! display and never in a finding, so findings are stable between a plan and its apply.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::model::Cluster;
use crate::topology::{CheckKind, Engine, Mode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
    /// A firewall-mark service: matched by the mark netfilter gives packets, not by address.
    #[serde(rename = "FWM")]
    Fwm,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Fwm => "FWM",
        }
    }

    /// As ipvsadm and /proc/net/ip_vs print it.
    pub fn parse(word: &str) -> Option<Protocol> {
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp, Protocol::Fwm].into_iter().find(|p| p.as_str() == word)
    }
}

/// A real server's forwarding method, named as ipvsadm and the kernel print it. `Local` is
/// what the kernel makes of any method when the real server's address is the director's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Forward {
    Route,
    Masq,
    Tunnel,
    Local,
}

impl Forward {
    pub fn as_str(self) -> &'static str {
        match self {
            Forward::Route => "Route",
            Forward::Masq => "Masq",
            Forward::Tunnel => "Tunnel",
            Forward::Local => "Local",
        }
    }

    pub fn parse(word: &str) -> Option<Forward> {
        [Forward::Route, Forward::Masq, Forward::Tunnel, Forward::Local].into_iter().find(|f| f.as_str() == word)
    }

    /// The method of an LVS mode: DR routes, NAT masquerades, TUN tunnels.
    pub fn of(mode: Mode) -> Forward {
        match mode {
            Mode::Dr => Forward::Route,
            Mode::Nat => Forward::Masq,
            Mode::Tun => Forward::Tunnel,
        }
    }
}

/// Where the probe read the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `ipvsadm -Ln`.
    Ipvsadm,
    /// /proc/net/ip_vs, when ipvsadm is missing or failed (persistence is in kernel ticks there).
    Proc,
}

/// The kernel's IPVS table, sorted like `ipvsadm -Ln` sorts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub source: Source,
    pub services: Vec<Service>,
}

/// A virtual service in the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub protocol: Protocol,
    /// The VIP; none for a firewall-mark service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    pub scheduler: String,
    pub persistent: bool,
    /// Seconds. None when not persistent, or when read from /proc/net/ip_vs (which prints
    /// kernel ticks) on a host whose kernel HZ is unknown.
    pub persistence_timeout: Option<u64>,
    /// Whatever else is set, as ipvsadm words it: `ops`, `mask 255.255.255.0`, `pe sip`,
    /// scheduler flags such as `sh-port`, `IPv6` (an IPv6 firewall-mark service).
    pub flags: Vec<String>,
    pub real_servers: Vec<RealServer>,
}

impl Service {
    /// `TCP 10.77.0.100:80 wlc`, `TCP [2001:db8::1]:80 rr`, `FWM 1 rr`.
    pub fn label(&self) -> String {
        match (self.fwmark, self.vip, self.port) {
            (Some(mark), _, _) => format!("FWM {mark} {}", self.scheduler),
            (None, Some(vip), Some(port)) => format!("{} {} {}", self.protocol.as_str(), addr_port(vip, port), self.scheduler),
            _ => format!("{} ? {}", self.protocol.as_str(), self.scheduler),
        }
    }
}

/// A real server ("destination") of a service in the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealServer {
    pub address: IpAddr,
    pub port: u16,
    pub forward: Forward,
    pub weight: i64,
    pub active_conn: u64,
    pub inact_conn: u64,
}

/// `10.0.0.1:80`, `[2001:db8::1]:80`.
pub fn addr_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// A virtual service as the topology wants it in every director's kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedService {
    /// The topology's name of the service (`http`).
    pub name: String,
    /// `Fwm` for a firewall-mark service.
    pub protocol: Protocol,
    pub vip: IpAddr,
    pub port: u16,
    /// A firewall-mark service is the kernel's by its mark alone (no address, no port).
    pub fwmark: Option<u32>,
    pub scheduler: String,
    pub persistence_timeout: Option<u64>,
    pub forward: Forward,
    /// The kernel's flags, as `Service::flags` words them: `mask 255.255.255.0` for a
    /// persistence granularity, `ops` for one-packet scheduling.
    pub flags: Vec<String>,
    /// Something removes failing real servers (keepalived with a check): a missing one is
    /// health checking at work, not drift.
    pub health_checked: bool,
    pub real_servers: Vec<ExpectedRealServer>,
    /// keepalived adds it when the quorum is lost (and keeps it with weight 0 before, with
    /// `sorry_server_inhibit`).
    pub sorry_server: Option<ExpectedSorryServer>,
    /// Seconds a real server the topology drops is drained before it goes.
    pub drain_timeout: u64,
}

impl ExpectedService {
    pub fn label(&self) -> String {
        match self.fwmark {
            Some(mark) => format!("FWM {mark} {}", self.scheduler),
            None => format!("{} {} {}", self.protocol.as_str(), addr_port(self.vip, self.port), self.scheduler),
        }
    }

    /// Whether `s` in the kernel is this service: by mark, or by protocol, address and port.
    pub fn is(&self, s: &Service) -> bool {
        match self.fwmark {
            Some(mark) => s.fwmark == Some(mark) && !s.flags.iter().any(|f| f == "IPv6"),
            None => s.fwmark.is_none() && s.protocol == self.protocol && s.vip == Some(self.vip) && s.port == Some(self.port),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedRealServer {
    /// The inventory host (`web1`).
    pub host: String,
    /// Its data-plane address: the inventory's `address`, else `ansible_host`.
    pub address: IpAddr,
    pub port: u16,
    pub weight: u64,
    /// A failing check leaves it in the table with weight 0 instead of removing it.
    pub inhibit_on_failure: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedSorryServer {
    /// The inventory host, when the topology names one.
    pub host: Option<String>,
    pub address: IpAddr,
    pub port: u16,
    pub forward: Forward,
    pub inhibit: bool,
}

/// The table every director of `cluster` should have, in topology order.
pub fn expected(cluster: &Cluster) -> Vec<ExpectedService> {
    cluster
        .services
        .iter()
        .map(|s| ExpectedService {
            name: s.name.clone(),
            protocol: match (s.fwmark, s.protocol) {
                (Some(_), _) => Protocol::Fwm,
                (None, crate::topology::Protocol::Tcp) => Protocol::Tcp,
                (None, crate::topology::Protocol::Udp) => Protocol::Udp,
            },
            vip: s.vip,
            port: s.port,
            fwmark: s.fwmark,
            scheduler: s.scheduler.as_str().to_string(),
            persistence_timeout: s.persistence_timeout,
            forward: Forward::of(s.mode),
            flags: s
                .persistence_granularity
                .filter(|g| *g != Ipv4Addr::BROADCAST)
                .map(|g| format!("mask {g}"))
                .into_iter()
                .chain(s.ops.then(|| "ops".to_string()))
                .collect(),
            health_checked: cluster.engine == Engine::Keepalived && s.check.kind != CheckKind::None,
            real_servers: s
                .real_servers
                .iter()
                .map(|r| ExpectedRealServer { host: r.host.clone(), address: r.address, port: r.port, weight: r.weight, inhibit_on_failure: r.inhibit_on_failure.unwrap_or(s.inhibit_on_failure) })
                .collect(),
            sorry_server: s.sorry_server.as_ref().map(|ss| ExpectedSorryServer { host: ss.host.clone(), address: ss.address, port: ss.port, forward: Forward::of(ss.mode), inhibit: ss.inhibit }),
            drain_timeout: s.drain_timeout,
        })
        .collect()
}

/// The detail of the finding that says a service's sorry server is serving.
const SORRY_SERVING: &str = "sorry server serving (the quorum is lost)";

/// One difference between the kernel's table and the topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The service: the topology's label (`TCP 10.77.0.100:80 wlc`), or the kernel's for a
    /// service the topology lacks.
    pub service: String,
    /// The real server (`10.77.0.22:80`); none when the finding is about the whole service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_server: Option<String>,
    /// The real server's inventory host, when the topology names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub detail: String,
}

impl fmt::Display for Finding {
    /// `TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 missing (health check failing)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.service)?;
        if let Some(h) = &self.host {
            write!(f, " {h}")?;
        }
        if let Some(rs) = &self.real_server {
            write!(f, " {rs}")?;
        }
        write!(f, " {}", self.detail)
    }
}

/// The kernel's table against the topology's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Real servers of the topology found in the kernel, out of `real_servers_expected`.
    pub real_servers_present: usize,
    pub real_servers_expected: usize,
    pub missing: Vec<Finding>,
    pub unexpected: Vec<Finding>,
    pub differs: Vec<Finding>,
}

impl Comparison {
    /// The table drifted from the topology beyond health-check removals.
    pub fn drift(&self) -> bool {
        !self.unexpected.is_empty() || !self.differs.is_empty()
    }

    /// Whole services in the kernel that the topology lacks (keepalived leaves those alone:
    /// it only adds and removes the services of its own configuration).
    pub fn foreign_services(&self) -> impl Iterator<Item = &Finding> {
        self.unexpected.iter().filter(|f| f.real_server.is_none())
    }

    /// The hosts of the missing real servers, for a short summary.
    pub fn missing_hosts(&self) -> Vec<&str> {
        self.missing.iter().filter(|f| f.detail != SORRY_SERVING).map(|f| f.host.as_deref().or(f.real_server.as_deref()).unwrap_or("?")).collect()
    }
}

pub fn compare(expected: &[ExpectedService], live: &Table) -> Comparison {
    let mut c = Comparison::default();
    let mut matched = vec![false; live.services.len()];
    for want in expected {
        c.real_servers_expected += want.real_servers.len();
        let label = want.label();
        let finding = |rs: Option<&ExpectedRealServer>, detail: String| Finding {
            service: label.clone(),
            real_server: rs.map(|r| addr_port(r.address, r.port)),
            host: rs.map(|r| r.host.clone()),
            detail,
        };
        let found = live.services.iter().position(|s| want.is(s));
        let Some(i) = found else {
            c.differs.push(finding(None, "not in the kernel's table".into()));
            continue;
        };
        matched[i] = true;
        let have = &live.services[i];
        if have.scheduler != want.scheduler {
            c.differs.push(finding(None, format!("scheduler {} (want {})", have.scheduler, want.scheduler)));
        }
        match (want.persistence_timeout, have.persistent, have.persistence_timeout) {
            (None, false, _) => {}
            (None, true, t) => c.differs.push(finding(None, format!("persistent{} (want no persistence)", t.map(|t| format!(" {t}")).unwrap_or_default()))),
            (Some(w), false, _) => c.differs.push(finding(None, format!("not persistent (want persistence_timeout {w})"))),
            // Unknown (kernel ticks without the kernel's HZ): persistent is all that can be said.
            (Some(_), true, None) => {}
            (Some(w), true, Some(t)) if w == t => {}
            (Some(w), true, Some(t)) => c.differs.push(finding(None, format!("persistence_timeout {t} (want {w})"))),
        }
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        if sorted(&have.flags) != sorted(&want.flags) {
            let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
            c.differs.push(finding(None, format!("flags {} (want {})", list(&have.flags), list(&want.flags))));
        }
        let mut rs_matched = vec![false; have.real_servers.len()];
        for rs in &want.real_servers {
            let Some(j) = have.real_servers.iter().position(|h| h.address == rs.address && h.port == rs.port) else {
                if want.health_checked {
                    c.missing.push(finding(Some(rs), "missing (health check failing)".into()));
                } else {
                    c.differs.push(finding(Some(rs), "missing (nothing checks its health: removed by hand?)".into()));
                }
                continue;
            };
            rs_matched[j] = true;
            let h = &have.real_servers[j];
            if h.forward != want.forward {
                c.differs.push(finding(Some(rs), format!("forwarding {} (want {})", h.forward.as_str(), want.forward.as_str())));
            }
            if h.weight == 0 && rs.weight != 0 && rs.inhibit_on_failure && want.health_checked {
                c.missing.push(finding(Some(rs), "weight 0 (health check failing, inhibit_on_failure)".into()));
                continue;
            }
            c.real_servers_present += 1;
            if i64::try_from(rs.weight).ok() != Some(h.weight) {
                c.differs.push(finding(Some(rs), format!("weight {} (want {})", h.weight, rs.weight)));
            }
        }
        let mut sorry_seen = false;
        for (h, _) in have.real_servers.iter().zip(&rs_matched).filter(|(_, m)| !**m) {
            if let Some(ss) = want.sorry_server.as_ref().filter(|ss| h.address == ss.address && h.port == ss.port) {
                sorry_seen = true;
                let sorry = |detail: String| Finding { service: label.clone(), real_server: Some(addr_port(h.address, h.port)), host: ss.host.clone(), detail };
                if h.forward != ss.forward {
                    c.differs.push(sorry(format!("sorry server forwarding {} (want {})", h.forward.as_str(), ss.forward.as_str())));
                }
                if h.weight != 0 {
                    c.missing.push(sorry(SORRY_SERVING.into()));
                }
                continue;
            }
            c.unexpected.push(Finding {
                service: label.clone(),
                real_server: Some(addr_port(h.address, h.port)),
                host: None,
                detail: format!("not in the topology ({} weight {})", h.forward.as_str(), h.weight),
            });
        }
        if let Some(ss) = want.sorry_server.as_ref().filter(|ss| ss.inhibit && !sorry_seen) {
            c.differs.push(Finding {
                service: label.clone(),
                real_server: Some(addr_port(ss.address, ss.port)),
                host: ss.host.clone(),
                detail: "sorry server not in the kernel's table (sorry_server_inhibit keeps it there with weight 0)".into(),
            });
        }
    }
    for (s, _) in live.services.iter().zip(&matched).filter(|(_, m)| !**m) {
        let n = s.real_servers.len();
        c.unexpected.push(Finding {
            service: s.label(),
            real_server: None,
            host: None,
            detail: format!("not in the topology ({n} real server{})", if n == 1 { "" } else { "s" }),
        });
    }
    c
}

/// The ipvsadm command that deletes a service the topology lacks (for an operator's hint).
pub fn delete_command(s: &Service) -> String {
    match (s.fwmark, s.vip, s.port) {
        (Some(mark), _, _) => format!("ipvsadm -D -f {mark}{}", if s.flags.iter().any(|f| f == "IPv6") { " -6" } else { "" }),
        (None, Some(vip), Some(port)) => {
            let flag = match s.protocol {
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
                Protocol::Tcp | Protocol::Fwm => "-t",
            };
            format!("ipvsadm -D {flag} {}", addr_port(vip, port))
        }
        _ => "ipvsadm -D".into(),
    }
}

/// Test helpers: an example playbook's cluster, and a kernel table exactly as planned.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::diagnostic::Diagnostics;
    use crate::inventory::Inventory;
    use crate::topology::Topology;

    /// Every example playbook (playbooks/*.yml), by file name, sorted.
    pub fn examples() -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks");
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("playbooks/")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yml"))
            .collect();
        v.sort();
        v
    }

    /// The validated cluster of `playbooks/<playbook>` with its own inventory.
    pub fn example(playbook: &str) -> Cluster {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut d = Diagnostics::default();
        let topo = Topology::load(&root.join("playbooks").join(playbook), &mut d).expect("topology");
        let inv_path = topo.inventory.as_ref().expect("inventory key").value.clone();
        let inv = Inventory::load(&inv_path, &mut d).expect("inventory");
        Cluster::build(&topo, &inv, &mut d).unwrap_or_else(|| panic!("{playbook}: {}", crate::report::diagnostics(&d)))
    }

    /// What `ipvsadm -Ln` would give on a director keepalived programmed as planned.
    pub fn as_planned(expected: &[ExpectedService]) -> Table {
        let services = expected
            .iter()
            .map(|e| Service {
                protocol: e.protocol,
                vip: e.fwmark.is_none().then_some(e.vip),
                port: e.fwmark.is_none().then_some(e.port),
                fwmark: e.fwmark,
                scheduler: e.scheduler.clone(),
                persistent: e.persistence_timeout.is_some(),
                persistence_timeout: e.persistence_timeout,
                flags: e.flags.clone(),
                real_servers: e
                    .real_servers
                    .iter()
                    .map(|r| RealServer { address: r.address, port: r.port, forward: e.forward, weight: r.weight as i64, active_conn: 0, inact_conn: 0 })
                    .chain(e.sorry_server.as_ref().filter(|ss| ss.inhibit).map(|ss| RealServer { address: ss.address, port: ss.port, forward: ss.forward, weight: 0, active_conn: 0, inact_conn: 0 }))
                    .collect(),
            })
            .collect();
        Table { source: Source::Ipvsadm, services }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::example as cluster;
    use super::*;

    fn rs(host: &str, address: &str, port: u16, weight: u64) -> ExpectedRealServer {
        ExpectedRealServer { host: host.into(), address: address.parse().unwrap(), port, weight, inhibit_on_failure: false }
    }

    /// (scheduler, persistence, forward, health checked, real servers) of each playbook's one
    /// service: what keepalived.conf / the ipvsadm rules of that playbook program.
    #[test]
    fn the_expected_table_of_every_example_playbook() {
        type Want = (&'static str, Protocol, &'static str, u16, &'static str, Option<u64>, Forward, bool, Vec<ExpectedRealServer>);
        let cases: Vec<Want> = vec![
            ("dr-ipvsadm-single.yml", Protocol::Tcp, "10.77.0.100", 80, "wrr", None, Forward::Route, false, vec![rs("web1", "10.77.0.21", 80, 1), rs("web2", "10.77.0.22", 80, 1)]),
            ("dr-keepalived-pair-http.yml", Protocol::Tcp, "10.77.0.100", 80, "wlc", None, Forward::Route, true, vec![rs("web1", "10.77.0.21", 80, 3), rs("web2", "10.77.0.22", 80, 3)]),
            ("dr-keepalived-pair-sync.yml", Protocol::Tcp, "10.77.0.100", 80, "rr", None, Forward::Route, true, vec![rs("web1", "10.77.0.21", 80, 100), rs("web2", "10.77.0.22", 80, 100)]),
            ("dr-keepalived-router.yml", Protocol::Tcp, "10.77.0.100", 80, "wlc", Some(60), Forward::Route, true, vec![rs("web1", "10.77.0.21", 80, 1), rs("web2", "10.77.0.22", 80, 1)]),
            ("dr-keepalived-single.yml", Protocol::Tcp, "10.77.0.100", 80, "wlc", Some(60), Forward::Route, true, vec![rs("web1", "10.77.0.21", 80, 100), rs("web2", "10.77.0.22", 80, 100)]),
            // NAT remaps the port and forwards to the data-plane `address` (inventories/nat.yml),
            // not to the SSH address.
            ("nat-director.yml", Protocol::Tcp, "10.77.0.100", 80, "rr", None, Forward::Masq, false, vec![rs("web1", "10.77.1.21", 8080, 1), rs("web2", "10.77.1.22", 8080, 1)]),
            ("nat-keepalived-pair.yml", Protocol::Tcp, "10.77.0.100", 80, "wlc", None, Forward::Masq, true, vec![rs("web1", "10.77.1.21", 8080, 1), rs("web2", "10.77.1.22", 8080, 1)]),
            ("tun-keepalived.yml", Protocol::Udp, "10.77.0.53", 53, "sh", None, Forward::Tunnel, true, vec![rs("web1", "10.77.0.21", 53, 1), rs("web2", "10.77.0.22", 53, 1)]),
            ("nat-keepalived-pair-unicast.yml", Protocol::Tcp, "10.77.0.100", 80, "wlc", None, Forward::Masq, true, vec![rs("web1", "10.77.1.21", 8080, 1), rs("web2", "10.77.1.22", 8080, 1)]),
        ];
        for (pb, protocol, vip, port, scheduler, persistence, forward, checked, real_servers) in cases {
            let got = expected(&cluster(pb));
            assert_eq!(got.len(), 1, "{pb}");
            let s = &got[0];
            assert_eq!((s.protocol, s.vip, s.port, s.scheduler.as_str()), (protocol, vip.parse().unwrap(), port, scheduler), "{pb}");
            assert_eq!((s.persistence_timeout, s.forward, s.health_checked), (persistence, forward, checked), "{pb}");
            assert_eq!(s.real_servers, real_servers, "{pb}");
            assert_eq!((s.flags.len(), &s.sorry_server), (0, &None), "{pb}");
        }
    }

    /// keepalived's virtual-server vocabulary: granularity and ops are kernel flags,
    /// inhibit_on_failure is per real server, the sorry server has its own method.
    #[test]
    fn the_expected_table_of_the_sorry_server_and_quorum_playbook() {
        let got = expected(&cluster("dr-keepalived-sorry-quorum.yml"));
        let labels: Vec<String> = got.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["TCP 10.77.0.100:80 wlc", "TCP 10.77.0.101:443 wlc", "UDP 10.77.0.102:53 rr"]);
        let (http, https, dns) = (&got[0], &got[1], &got[2]);
        assert_eq!((http.persistence_timeout, http.flags.as_slice()), (Some(600), &["mask 255.255.255.0".to_string()][..]));
        let inhibit: Vec<bool> = http.real_servers.iter().map(|r| r.inhibit_on_failure).collect();
        assert_eq!(inhibit, [true, false], "web2 overrides the service's inhibit_on_failure");
        assert_eq!(http.sorry_server, Some(ExpectedSorryServer { host: None, address: Ipv4Addr::LOCALHOST.into(), port: 80, forward: Forward::Route, inhibit: true }));
        assert_eq!(https.sorry_server, Some(ExpectedSorryServer { host: Some("web2".into()), address: "10.77.0.22".parse().unwrap(), port: 443, forward: Forward::Route, inhibit: false }));
        assert_eq!((https.persistence_timeout, https.flags.len()), (Some(3600), 0));
        assert_eq!((dns.protocol, dns.flags.as_slice()), (Protocol::Udp, &["ops".to_string()][..]));
        assert_eq!(dns.real_servers, [rs("web1", "10.77.0.21", 53, 1), rs("web2", "10.77.0.22", 53, 1)]);
        // Programmed as planned (the inhibited sorry server idle with weight 0): nothing to say.
        let c = compare(&got, &testing::as_planned(&got));
        assert_eq!(c, Comparison { real_servers_present: 5, real_servers_expected: 5, ..Comparison::default() });
    }

    /// A firewall-mark service is the kernel's `FWM 1` (no address, no port), its real
    /// servers at port 0; a service of the VIP's port 80 in the kernel is another service.
    #[test]
    fn the_expected_table_of_the_fwmark_playbook() {
        let got = expected(&cluster("dr-keepalived-fwmark.yml"));
        let labels: Vec<String> = got.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["FWM 1 rr"]);
        assert_eq!((got[0].protocol, got[0].fwmark, got[0].persistence_timeout), (Protocol::Fwm, Some(1), Some(300)));
        assert_eq!(got[0].real_servers, [rs("web1", "10.77.0.21", 0, 1), rs("web2", "10.77.0.22", 0, 1)]);
        let planned = testing::as_planned(&got);
        assert_eq!(planned.services[0].label(), "FWM 1 rr");
        let c = compare(&got, &planned);
        assert_eq!(c, Comparison { real_servers_present: 2, real_servers_expected: 2, ..Comparison::default() });
        // The same real servers under a TCP service of the VIP's first port: not this service.
        let mut by_port = planned.services[0].clone();
        (by_port.protocol, by_port.vip, by_port.port, by_port.fwmark) = (Protocol::Tcp, Some("10.77.0.100".parse().unwrap()), Some(80), None);
        let c = compare(&got, &table(vec![by_port]));
        assert_eq!(lines(&c.differs), ["FWM 1 rr: not in the kernel's table"]);
        assert_eq!(c.unexpected.len(), 1, "{:?}", c.unexpected);
        // Another mark is another service too.
        let mut other = planned.services[0].clone();
        other.fwmark = Some(2);
        assert_eq!(lines(&compare(&got, &table(vec![other])).differs), ["FWM 1 rr: not in the kernel's table"]);
    }

    #[test]
    fn inhibited_real_servers_and_sorry_servers_are_health_checking_at_work() {
        let want = expected(&cluster("dr-keepalived-sorry-quorum.yml"));
        let mut t = testing::as_planned(&want);
        // The quorum is lost: keepalived took web1 out (weight 0, inhibited) and web2 out
        // (removed), and the sorry server serves.
        let http = &mut t.services[0];
        http.real_servers[0].weight = 0;
        http.real_servers.remove(1);
        http.real_servers[1].weight = 1;
        let c = compare(&want, &t);
        assert_eq!(
            lines(&c.missing),
            [
                "TCP 10.77.0.100:80 wlc: web1 10.77.0.21:80 weight 0 (health check failing, inhibit_on_failure)",
                "TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 missing (health check failing)",
                "TCP 10.77.0.100:80 wlc: 127.0.0.1:80 sorry server serving (the quorum is lost)",
            ]
        );
        assert_eq!(c.missing_hosts(), ["web1", "web2"]);
        assert_eq!((c.real_servers_present, c.drift()), (3, false));
        // web2 does not inhibit: weight 0 is drift there. And the inhibited sorry server gone is drift.
        let mut t = testing::as_planned(&want);
        t.services[0].real_servers[1].weight = 0;
        t.services[0].real_servers.pop();
        assert_eq!(
            lines(&compare(&want, &t).differs),
            [
                "TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 weight 0 (want 2)",
                "TCP 10.77.0.100:80 wlc: 127.0.0.1:80 sorry server not in the kernel's table (sorry_server_inhibit keeps it there with weight 0)",
            ]
        );
        // Flags: the granularity's mask missing, ops on the wrong service.
        let mut t = testing::as_planned(&want);
        t.services[0].flags.clear();
        t.services[2].flags.clear();
        t.services[1].flags.push("ops".into());
        assert_eq!(
            lines(&compare(&want, &t).differs),
            [
                "TCP 10.77.0.100:80 wlc: flags none (want mask 255.255.255.0)",
                "TCP 10.77.0.101:443 wlc: flags ops (want none)",
                "UDP 10.77.0.102:53 rr: flags none (want ops)",
            ]
        );
    }

    fn want_http(checked: bool) -> Vec<ExpectedService> {
        vec![ExpectedService {
            name: "http".into(),
            protocol: Protocol::Tcp,
            vip: "10.77.0.100".parse().unwrap(),
            port: 80,
            fwmark: None,
            scheduler: "wlc".into(),
            persistence_timeout: Some(60),
            forward: Forward::Route,
            flags: vec![],
            health_checked: checked,
            real_servers: vec![rs("web1", "10.77.0.21", 80, 1), rs("web2", "10.77.0.22", 80, 0)],
            sorry_server: None,
            drain_timeout: 30,
        }]
    }

    fn live_rs(addr: &str, port: u16, forward: Forward, weight: i64) -> RealServer {
        RealServer { address: addr.parse().unwrap(), port, forward, weight, active_conn: 3, inact_conn: 12 }
    }

    fn live_http(real_servers: Vec<RealServer>) -> Service {
        Service {
            protocol: Protocol::Tcp,
            vip: Some("10.77.0.100".parse().unwrap()),
            port: Some(80),
            fwmark: None,
            scheduler: "wlc".into(),
            persistent: true,
            persistence_timeout: Some(60),
            flags: vec![],
            real_servers,
        }
    }

    fn table(services: Vec<Service>) -> Table {
        Table { source: Source::Ipvsadm, services }
    }

    fn lines(v: &[Finding]) -> Vec<String> {
        v.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn a_table_as_planned_has_nothing_to_report() {
        // web2 has weight 0 in the topology: still in the table, with weight 0.
        let t = table(vec![live_http(vec![live_rs("10.77.0.21", 80, Forward::Route, 1), live_rs("10.77.0.22", 80, Forward::Route, 0)])]);
        let c = compare(&want_http(true), &t);
        assert_eq!(c, Comparison { real_servers_present: 2, real_servers_expected: 2, ..Comparison::default() });
        assert!(!c.drift());
    }

    #[test]
    fn a_real_server_removed_by_its_health_check_is_missing_not_drift() {
        let t = table(vec![live_http(vec![live_rs("10.77.0.21", 80, Forward::Route, 1)])]);
        let c = compare(&want_http(true), &t);
        assert_eq!(lines(&c.missing), ["TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 missing (health check failing)"]);
        assert_eq!((c.real_servers_present, c.real_servers_expected), (1, 2));
        assert!(c.unexpected.is_empty() && c.differs.is_empty());
        assert!(!c.drift());
        assert_eq!(c.missing_hosts(), ["web2"]);
        // Nothing checks health (ipvsadm engine, check none): only a hand removed it.
        let c = compare(&want_http(false), &t);
        assert!(c.missing.is_empty());
        assert_eq!(lines(&c.differs), ["TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 missing (nothing checks its health: removed by hand?)"]);
        assert!(c.drift());
    }

    #[test]
    fn what_the_topology_lacks_is_unexpected() {
        let mut extra = live_http(vec![live_rs("10.77.0.99", 80, Forward::Route, 1)]);
        extra.vip = Some("10.77.0.200".parse().unwrap());
        extra.persistent = false;
        extra.persistence_timeout = None;
        let fwm = Service { protocol: Protocol::Fwm, vip: None, port: None, fwmark: Some(1), scheduler: "rr".into(), persistent: false, persistence_timeout: None, flags: vec![], real_servers: vec![] };
        let t = table(vec![
            live_http(vec![live_rs("10.77.0.21", 80, Forward::Route, 1), live_rs("10.77.0.22", 80, Forward::Route, 0), live_rs("10.77.0.23", 80, Forward::Route, 5)]),
            extra,
            fwm,
        ]);
        let c = compare(&want_http(true), &t);
        assert_eq!(
            lines(&c.unexpected),
            [
                "TCP 10.77.0.100:80 wlc: 10.77.0.23:80 not in the topology (Route weight 5)",
                "TCP 10.77.0.200:80 wlc: not in the topology (1 real server)",
                "FWM 1 rr: not in the topology (0 real servers)",
            ]
        );
        assert!(c.missing.is_empty() && c.differs.is_empty());
        assert!(c.drift());
        let foreign: Vec<String> = c.foreign_services().map(|f| f.service.clone()).collect();
        assert_eq!(foreign, ["TCP 10.77.0.200:80 wlc", "FWM 1 rr"]);
        assert_eq!(delete_command(&t.services[1]), "ipvsadm -D -t 10.77.0.200:80");
        assert_eq!(delete_command(&t.services[2]), "ipvsadm -D -f 1");
    }

    #[test]
    fn scheduler_method_weight_and_persistence_differences_are_drift() {
        let mut s = live_http(vec![live_rs("10.77.0.21", 80, Forward::Masq, 7), live_rs("10.77.0.22", 80, Forward::Route, 0)]);
        s.scheduler = "rr".into();
        s.persistence_timeout = Some(300);
        s.flags = vec!["ops".into()];
        let c = compare(&want_http(true), &table(vec![s.clone()]));
        assert_eq!(
            lines(&c.differs),
            [
                "TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)",
                "TCP 10.77.0.100:80 wlc: persistence_timeout 300 (want 60)",
                "TCP 10.77.0.100:80 wlc: flags ops (want none)",
                "TCP 10.77.0.100:80 wlc: web1 10.77.0.21:80 forwarding Masq (want Route)",
                "TCP 10.77.0.100:80 wlc: web1 10.77.0.21:80 weight 7 (want 1)",
            ]
        );
        assert_eq!((c.real_servers_present, c.missing.len(), c.unexpected.len()), (2, 0, 0));
        // Persistence: off where wanted, on where not, unknown (ticks without HZ) is no difference.
        s.scheduler = "wlc".into();
        s.flags.clear();
        s.real_servers = vec![live_rs("10.77.0.21", 80, Forward::Route, 1), live_rs("10.77.0.22", 80, Forward::Route, 0)];
        s.persistent = false;
        s.persistence_timeout = None;
        assert_eq!(lines(&compare(&want_http(true), &table(vec![s.clone()])).differs), ["TCP 10.77.0.100:80 wlc: not persistent (want persistence_timeout 60)"]);
        s.persistent = true;
        assert!(!compare(&want_http(true), &table(vec![s.clone()])).drift());
        let mut no_persistence = want_http(true);
        no_persistence[0].persistence_timeout = None;
        s.persistence_timeout = Some(60);
        assert_eq!(lines(&compare(&no_persistence, &table(vec![s])).differs), ["TCP 10.77.0.100:80 wlc: persistent 60 (want no persistence)"]);
    }

    #[test]
    fn a_service_missing_from_the_kernel_is_drift() {
        // Same VIP and port, other protocol: not the service.
        let mut udp = live_http(vec![]);
        udp.protocol = Protocol::Udp;
        let c = compare(&want_http(true), &table(vec![udp]));
        assert_eq!(lines(&c.differs), ["TCP 10.77.0.100:80 wlc: not in the kernel's table"]);
        assert_eq!(lines(&c.unexpected), ["UDP 10.77.0.100:80 wlc: not in the topology (0 real servers)"]);
        assert_eq!((c.real_servers_present, c.real_servers_expected), (0, 2));
        assert!(c.missing.is_empty(), "the real servers of a missing service are not listed one by one");
        let c = compare(&want_http(true), &table(vec![]));
        assert_eq!(lines(&c.differs), ["TCP 10.77.0.100:80 wlc: not in the kernel's table"]);
    }
}
