//! The validated cluster: what the topology means once checked against itself and the
//! inventory.
//!
//! `Cluster::build` is the one place where cross-key rules live (the rules in
//! shared/notes/lvs.md): hosts exist, priorities differ and the MASTER's is highest, VRRP ids
//! and passwords are in range, DR/TUN real servers keep the service port, a NAT pair has a
//! floating gateway, no VIP equals a host address, nothing unsafe reaches a config file, and
//! nothing `keepalived -t` would refuse (a quorum above the real servers' total weight, a
//! sorry server on another port outside NAT, `ops` on TCP, ...). It reports every problem it finds and returns a model only when there is no error, so later
//! stages never see an invalid cluster. It reads the environment only for `auth_pass_env`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::diagnostic::{did_you_mean, Diagnostics, Span};
use crate::inventory::{Host, Inventory};
use crate::token::{check_identifier, check_interface, check_script_path, check_token};
use crate::topology::{CheckKind, Cidr, Engine, Mode, Protocol, Scheduler, ServiceSpec, Topology};
use crate::yaml::Sp;

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub engine: Engine,
    pub directors: Vec<Director>,
    pub vrrp: Option<Vrrp>,
    pub notification: Option<Notification>,
    pub services: Vec<VirtualService>,
    pub nat: Option<Nat>,
    pub router: Option<Router>,
    /// The inventory entries of every host the topology names.
    pub hosts: BTreeMap<String, Host>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum VrrpState {
    #[serde(rename = "MASTER")]
    Master,
    #[serde(rename = "BACKUP")]
    Backup,
}

#[derive(Debug, Clone)]
pub struct Director {
    pub host: String,
    pub address: Option<Ipv4Addr>,
    pub interface: String,
    pub priority: u8,
    /// The first director is the MASTER (highest priority); with nopreempt every director
    /// starts as BACKUP, as keepalived requires.
    pub state: VrrpState,
    pub is_master: bool,
}

#[derive(Debug, Clone)]
pub struct Vrrp {
    pub instance: String,
    pub virtual_router_id: u8,
    pub advert_int: u64,
    /// The VRRP PASS secret. Never printed: see `plan::Secrets`.
    pub auth_pass: Option<String>,
    pub sync_group: Option<String>,
    pub nopreempt: bool,
    pub preempt_delay: Option<u64>,
    pub unicast: bool,
    /// Render `unicast_fault_no_peer` with unicast (keepalived >= 2.2.5 knows it; older ones
    /// fall back to multicast silently when they lose their peers).
    pub unicast_fault_no_peer: bool,
}

#[derive(Debug, Clone)]
pub struct Notification {
    pub emails: Vec<String>,
    pub from: String,
    pub smtp_server: String,
    pub smtp_connect_timeout: u64,
}

#[derive(Debug, Clone)]
pub struct VirtualService {
    pub name: String,
    pub vip: Ipv4Addr,
    pub port: u16,
    pub protocol: Protocol,
    pub mode: Mode,
    pub scheduler: Scheduler,
    pub persistence_timeout: Option<u64>,
    /// Only with `persistence_timeout`.
    pub persistence_granularity: Option<Ipv4Addr>,
    /// One-packet scheduling; UDP services only.
    pub ops: bool,
    pub delay_loop: u64,
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

/// Where IPVS sends a service's traffic while its quorum is lost.
#[derive(Debug, Clone)]
pub struct SorryServer {
    /// The inventory host, when given by `host:` (lvsctl then sets it up like a real server).
    pub host: Option<String>,
    pub address: Ipv4Addr,
    pub port: u16,
    /// `sorry_server_lvs_method`, the service's mode unless set.
    pub mode: Mode,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub kind: CheckKind,
    pub connect_timeout: u64,
    pub retry: u64,
    pub delay_before_retry: u64,
    pub connect_port: Option<u16>,
    pub path: String,
    pub status_code: u16,
}

#[derive(Debug, Clone)]
pub struct RealServer {
    pub host: String,
    pub address: Ipv4Addr,
    pub port: u16,
    pub weight: u64,
    /// Overrides the service's `inhibit_on_failure` when set.
    pub inhibit_on_failure: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Nat {
    pub internal_interface: String,
    pub gateway: Option<NatGateway>,
}

/// The floating internal address real servers of NAT services route through.
#[derive(Debug, Clone)]
pub struct NatGateway {
    pub vip: Ipv4Addr,
    pub prefix: u8,
    pub virtual_router_id: u8,
}

#[derive(Debug, Clone)]
pub struct Router {
    pub host: String,
    pub public_ip: Ipv4Addr,
    pub internal_network: Cidr,
    pub forwards: Vec<Forward>,
}

#[derive(Debug, Clone)]
pub struct Forward {
    pub public_port: u16,
    pub service: String,
    pub protocol: Protocol,
    pub vip: Ipv4Addr,
    pub port: u16,
}

/// Default priorities in hosts order: 150, 100, 50, ...
fn default_priority(index: usize) -> u64 {
    150u64.saturating_sub(50 * index as u64).max(1)
}

impl Cluster {
    /// Check `topo` against itself and `inv`. Returns the model when there is no error.
    pub fn build(topo: &Topology, inv: &Inventory, d: &mut Diagnostics) -> Option<Cluster> {
        let errors_before = d.error_count();
        let mut b = Builder { topo, inv, d, hosts: BTreeMap::new() };
        let cluster = b.cluster();
        (d.error_count() == errors_before).then_some(cluster).flatten()
    }

