//! Virtual services and their real servers: names and endpoints unique, real servers in the
//! inventory with an address, not directors, on the service port unless NAT. The options
//! beyond that (`service_options`, `check`, `sorry_server`) have their own files.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use super::{Builder, Check, Director, SorryServer};
use crate::diagnostic::Span;
use crate::yaml::Sp;
use crate::token::check_identifier;
use crate::topology::{Engine, Mode, Protocol, Scheduler};

/// How long a removed real server is drained by default: short requests finish in well
/// under a second; a long-lived connection is cut after this (Seesaw and most L4 balancers
/// use tens of seconds).
pub const DEFAULT_DRAIN_TIMEOUT: u64 = 30;

#[derive(Debug, Clone)]
pub struct VirtualService {
    pub name: String,
    pub vip: IpAddr,
    /// The service's port; a firewall-mark service's first port (its checks' default).
    pub port: u16,
    /// A firewall-mark service: IPVS matches this mark, which the directors' mangle rules
    /// give packets to any of `ports` of the VIP; its real servers' port is 0 (each packet
    /// keeps its own).
    pub fwmark: Option<u32>,
    /// The ports the service covers: `[port]` unless it is a firewall-mark service.
    pub ports: Vec<u16>,
    /// The VRRP instance that carries the VIP when not the first (`vrrp_instance`).
    pub vrrp_instance: Option<String>,
    pub protocol: Protocol,
    pub mode: Mode,
    pub scheduler: Scheduler,
    pub persistence_timeout: Option<u64>,
    /// Only with `persistence_timeout`.
    pub persistence_granularity: Option<Ipv4Addr>,
    /// One-packet scheduling; UDP services only.
    pub ops: bool,
    pub delay_loop: u64,
    /// Seconds to drain a real server before its removal (`DEFAULT_DRAIN_TIMEOUT`).
    pub drain_timeout: u64,
    /// keepalived-only from here on (refused with `engine: ipvsadm`).
    pub alpha: bool,
    pub omega: bool,
    pub inhibit_on_failure: bool,
    /// At most the real servers' total weight; keepalived's default is 1.
    pub quorum: Option<u64>,
    /// Less than the quorum.
    pub hysteresis: Option<u64>,
    pub quorum_up: Option<String>,
    pub quorum_down: Option<String>,
    pub sorry_server: Option<SorryServer>,
    pub check: Check,
    pub real_servers: Vec<RealServer>,
}

#[derive(Debug, Clone)]
pub struct RealServer {
    pub host: String,
    /// Of the VIP's family.
    pub address: IpAddr,
    pub port: u16,
    pub weight: u64,
    /// Overrides the service's `inhibit_on_failure` when set.
    pub inhibit_on_failure: Option<bool>,
    /// Its own health check, instead of the service's (boxed: most real servers have none).
    pub check: Option<Box<super::Check>>,
}

