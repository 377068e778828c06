//! The validated cluster: what the topology means once checked against itself and the
//! inventory.
//!
//! `Cluster::build` is the one place where cross-key rules live (the rules in
//! shared/notes/lvs.md): hosts exist, priorities differ and the MASTER's is highest, VRRP ids
//! and passwords are in range, DR/TUN real servers keep the service port, a NAT pair has a
//! floating gateway, no VIP equals a host address, nothing unsafe reaches a config file, and
//! nothing `keepalived -t` would refuse (a quorum above the real servers' total weight, a
//! sorry server on another port outside NAT, `ops` on TCP, ...). It reports every problem it
//! finds and returns a model only when there is no error, so later stages never see an
//! invalid cluster. It reads the environment only for `auth_pass_env`.
//!
//! One file per section of the topology, each holding its types and the `Builder` methods
//! that check and build them; this file holds the `Cluster`, the builder's entry point and the
//! rules that span sections (hosts looked up in the inventory, addresses that collide).

mod check;
mod directors;
pub mod family;
mod instances;
pub mod drained;
mod nat;
mod notification;
mod router;
mod service_options;
mod services;
mod sorry_server;
mod track;
mod vrrp;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::diagnostic::{did_you_mean, Diagnostics};
use crate::inventory::{Host, Inventory};
use crate::token::check_identifier;
use crate::topology::{Engine, Mode, Topology};
use crate::yaml::Sp;

pub use check::{Check, Dns, Misc, Udp, Url};
pub use directors::Director;
pub use instances::VrrpInstance;
pub use nat::{Nat, NatGateway};
pub use notification::Notification;
pub use router::{Forward, Router};
pub use services::{RealServer, VirtualService, DEFAULT_DRAIN_TIMEOUT};
pub use sorry_server::SorryServer;
pub use track::{Notify, TrackScript};
pub use vrrp::{Garp, Vrrp, VrrpState};

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
    /// Real servers drained with `lvsctl drain` (read from the directors; `with_drained`).
    pub drained: BTreeMap<String, drained::DrainMark>,
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
    pub fn vips(&self) -> Vec<IpAddr> {
        let mut seen = BTreeSet::new();
        self.services.iter().map(|s| s.vip).filter(|v| seen.insert(*v)).collect()
    }

    pub fn has_mode(&self, mode: Mode) -> bool {
        self.services.iter().any(|s| s.mode == mode)
    }
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
        let mut vrrp = self.vrrp(engine);
        let directors = self.directors(engine, vrrp.as_ref());
        if let (Some(spec), Some(_), Some(ds)) = (topo.vrrp.as_ref(), vrrp.as_ref(), directors.as_ref()) {
            self.track_with_directors(spec, ds);
        }
        let notification = self.notification();
        let mut services = self.services(&directors);
        let nat = self.nat(&services, &directors, vrrp.as_ref());
        self.instances(vrrp.as_mut().map(|(v, _)| v), &mut services, &nat);
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
            drained: BTreeMap::new(),
        })
    }

    /// No VIP, NAT gateway or router public IP may equal a host's own address (binding it
    /// would take the address away from that host), nor one another.
    fn vip_collisions(&mut self) {
        let by_address: BTreeMap<IpAddr, &str> = self
            .inv
            .hosts
            .values()
            .flat_map(|h| [h.address.map(IpAddr::V4), h.address6.map(IpAddr::V6)].into_iter().flatten().map(|a| (a, h.name.as_str())))
            .collect();
        let topo = self.topo;
        let vips = topo.services.iter().filter_map(|s| s.vip.as_ref().map(|v| (v.value, v.span.clone(), "VIP")));
        let gateway = topo.nat.iter().filter_map(|n| n.gateway_vip.as_ref().map(|g| (IpAddr::V4(g.value), g.span.clone(), "`nat.gateway_vip`")));
        let public = topo.router.iter().filter_map(|r| r.public_ip.as_ref().map(|p| (IpAddr::V4(p.value), p.span.clone(), "`router.public_ip`")));
        let mut seen: BTreeMap<IpAddr, &str> = BTreeMap::new();
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