    pub fn director(&self, host: &str) -> Option<&Director> {
        self.directors.iter().find(|d| d.host == host)
    }

    /// Unique VIPs of the services in order of first appearance.
    pub fn vips(&self) -> Vec<Ipv4Addr> {
        let mut seen = BTreeSet::new();
        self.services.iter().map(|s| s.vip).filter(|v| seen.insert(*v)).collect()
    }

    pub fn has_mode(&self, mode: Mode) -> bool {
        self.services.iter().any(|s| s.mode == mode)
    }
}

/// What `Builder::service_options` returns, to be put in the `VirtualService`.
struct ServiceOptions {
    persistence_granularity: Option<Ipv4Addr>,
    ops: bool,
    alpha: bool,
    omega: bool,
    inhibit_on_failure: bool,
    quorum: Option<u64>,
    hysteresis: Option<u64>,
    quorum_up: Option<String>,
    quorum_down: Option<String>,
    sorry_server: Option<SorryServer>,
}

struct Builder<'a> {
    topo: &'a Topology,
    inv: &'a Inventory,
    d: &'a mut Diagnostics,
    hosts: BTreeMap<String, Host>,
}

impl Builder<'_> {
    /// Look a host up in the inventory, with a did-you-mean when it is missing.
    fn host(&mut self, name: &Sp<String>, role: &str) -> Option<Host> {
        match self.inv.get(&name.value) {
            Some(h) => {
                self.hosts.insert(h.name.clone(), h.clone());
                Some(h.clone())
            }
            None => {
                let diag = self.d.error(
                    name.span.clone(),
                    format!("{role} `{}` is not in the inventory {}", name.value, self.inv.path.display()),
                );
                match did_you_mean(&name.value, self.inv.hosts.keys().map(String::as_str)) {
                    Some(s) => diag.hint(format!("did you mean `{s}`?")),
                    None => diag.hint("add the host to the inventory, or fix the name"),
                };
                None
            }
        }
    }