impl Builder<'_> {
    pub(super) fn services(&mut self, directors: &Option<Vec<Director>>) -> Vec<VirtualService> {
        let topo = self.topo;
        if topo.services.is_empty() {
            let span = topo.services_span.clone().unwrap_or_else(|| topo.span.clone());
            self.d.error(span, "no `services`: a cluster needs at least one virtual service");
            return Vec::new();
        }
        let director_names: BTreeSet<&str> = directors.iter().flatten().map(|d| d.host.as_str()).collect();
        let mut names: BTreeMap<String, Span> = BTreeMap::new();
        let mut endpoints: BTreeMap<(IpAddr, u64, Protocol), String> = BTreeMap::new();
        let mut marks: BTreeMap<u64, (String, Span)> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, s) in topo.services.iter().enumerate() {
            let path = format!("services[{i}]");
            let name = match &s.name {
                Some(n) => {
                    check_identifier(n, &format!("{path}.name"), self.d);
                    if let Some(first) = names.insert(n.value.clone(), n.span.clone()) {
                        self.d.error(n.span.clone(), format!("duplicate service name `{}` (first defined at {first})", n.value));
                    }
                    n.value.clone()
                }
                None => String::new(), // reported as missing by the topology stage
            };
            // Missing or invalid vip/port were reported by the topology stage.
            let Some(vip) = s.vip.clone() else { continue };
            self.ipv6_service(&path, s, directors);
            let Some((port, ports)) = self.service_ports(&path, s) else { continue };
            for p in &ports {
                if let Some(other) = endpoints.insert((vip.value, p.value, s.protocol.value), name.clone()) {
                    let at = if s.fwmark.is_some() { p.span.clone() } else { vip.span.clone() };
                    self.d.error(at, format!(
                        "duplicate virtual service {}:{}/{}: `{other}` already serves it",
                        vip.value, p.value, s.protocol.value.as_str()
                    )).hint(if s.fwmark.is_some() { "the directors mark every packet to a firewall-mark service's ports, so no other service can have one of them" } else { "one VIP, port and protocol is one service" });
                }
            }
            let fwmark = s.fwmark.as_ref().map(|m| m.value as u32);
            if let Some(m) = &s.fwmark {
                if let Some((other, first)) = marks.insert(m.value, (name.clone(), m.span.clone())) {
                    self.d.error(m.span.clone(), format!("firewall mark {} is also service `{other}`'s (at {first})", m.value))
                        .hint("IPVS has one service per mark: give each firewall-mark service its own");
                }
            }
            let check = self.check(&path, &s.check, s);
            if matches!(s.scheduler.value, Scheduler::Mh | Scheduler::Fo | Scheduler::Ovf) {
                self.d.warning(s.scheduler.span.clone(), format!(
                    "scheduler `{}` needs a recent kernel and keepalived 2.x on the directors", s.scheduler.value.as_str()
                ));
            }
            if s.real_servers.is_empty() && !s.real_servers_span.eq(&s.span) {
                self.d.error(s.real_servers_span.clone(), format!("service `{name}` has no real servers"))
                    .hint("add `real_servers: [ { host: web1 } ]`");
            }
            let mut real_servers = Vec::new();
            let mut seen: BTreeMap<(String, u64), Span> = BTreeMap::new();
            for (j, rs) in s.real_servers.iter().enumerate() {
                let Some(host_name) = &rs.host else { continue };
                // A firewall-mark service's real servers are at port 0: each packet keeps its port.
                let rs_port = if fwmark.is_some() { 0 } else { rs.port.as_ref().map_or(port.value, |p| p.value) };
                if let Some(first) = seen.insert((host_name.value.clone(), rs_port), host_name.span.clone()) {
                    self.d.error(host_name.span.clone(), format!(
                        "duplicate real server `{}` port {rs_port} in service `{name}` (first at {first})", host_name.value
                    )).hint("keepalived refuses a virtual server that lists the same real server twice");
                }
                if let (Some(p), Some(m)) = (&rs.port, &s.fwmark) {
                    self.d.error(p.span.clone(), format!("real server `{}` has a `port` in firewall-mark service `{name}` (mark {})", host_name.value, m.value))
                        .hint("IPVS sends each marked packet to the real server on the port it was sent to (the service's `ports`): remove `port`");
                } else if let Some(p) = &rs.port {
                    if p.value != port.value && s.mode.value != Mode::Nat {
                        self.d.error(p.span.clone(), format!(
                            "real server port {} differs from the service port {} in {} mode",
                            p.value, port.value, s.mode.value.as_str().to_uppercase()
                        )).hint("DR and TUN forward packets unchanged, so the real server must listen on the service port; only NAT can remap ports");
                    }
                }
                if director_names.contains(host_name.value.as_str()) {
                    self.d.error(host_name.span.clone(), format!("`{}` is a director and cannot also be a real server", host_name.value))
                        .hint("IPVS does not serve the director's own traffic; use a separate host");
                }
                let Some(host) = self.host(host_name, "real server") else { continue };
                let Some(address) = host.address_for(vip.value) else {
                    self.d.error(host_name.span.clone(), format!("real server `{}` has no {} address", host.name, family(vip.value)))
                        .hint(address_hint(vip.value));
                    continue;
                };
                let weight = rs.weight.as_ref().map_or(1, |w| w.value);
                if weight == 0 {
                    self.d.warning(rs.weight.as_ref().map_or(rs.span.clone(), |w| w.span.clone()), format!(
                        "real server `{}` has weight 0: it gets no new connections (drained)", host.name
                    ));
                }
                real_servers.push(RealServer {
                    host: host.name.clone(),
                    address,
                    port: rs_port as u16,
                    weight,
                    inhibit_on_failure: rs.inhibit_on_failure.as_ref().map(|i| i.value),
                    check: rs.check.as_ref().map(|c| Box::new(self.check(&format!("{path}.real_servers[{j}]"), c, s))),
                });
            }
            let options = self.service_options(&path, &name, s, &real_servers);
            out.push(VirtualService {
                name,
                vip: vip.value,
                port: port.value as u16,
                fwmark,
                ports: ports.iter().map(|p| p.value as u16).collect(),
                vrrp_instance: None, // model::instances
                protocol: s.protocol.value,
                mode: s.mode.value,
                scheduler: s.scheduler.value,
                persistence_timeout: s.persistence_timeout.as_ref().map(|p| p.value),
                persistence_granularity: options.persistence_granularity,
                ops: options.ops,
                delay_loop: s.delay_loop.as_ref().map_or(6, |l| l.value),
                drain_timeout: s.drain_timeout.as_ref().map_or(DEFAULT_DRAIN_TIMEOUT, |t| t.value),
                alpha: options.alpha,
                omega: options.omega,
                inhibit_on_failure: options.inhibit_on_failure,
                quorum: options.quorum,
                hysteresis: options.hysteresis,
                quorum_up: options.quorum_up,
                quorum_down: options.quorum_down,
                sorry_server: options.sorry_server,
                check,
                real_servers,
            });
        }
        if let Some(ds) = &topo.directors {
            if ds.engine.value == Engine::Ipvsadm {
                self.d.warning(ds.engine.span.clone(), "`engine: ipvsadm` has no health checks: a dead real server keeps receiving traffic")
                    .hint("use `engine: keepalived` to remove failed real servers automatically");
            }
        }
        out
    }

    /// A service's port and the ports it covers: `port` alone, or a firewall mark's `ports`
    /// (its first is the checks' default port). None when the topology stage reported it.
    fn service_ports(&mut self, path: &str, s: &crate::topology::ServiceSpec) -> Option<(Sp<u64>, Vec<Sp<u64>>)> {
        match (&s.fwmark, &s.port, s.ports_span.as_ref()) {
            (_, Some(port), Some(_)) => {
                self.d.error(port.span.clone(), format!("`{path}` has both `port` and `ports`"))
                    .hint("a firewall-mark service lists every port it covers in `ports`: remove `port`");
                None
            }
            (None, _, Some(span)) => {
                self.d.error(span.clone(), format!("`{path}.ports` needs `fwmark`"))
                    .hint("IPVS serves several ports as one service only by a firewall mark: add `fwmark: N` (1-4294967295, a mark your other firewall rules do not use), or write one service per `port`");
                None
            }
            (_, Some(port), None) => Some((port.clone(), vec![port.clone()])),
            (Some(_), None, Some(span)) => {
                if s.ports.is_empty() {
                    self.d.error(span.clone(), format!("`{path}.ports` is empty"))
                        .hint("list the VIP's ports the mark covers, e.g. `ports: [80, 443]`");
                    return None;
                }
                if s.ports.len() > MAX_FWMARK_PORTS {
                    self.d.error(span.clone(), format!("`{path}.ports` lists {} ports; at most {MAX_FWMARK_PORTS}", s.ports.len()))
                        .hint("iptables' multiport match takes 15 ports: split them over two firewall-mark services");
                    return None;
                }
                let mut seen: BTreeMap<u64, Span> = BTreeMap::new();
                for p in &s.ports {
                    if let Some(first) = seen.insert(p.value, p.span.clone()) {
                        self.d.error(p.span.clone(), format!("port {} is listed twice in `{path}.ports` (first at {first})", p.value));
                        return None;
                    }
                }
                Some((s.ports[0].clone(), s.ports.clone()))
            }
            (_, None, None) => None, // `port` missing: reported by the topology stage
        }
    }
}

/// "IPv4" or "IPv6", for messages.
pub(super) fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv6() { "IPv6" } else { "IPv4" }
}

/// Where the inventory gives a host its address of `ip`'s family.
pub(super) fn address_hint(ip: IpAddr) -> &'static str {
    if ip.is_ipv6() {
        "set `ipv6_address` (or an IPv6 address as `ansible_host`) for it in the inventory: an IPv6 VIP's servers are reached over IPv6"
    } else {
        "set `address` (or an IP as `ansible_host`) for it in the inventory"
    }
}

/// iptables' `multiport` match, which the directors' mark rule uses, takes at most 15 ports.
const MAX_FWMARK_PORTS: usize = 15;