    fn cluster(&mut self) -> Option<Cluster> {
        let topo = self.topo;
        let name = match &topo.cluster {
            Some(c) => {
                check_identifier(c, "cluster", self.d);
                c.value.clone()
            }
            None => topo.file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "lvs".into()),
        };
        let engine = topo.directors.as_ref().map(|d| d.engine.value).unwrap_or(Engine::Keepalived);
        let vrrp = self.vrrp(engine);
        let directors = self.directors(engine, vrrp.as_ref());
        let notification = self.notification();
        let services = self.services(&directors);
        let nat = self.nat(&services, &directors, vrrp.as_ref());
        let router = self.router(&services);
        self.vip_collisions();
        Some(Cluster {
            name,
            engine,
            directors: directors?,
            vrrp: vrrp.map(|(v, _)| v),
            notification,
            services,
            nat,
            router,
            hosts: std::mem::take(&mut self.hosts),
        })
    }

    fn vrrp(&mut self, engine: Engine) -> Option<(Vrrp, BTreeMap<String, Sp<i64>>)> {
        let spec = self.topo.vrrp.as_ref()?;
        let d = &mut *self.d;
        if engine == Engine::Ipvsadm {
            d.warning(spec.span.clone(), "`vrrp` is ignored with `engine: ipvsadm` (plain IPVS rules, no failover)")
                .hint("use `engine: keepalived` for a VRRP pair");
            return None;
        }
        let instance = spec.instance.clone().map(|i| {
            check_identifier(&i, "vrrp.instance", d);
            i.value
        });
        let vrid = match &spec.virtual_router_id {
            Some(v) if (1..=255).contains(&v.value) => v.value as u8,
            Some(v) => {
                d.error(v.span.clone(), format!("`vrrp.virtual_router_id` is {}, outside 1..255", v.value))
                    .hint("VRRP router ids are 1 to 255 and must be unique on the network segment");
                0
            }
            None => 0, // reported as missing by the topology stage
        };
        let auth_pass = match (&spec.auth_pass, &spec.auth_pass_env) {
            (Some(p), Some(e)) => {
                d.error(e.span.clone(), "set either `vrrp.auth_pass` or `vrrp.auth_pass_env`, not both");
                let _ = p;
                None
            }
            (Some(p), None) => {
                let pass = check_auth_pass(p, "vrrp.auth_pass", d);
                if pass.is_some() {
                    d.warning(p.span.clone(), "`vrrp.auth_pass` is stored in plain text in the playbook")
                        .hint("prefer `auth_pass_env: VARIABLE` so the secret stays out of version control");
                }
                pass
            }
            (None, Some(e)) => match std::env::var(&e.value) {
                Ok(v) => check_auth_pass(&Sp { value: v, span: e.span.clone() }, &format!("environment variable {}", e.value), d),
                Err(_) => {
                    d.error(e.span.clone(), format!("`vrrp.auth_pass_env`: environment variable `{}` is not set", e.value))
                        .hint(format!("export {}=... before running lvsctl", e.value));
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(g) = &spec.sync_group {
            if check_identifier(g, "vrrp.sync_group", d) && self.topo.nat.as_ref().is_none_or(|n| n.gateway_vip.is_none()) {
                d.warning(g.span.clone(), format!("sync group `{}` would hold only one VRRP instance; lvsctl leaves it out", g.value))
                    .hint("keepalived 2.x rejects a one-member sync group; it matters only when a NAT pair also floats `nat.gateway_vip`");
            }
        }
        let priorities: BTreeMap<String, Sp<i64>> =
            spec.priorities.iter().map(|(h, p)| (h.value.clone(), p.clone())).collect();
        for (host, _) in &spec.priorities {
            let is_director = self.topo.directors.as_ref().is_some_and(|ds| ds.hosts.iter().any(|h| h.value == host.value));
            if !is_director {
                d.error(host.span.clone(), format!("`vrrp.priorities` names `{}`, which is not a director", host.value))
                    .hint("list only hosts from `directors.hosts`");
            }
        }
        let vrrp = Vrrp {
            instance: instance.unwrap_or_else(|| "VI_1".into()),
            virtual_router_id: vrid,
            advert_int: spec.advert_int.as_ref().map_or(1, |a| a.value),
            auth_pass,
            sync_group: spec.sync_group.as_ref().map(|g| g.value.clone()),
            nopreempt: spec.nopreempt.as_ref().is_some_and(|n| n.value),
            preempt_delay: spec.preempt_delay.as_ref().map(|p| p.value),
            unicast: spec.unicast.as_ref().is_some_and(|u| u.value),
            unicast_fault_no_peer: spec.unicast_fault_no_peer.as_ref().is_none_or(|u| u.value),
        };
        if let (Some(f), false) = (&spec.unicast_fault_no_peer, vrrp.unicast) {
            d.warning(f.span.clone(), "`vrrp.unicast_fault_no_peer` is ignored without `vrrp.unicast: true`");
        }
        Some((vrrp, priorities))
    }

    fn directors(&mut self, engine: Engine, vrrp: Option<&(Vrrp, BTreeMap<String, Sp<i64>>)>) -> Option<Vec<Director>> {
        let Some(spec) = self.topo.directors.as_ref() else {
            self.d.error(self.topo.span.clone(), "`directors` is missing").hint("add `directors: { hosts: [lvs1], interface: eth0 }`");
            return None;
        };
        if spec.hosts.is_empty() {
            self.d.error(spec.span.clone(), "`directors.hosts` is empty").hint("list at least one director host");
            return None;
        }
        if engine == Engine::Ipvsadm && spec.hosts.len() > 1 {
            self.d.error(spec.hosts[1].span.clone(), format!("`engine: ipvsadm` drives a single director, but {} are listed", spec.hosts.len()))
                .hint("use `engine: keepalived` with a `vrrp` section for a director pair");
        }
        if engine == Engine::Keepalived && spec.hosts.len() > 1 && vrrp.is_none() && self.topo.vrrp.is_none() {
            self.d.error(spec.span.clone(), format!("{} keepalived directors need a `vrrp` section to share the VIPs", spec.hosts.len()))
                .hint("add `vrrp: { virtual_router_id: 51, auth_pass_env: VRRP_PASS }`");
        }
        let top_iface = spec.interface.clone();
        if let Some(i) = &top_iface {
            check_interface(i, "directors.interface", self.d);
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut prio_seen: BTreeMap<i64, String> = BTreeMap::new();
        for (idx, name) in spec.hosts.iter().enumerate() {
            if !seen.insert(name.value.clone()) {
                self.d.error(name.span.clone(), format!("director `{}` is listed twice", name.value));
                continue;
            }
            let Some(host) = self.host(name, "director") else { continue };
            let interface = match (&host.interface, &top_iface) {
                (Some(i), _) => i.clone(), // checked when the inventory was read
                (None, Some(i)) => i.value.clone(),
                (None, None) => {
                    self.d.error(spec.span.clone(), format!("no interface for director `{}`", name.value))
                        .hint("set `directors.interface`, or the host var `interface` in the inventory");
                    String::new()
                }
            };
            let (priority, prio_span) = match vrrp.and_then(|(_, p)| p.get(&name.value)) {
                Some(p) => (p.value, p.span.clone()),
                None => (default_priority(idx) as i64, name.span.clone()),
            };
            if vrrp.is_some() {
                if !(1..=254).contains(&priority) {
                    self.d.error(prio_span.clone(), format!("priority {priority} of `{}` is out of range", name.value))
                        .hint("VRRP priorities are 1..254 (255 is reserved for the address owner)");
                } else if let Some(other) = prio_seen.insert(priority, name.value.clone()) {
                    self.d.error(prio_span.clone(), format!("directors `{other}` and `{}` have the same priority {priority}", name.value))
                        .hint("give every director a different priority; the MASTER's must be the highest");
                }
            }
            let is_master = idx == 0;
            out.push(Director {
                host: host.name.clone(),
                address: host.address,
                interface,
                priority: priority.clamp(1, 254) as u8,
                state: if is_master { VrrpState::Master } else { VrrpState::Backup },
                is_master,
            });
        }
        if let Some((v, prios)) = vrrp {
            if let Some(master) = out.first() {
                // Equal priorities were reported above; here only a BACKUP outranking the MASTER.
                if let Some(higher) = out.iter().skip(1).find(|d| d.priority > master.priority) {
                    let span = prios
                        .get(&master.host)
                        .or_else(|| prios.get(&higher.host))
                        .map(|p| p.span.clone())
                        .unwrap_or_else(|| spec.hosts[0].span.clone());
                    self.d.error(span, format!(
                        "`{}` is the MASTER (first in `directors.hosts`) but `{}` has a higher priority ({} > {})",
                        master.host, higher.host, higher.priority, master.priority
                    )).hint("the first director must have the highest priority");
                }
            }
            if v.nopreempt || v.preempt_delay.is_some() {
                // keepalived ignores nopreempt/preempt_delay unless the initial state is BACKUP.
                for d in &mut out {
                    d.state = VrrpState::Backup;
                }
            }
            if v.unicast && out.len() == 1 {
                let span = self.topo.vrrp.as_ref().and_then(|v| v.unicast.as_ref()).map_or(spec.span.clone(), |u| u.span.clone());
                self.d.error(span, "`vrrp.unicast` needs a second director: a single director has no VRRP peer to send adverts to")
                    .hint("remove `vrrp.unicast` (keepalived would put the instance in FAULT with `unicast_fault_no_peer`, or fall back to multicast without it)");
            }
            if v.unicast {
                for d in &out {
                    if d.address.is_none() {
                        self.d.error(spec.span.clone(), format!("`vrrp.unicast` needs the address of director `{}`", d.host))
                            .hint("set `address` (or an IP as `ansible_host`) for it in the inventory");
                    }
                }
            }
        }
        Some(out)
    }

    fn notification(&mut self) -> Option<Notification> {
        let spec = self.topo.directors.as_ref()?;
        if spec.notification_email.is_empty() {
            for (key, v) in [("notification_email_from", &spec.notification_email_from), ("smtp_server", &spec.smtp_server)] {
                if let Some(v) = v {
                    self.d.warning(v.span.clone(), format!("`directors.{key}` is ignored without `notification_email`"));
                }
            }
            return None;
        }
        for e in &spec.notification_email {
            if check_token(e, "directors.notification_email", self.d) && !e.value.contains('@') {
                self.d.error(e.span.clone(), format!("`{}` is not an email address", e.value));
            }
        }
        let from = match &spec.notification_email_from {
            Some(f) => {
                check_token(f, "directors.notification_email_from", self.d);
                f.value.clone()
            }
            None => format!("keepalived@{}", spec.hosts.first().map_or("localhost", |h| h.value.as_str())),
        };
        let smtp_server = match &spec.smtp_server {
            Some(s) => {
                check_token(s, "directors.smtp_server", self.d);
                s.value.clone()
            }
            None => {
                self.d.error(spec.span.clone(), "`directors.notification_email` needs `smtp_server`")
                    .hint("set `smtp_server: 127.0.0.1` (or your mail relay)");
                String::new()
            }
        };
        Some(Notification {
            emails: spec.notification_email.iter().map(|e| e.value.clone()).collect(),
            from,
            smtp_server,
            smtp_connect_timeout: spec.smtp_connect_timeout.as_ref().map_or(30, |t| t.value),
        })
    }

    fn services(&mut self, directors: &Option<Vec<Director>>) -> Vec<VirtualService> {
        let topo = self.topo;
        if topo.services.is_empty() {
            let span = topo.services_span.clone().unwrap_or_else(|| topo.span.clone());
            self.d.error(span, "no `services`: a cluster needs at least one virtual service");
            return Vec::new();
        }
        let director_names: BTreeSet<&str> = directors.iter().flatten().map(|d| d.host.as_str()).collect();
        let mut names: BTreeMap<String, Span> = BTreeMap::new();
        let mut endpoints: BTreeMap<(Ipv4Addr, u64, Protocol), String> = BTreeMap::new();
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
            let (Some(vip), Some(port)) = (s.vip.clone(), s.port.clone()) else { continue };
            if let Some(other) = endpoints.insert((vip.value, port.value, s.protocol.value), name.clone()) {
                self.d.error(vip.span.clone(), format!(
                    "duplicate virtual service {}:{}/{}: `{other}` already serves it",
                    vip.value, port.value, s.protocol.value.as_str()
                ));
            }
            let check = self.check(&path, s);
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
            for rs in &s.real_servers {
                let Some(host_name) = &rs.host else { continue };
                let rs_port = rs.port.as_ref().map_or(port.value, |p| p.value);
                if let Some(first) = seen.insert((host_name.value.clone(), rs_port), host_name.span.clone()) {
                    self.d.error(host_name.span.clone(), format!(
                        "duplicate real server `{}` port {rs_port} in service `{name}` (first at {first})", host_name.value
                    )).hint("keepalived refuses a virtual server that lists the same real server twice");
                }
                if let Some(p) = &rs.port {
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
                let Some(address) = host.address else {
                    self.d.error(host_name.span.clone(), format!("real server `{}` has no IPv4 address", host.name))
                        .hint("set `address` (or an IP as `ansible_host`) for it in the inventory");
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
                });
            }
            let options = self.service_options(&path, &name, s, &real_servers);
            out.push(VirtualService {
                name,
                vip: vip.value,
                port: port.value as u16,
                protocol: s.protocol.value,
                mode: s.mode.value,
                scheduler: s.scheduler.value,
                persistence_timeout: s.persistence_timeout.as_ref().map(|p| p.value),
                persistence_granularity: options.persistence_granularity,
                ops: options.ops,
                delay_loop: s.delay_loop.as_ref().map_or(6, |l| l.value),
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

    /// The virtual-server options beyond address, scheduler and checks: persistence
    /// granularity, one-packet scheduling, keepalived's quorum, sorry server, alpha/omega and
    /// inhibit_on_failure. Each is checked against the keys it depends on, and against what
    /// `keepalived -t` refuses (a quorum above the real servers' total weight, a hysteresis
    /// not below the quorum, a sorry server on another port outside NAT, ...).
    fn service_options(&mut self, path: &str, name: &str, s: &ServiceSpec, real_servers: &[RealServer]) -> ServiceOptions {
        let engine = self.topo.directors.as_ref().map_or(Engine::Keepalived, |d| d.engine.value);
        let flag = |f: &Option<Sp<bool>>| f.as_ref().is_some_and(|f| f.value);
        if let (Some(g), None) = (&s.persistence_granularity, &s.persistence_timeout) {
            self.d.error(g.span.clone(), format!("`{path}.persistence_granularity` needs `persistence_timeout`"))
                .hint("set `persistence_timeout: SECONDS` (keepalived would silently make the service persistent for 360 s)");
        }
        if let (Some(o), Protocol::Tcp) = (&s.ops, s.protocol.value) {
            if o.value {
                self.d.error(o.span.clone(), format!("`{path}.ops` (one-packet scheduling) works only for UDP, but service `{name}` is TCP"))
                    .hint("remove `ops`, or set `protocol: udp` (keepalived turns it off for TCP and `keepalived -t` fails)");
            }
        }
        if engine == Engine::Ipvsadm {
            let rs_inhibit = s.real_servers.iter().filter_map(|r| r.inhibit_on_failure.as_ref().map(|i| ("real_servers[].inhibit_on_failure", i.span.clone())));
            let keys = [
                ("alpha", s.alpha.as_ref().map(|v| v.span.clone())),
                ("omega", s.omega.as_ref().map(|v| v.span.clone())),
                ("inhibit_on_failure", s.inhibit_on_failure.as_ref().map(|v| v.span.clone())),
                ("quorum", s.quorum.as_ref().map(|v| v.span.clone())),
                ("hysteresis", s.hysteresis.as_ref().map(|v| v.span.clone())),
                ("quorum_up", s.quorum_up.as_ref().map(|v| v.span.clone())),
                ("quorum_down", s.quorum_down.as_ref().map(|v| v.span.clone())),
                ("sorry_server", s.sorry_server.as_ref().map(|v| v.span.clone())),
                ("sorry_server_inhibit", s.sorry_server_inhibit.as_ref().map(|v| v.span.clone())),
                ("sorry_server_lvs_method", s.sorry_server_lvs_method.as_ref().map(|v| v.span.clone())),
            ];
            for (key, span) in keys.into_iter().filter_map(|(k, sp)| sp.map(|sp| (k, sp))).chain(rs_inhibit) {
                self.d.error(span, format!("`{path}.{key}` needs `engine: keepalived`"))
                    .hint("plain ipvsadm rules have no health checks, so no quorum, sorry server, alpha/omega or inhibit_on_failure");
            }
        } else {
            self.quorum(path, name, s);
        }
        if s.check.kind.value == CheckKind::None {
            for (key, f) in [("alpha", &s.alpha), ("inhibit_on_failure", &s.inhibit_on_failure)] {
                if let Some(f) = f.as_ref().filter(|f| f.value) {
                    self.d.warning(f.span.clone(), format!("`{path}.{key}` has no effect with `check: {{ type: none }}`: nothing ever marks a real server down"));
                }
            }
        }
        let quorum_script = |b: &mut Self, key: &str, v: &Option<Sp<String>>| {
            v.as_ref().filter(|p| check_script_path(p, &format!("{path}.{key}"), b.d)).map(|p| p.value.clone())
        };
        let quorum_up = quorum_script(self, "quorum_up", &s.quorum_up);
        let quorum_down = quorum_script(self, "quorum_down", &s.quorum_down);
        let inhibit_on_failure = flag(&s.inhibit_on_failure);
        let sorry_server = self.sorry_server(path, s, inhibit_on_failure, real_servers);
        ServiceOptions {
            persistence_granularity: s.persistence_granularity.as_ref().map(|g| g.value),
            ops: flag(&s.ops),
            alpha: flag(&s.alpha),
            omega: flag(&s.omega),
            inhibit_on_failure,
            quorum: s.quorum.as_ref().map(|q| q.value),
            hysteresis: s.hysteresis.as_ref().map(|h| h.value),
            quorum_up,
            quorum_down,
            sorry_server,
        }
    }

    /// keepalived refuses a quorum above the real servers' total weight and a hysteresis not
    /// below the quorum (it "corrects" both with a config error, so `keepalived -t` fails).
    /// The total is taken from the topology, so a real server missing from the inventory does
    /// not add a second, misleading error.
    fn quorum(&mut self, path: &str, name: &str, s: &ServiceSpec) {
        let total: u64 = s.real_servers.iter().filter(|r| r.host.is_some()).map(|r| r.weight.as_ref().map_or(1, |w| w.value)).sum();
        let quorum = s.quorum.as_ref().map_or(1, |q| q.value);
        if quorum > total {
            match &s.quorum {
                Some(q) => {
                    self.d.error(q.span.clone(), format!(
                        "`{path}.quorum` is {quorum}, more than the total weight {total} of the real servers of `{name}`"
                    )).hint("the quorum is the summed weight of the live real servers, so this service could never be up (keepalived -t refuses it)");
                }
                None if !s.real_servers.is_empty() => {
                    self.d.error(s.real_servers_span.clone(), format!("every real server of service `{name}` has weight 0"))
                        .hint("keepalived refuses a virtual server whose real servers weigh less than its quorum (1): keep one real server with a weight, or remove the service");
                }
                None => {} // no real servers: reported with the service
            }
        }
        if let Some(h) = &s.hysteresis {
            if h.value >= quorum {
                self.d.error(h.span.clone(), format!("`{path}.hysteresis` is {}; it must be less than the quorum {quorum}", h.value))
                    .hint("the service goes up at quorum + hysteresis and down below quorum - hysteresis (keepalived -t refuses a larger one)");
            }
        }
    }

    fn sorry_server(&mut self, path: &str, s: &ServiceSpec, inhibit_on_failure: bool, real_servers: &[RealServer]) -> Option<SorryServer> {
        let Some(spec) = &s.sorry_server else {
            for (key, span) in [
                ("sorry_server_inhibit", s.sorry_server_inhibit.as_ref().map(|v| v.span.clone())),
                ("sorry_server_lvs_method", s.sorry_server_lvs_method.as_ref().map(|v| v.span.clone())),
            ] {
                if let Some(span) = span {
                    self.d.error(span, format!("`{path}.{key}` needs `sorry_server`"))
                        .hint("add `sorry_server: { host: NAME }` or `{ address: IP, port: PORT }`, or remove the key");
                }
            }
            return None;
        };
        let what = format!("{path}.sorry_server");
        let service_port = s.port.as_ref().map_or(0, |p| p.value);
        let mode = s.sorry_server_lvs_method.as_ref().map_or(s.mode.value, |m| m.value);
        let directors: Vec<&str> = self.topo.directors.iter().flat_map(|d| d.hosts.iter().map(|h| h.value.as_str())).collect();
        let (host, address) = match (&spec.host, &spec.address) {
            (Some(_), Some(a)) => {
                self.d.error(a.span.clone(), format!("set either `{what}.host` or `{what}.address`, not both"))
                    .hint("`host` names an inventory host lvsctl sets up; `address` is a server lvsctl does not manage");
                return None;
            }
            (None, None) => {
                self.d.error(spec.span.clone(), format!("`{what}` needs `host` or `address`"))
                    .hint("write `sorry_server: { host: NAME }` (an inventory host) or `{ address: IP, port: PORT }`");
                return None;
            }
            (Some(h), None) => {
                if directors.contains(&h.value.as_str()) {
                    self.d.error(h.span.clone(), format!("`{}` is a director and cannot be the sorry server", h.value))
                        .hint("a BACKUP director would pass the traffic back into its own IPVS table; for a sorry page served by whichever director is MASTER, write `address: 127.0.0.1`");
                    return None;
                }
                let host = self.host(h, "sorry server")?;
                let Some(address) = host.address else {
                    self.d.error(h.span.clone(), format!("sorry server `{}` has no IPv4 address", host.name))
                        .hint("set `address` (or an IP as `ansible_host`) for it in the inventory");
                    return None;
                };
                (Some(host.name), address)
            }
            (None, Some(a)) => {
                let owner = self.inv.hosts.values().find(|h| h.address == Some(a.value));
                if let Some(o) = owner.filter(|o| directors.contains(&o.name.as_str())) {
                    self.d.error(a.span.clone(), format!("sorry server {} is the address of director `{}`", a.value, o.name))
                        .hint("a BACKUP director would pass the traffic back into its own IPVS table; for a sorry page served by whichever director is MASTER, write `address: 127.0.0.1`");
                    return None;
                }
                if s.vip.as_ref().is_some_and(|v| v.value == a.value) {
                    self.d.error(a.span.clone(), format!("sorry server {} is the service's own VIP", a.value));
                    return None;
                }
                if let Some(o) = owner {
                    self.d.warning(a.span.clone(), format!("sorry server {} is the address of host `{}`", a.value, o.name))
                        .hint(format!("write `sorry_server: {{ host: {} }}` so lvsctl sets it up like a real server", o.name));
                } else if mode != Mode::Nat && !a.value.is_loopback() {
                    self.d.warning(a.span.clone(), format!(
                        "lvsctl does not set up sorry server {}: in {} mode it must hold the VIP itself and not answer ARP for it",
                        a.value, mode.as_str().to_uppercase()
                    )).hint("name an inventory host with `host:` to have it set up like a real server");
                }
                (None, a.value)
            }
        };
        let port = spec.port.as_ref().map_or(service_port, |p| p.value);
        if let Some(p) = spec.port.as_ref().filter(|p| p.value != service_port && mode != Mode::Nat) {
            self.d.error(p.span.clone(), format!(
                "sorry server port {} differs from the service port {service_port} in {} mode",
                p.value, mode.as_str().to_uppercase()
            )).hint("DR and TUN forward packets unchanged, so the sorry server must listen on the service port; only NAT can remap ports");
        }
        let inhibit = s.sorry_server_inhibit.as_ref().is_some_and(|i| i.value);
        // keepalived keeps a sorry server that is also a real server as one IPVS destination,
        // and refuses the two when their inhibit_on_failure settings differ.
        if let Some(rs) = real_servers.iter().find(|r| r.address == address && u64::from(r.port) == port) {
            let rs_inhibit = rs.inhibit_on_failure.unwrap_or(inhibit_on_failure);
            if rs_inhibit != inhibit {
                let span = s.sorry_server_inhibit.as_ref().map_or(spec.span.clone(), |i| i.span.clone());
                self.d.error(span, format!(
                    "the sorry server is real server `{}`, but `sorry_server_inhibit` is {inhibit} and its `inhibit_on_failure` is {rs_inhibit}",
                    rs.host
                )).hint("keepalived keeps them as one server and refuses different settings: make them agree");
            }
        }
        Some(SorryServer { host, address, port: port as u16, mode, inhibit })
    }

    fn check(&mut self, path: &str, s: &crate::topology::ServiceSpec) -> Check {
        let c = &s.check;
        let kind = c.kind.value;
        let http = matches!(kind, CheckKind::HttpGet | CheckKind::SslGet);
        if kind == CheckKind::None {
            self.d.warning(c.kind.span.clone(), format!("`{path}.check` is `none`: a failed real server keeps receiving traffic"));
        }
        if !http {
            for (key, present) in [("path", c.path.as_ref().map(|p| p.span.clone())), ("status_code", c.status_code.as_ref().map(|p| p.span.clone()))] {
                if let Some(span) = present {
                    self.d.warning(span, format!("`{path}.check.{key}` is ignored by a `{}` check", kind.as_str()));
                }
            }
        }
        if s.protocol.value == Protocol::Udp && kind != CheckKind::None && c.connect_port.is_none() {
            self.d.warning(c.kind.span.clone(), format!(
                "a `{}` check connects over TCP, but service `{}` is UDP", kind.as_str(),
                s.name.as_ref().map_or("", |n| n.value.as_str())
            )).hint("set `connect_port` to a TCP port the real server answers on, or `type: none`");
        }
        let check_path = match &c.path {
            Some(p) => {
                if check_token(p, &format!("{path}.check.path"), self.d) && !p.value.starts_with('/') {
                    self.d.error(p.span.clone(), format!("`{path}.check.path` must start with `/`"));
                }
                p.value.clone()
            }
            None => "/".into(),
        };
        Check {
            kind,
            connect_timeout: c.connect_timeout.as_ref().map_or(3, |v| v.value),
            retry: c.retry.as_ref().map_or(3, |v| v.value),
            delay_before_retry: c.delay_before_retry.as_ref().map_or(3, |v| v.value),
            connect_port: c.connect_port.as_ref().map(|v| v.value as u16),
            path: check_path,
            status_code: c.status_code.as_ref().map_or(200, |v| v.value as u16),
        }
    }

    fn nat(&mut self, services: &[VirtualService], directors: &Option<Vec<Director>>, vrrp: Option<&(Vrrp, BTreeMap<String, Sp<i64>>)>) -> Option<Nat> {
        // A NAT sorry server needs the same as a NAT service: directors that route, and a
        // gateway for the server's replies.
        let uses_nat = services.iter().any(|s| s.mode == Mode::Nat || s.sorry_server.as_ref().is_some_and(|ss| ss.mode == Mode::Nat));
        let spec = self.topo.nat.as_ref();
        let Some(spec) = spec else {
            if uses_nat {
                let nat_service = self.topo.services.iter().find(|s| s.mode.value == Mode::Nat).map(|s| s.mode.span.clone());
                let nat_sorry = || {
                    self.topo.services.iter().find_map(|s| s.sorry_server_lvs_method.as_ref().filter(|m| m.value == Mode::Nat).map(|m| m.span.clone()))
                };
                let what = if nat_service.is_some() { "a NAT service" } else { "a NAT sorry server" };
                let span = nat_service.or_else(nat_sorry).unwrap_or_else(|| self.topo.span.clone());
                self.d.error(span, format!("{what} needs a `nat` section"))
                    .hint("add `nat: { internal_interface: eth1, gateway_vip: 10.0.1.254 }`");
            }
            return None;
        };
        if !uses_nat {
            self.d.warning(spec.span.clone(), "`nat` is ignored: no service uses `mode: nat`");
            return None;
        }
        let internal_interface = match &spec.internal_interface {
            Some(i) => {
                check_interface(i, "nat.internal_interface", self.d);
                i.value.clone()
            }
            None => String::new(), // reported as missing by the topology stage
        };
        let pair = directors.as_ref().is_some_and(|d| d.len() > 1);
        let gateway = match &spec.gateway_vip {
            Some(g) => {
                let vrid = match (&spec.virtual_router_id, vrrp) {
                    (Some(v), _) => v.value as u8,
                    (None, Some((v, _))) => v.virtual_router_id.wrapping_add(1).max(1),
                    (None, None) => 0,
                };
                if let (Some((v, _)), true) = (vrrp, vrid != 0) {
                    if vrid == v.virtual_router_id {
                        let span = spec.virtual_router_id.as_ref().map_or(spec.span.clone(), |v| v.span.clone());
                        self.d.error(span, format!("`nat.virtual_router_id` {vrid} equals `vrrp.virtual_router_id`"))
                            .hint("the gateway instance needs its own VRRP router id");
                    }
                }
                Some(NatGateway { vip: g.value, prefix: spec.gateway_prefix.as_ref().map_or(24, |p| p.value as u8), virtual_router_id: vrid })
            }
            None if pair => {
                self.d.error(spec.span.clone(), "a NAT director pair needs `nat.gateway_vip`")
                    .hint("real servers route replies through the directors: give them a floating gateway address that moves with the VIPs");
                None
            }
            None => {
                self.d.warning(spec.span.clone(), "no `nat.gateway_vip`: lvsctl will not set the real servers' default route")
                    .hint("point each real server's default gateway at the director yourself, or set `gateway_vip`");
                None
            }
        };
        Some(Nat { internal_interface, gateway })
    }

    fn router(&mut self, services: &[VirtualService]) -> Option<Router> {
        let spec = self.topo.router.as_ref()?;
        // Missing or invalid keys were reported by the topology stage.
        let host = self.host(spec.host.as_ref()?, "router")?.name;
        let public_ip = spec.public_ip.clone()?;
        let internal_network = spec.internal_network.clone()?;
        if spec.forwards.is_empty() {
            self.d.warning(spec.span.clone(), "`router.forwards` is empty: the router forwards nothing");
        }
        let mut forwards = Vec::new();
        let mut ports: BTreeMap<(u16, Protocol), Span> = BTreeMap::new();
        for (i, f) in spec.forwards.iter().enumerate() {
            let (Some(port), Some(service)) = (&f.port, &f.service) else { continue };
            let Some(svc) = services.iter().find(|s| s.name == service.value) else {
                if self.topo.services.iter().any(|s| s.name.as_ref().is_some_and(|n| n.value == service.value)) {
                    continue; // the service itself is invalid and was reported
                }
                let diag = self.d.error(service.span.clone(), format!("`router.forwards[{i}]`: no service named `{}`", service.value));
                if let Some(s) = did_you_mean(&service.value, services.iter().map(|s| s.name.as_str())) {
                    diag.hint(format!("did you mean `{s}`?"));
                }
                continue;
            };
            if let Some(first) = ports.insert((port.value as u16, svc.protocol), port.span.clone()) {
                self.d.error(port.span.clone(), format!("public port {} is forwarded twice (first at {first})", port.value));
            }
            if !internal_network.value.contains(svc.vip) {
                self.d.warning(service.span.clone(), format!(
                    "VIP {} of `{}` is outside `router.internal_network` {}: its replies will not be SNATed",
                    svc.vip, svc.name, internal_network.value
                ));
            }
            forwards.push(Forward { public_port: port.value as u16, service: svc.name.clone(), protocol: svc.protocol, vip: svc.vip, port: svc.port });
        }
        Some(Router { host, public_ip: public_ip.value, internal_network: internal_network.value, forwards })
    }

    /// No VIP, NAT gateway or router public IP may equal a host's own address (binding it
    /// would take the address away from that host), nor one another.
    fn vip_collisions(&mut self) {
        let by_address: BTreeMap<Ipv4Addr, &str> = self.inv.hosts.values().filter_map(|h| h.address.map(|a| (a, h.name.as_str()))).collect();
        let topo = self.topo;
        let vips = topo.services.iter().filter_map(|s| s.vip.as_ref().map(|v| (v.value, v.span.clone(), "VIP")));
        let gateway = topo.nat.iter().filter_map(|n| n.gateway_vip.as_ref().map(|g| (g.value, g.span.clone(), "`nat.gateway_vip`")));
        let public = topo.router.iter().filter_map(|r| r.public_ip.as_ref().map(|p| (p.value, p.span.clone(), "`router.public_ip`")));
        let mut seen: BTreeMap<Ipv4Addr, &str> = BTreeMap::new();
        for (ip, span, what) in vips.chain(gateway).chain(public) {
            if let Some(host) = by_address.get(&ip) {
                self.d.error(span, format!("{what} {ip} is the address of host `{host}`"))
                    .hint("a VIP must be an address no host owns; pick a free address on the same network");
            } else if let Some(first) = seen.get(&ip).filter(|first| **first != what || what != "VIP") {
                self.d.error(span, format!("{what} {ip} is also used as {first}"))
                    .hint("the gateway, the public address and the VIPs must be different addresses");
            }
            seen.entry(ip).or_insert(what);
        }
    }
}

fn check_auth_pass(p: &Sp<String>, what: &str, d: &mut Diagnostics) -> Option<String> {
    if !check_token(p, what, d) {
        return None;
    }
    // keepalived copies at most 8 *bytes*: a multi-byte character counts for more than one.
    let len = p.value.len();
    if len > 8 {
        // Do not echo the secret.
        d.error(p.span.clone(), format!("`{what}` is {len} bytes long; VRRP PASS authentication uses at most 8"))
            .hint("keepalived silently truncates it to 8 bytes, so peers configured by hand would disagree");
        return None;
    }
    Some(p.value.clone())
}
