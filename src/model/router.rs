//! The edge router: which public ports it forwards to which virtual service. Checked against
//! the services built before it, so a forward names a service that exists.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Builder, VirtualService};
use crate::diagnostic::{did_you_mean, Span};
use crate::topology::{Cidr, Cidr6, Protocol};

#[derive(Debug, Clone)]
pub struct Router {
    pub host: String,
    pub public_ip: Ipv4Addr,
    pub internal_network: Cidr,
    /// Set when a forward goes to an IPv6 service (ip6tables' nat table).
    pub public_ip6: Option<Ipv6Addr>,
    pub internal_network6: Option<Cidr6>,
    pub forwards: Vec<Forward>,
    /// The router's connection-tracking table size (`net.netfilter.nf_conntrack_max`).
    pub conntrack_max: u64,
}

/// The router tracks every forwarded connection for its DNAT/SNAT, and a closed TCP
/// connection stays in the table for 120 s (TIME_WAIT). The kernel sizes the table from the
/// memory: 2,048 entries on a 256 MiB machine, full at 17 new connections/s, after which it
/// drops every new connection ("nf_conntrack: table full, dropping packet"; the VM lab's router
/// hit it at 50 req/s). 262,144 carries 2,000 new connections/s; an entry is allocated only
/// when used (~320 bytes), so the cap costs nothing until the traffic is there.
pub const DEFAULT_CONNTRACK_MAX: u64 = 262_144;

#[derive(Debug, Clone)]
pub struct Forward {
    pub public_port: u16,
    pub service: String,
    pub protocol: Protocol,
    /// IPv4: DNAT from `public_ip`; IPv6: from `public_ip6`.
    pub vip: IpAddr,
    pub port: u16,
}

impl Builder<'_> {
    pub(super) fn router(&mut self, services: &[VirtualService]) -> Option<Router> {
        let spec = self.topo.router.as_ref()?;
        // Missing or invalid keys were reported by the topology stage.
        let host = self.host(spec.host.as_ref()?, "router")?.name;
        let is_director = self.topo.directors.iter().any(|d| d.hosts.iter().any(|h| h.value == host));
        if let (true, Some(s)) = (is_director, services.iter().find(|s| s.fwmark.is_some())) {
            self.d.error(spec.host.as_ref()?.span.clone(), format!("the router `{host}` is also a director, and service `{}` is a firewall-mark service", s.name))
                .hint("lvsctl keeps the router's nat chains and a director's mark chain in separate rules files: give the router its own host");
        }
        let public_ip = spec.public_ip.clone()?;
        let internal_network = spec.internal_network.clone()?;
        if spec.forwards.is_empty() {
            self.d.warning(spec.span.clone(), "`router.forwards` is empty: the router forwards nothing");
        }
        let mut forwards = Vec::new();
        let mut ports: BTreeMap<(u16, Protocol, bool), Span> = BTreeMap::new();
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
            // A firewall-mark service's public port goes to the same port of the VIP (one of
            // its `ports`), or to its only port.
            let target = if svc.fwmark.is_none() || svc.ports.len() == 1 {
                svc.port
            } else if svc.ports.contains(&(port.value as u16)) {
                port.value as u16
            } else {
                let list = svc.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
                self.d.error(port.span.clone(), format!("`router.forwards[{i}]`: public port {} is not one of firewall-mark service `{}`'s ports ({list})", port.value, svc.name))
                    .hint(format!("the router forwards each port of a firewall-mark service to the same port of its VIP: forward each of {list} with its own entry"));
                continue;
            };
            // One public port per protocol and family: IPv4's and IPv6's are different addresses.
            if let Some(first) = ports.insert((port.value as u16, svc.protocol, svc.vip.is_ipv6()), port.span.clone()) {
                self.d.error(port.span.clone(), format!("public port {} is forwarded twice (first at {first})", port.value));
            }
            match svc.vip {
                IpAddr::V4(vip) if !internal_network.value.contains(vip) => {
                    self.d.warning(service.span.clone(), format!(
                        "VIP {} of `{}` is outside `router.internal_network` {}: its replies will not be SNATed",
                        svc.vip, svc.name, internal_network.value
                    ));
                }
                IpAddr::V4(_) => {}
                IpAddr::V6(vip) => match (&spec.public_ip6, &spec.internal_network6) {
                    (Some(_), Some(net)) => {
                        if !net.value.contains(vip) {
                            self.d.warning(service.span.clone(), format!(
                                "VIP {} of `{}` is outside `router.internal_network6` {}: its replies will not be SNATed",
                                svc.vip, svc.name, net.value
                            ));
                        }
                    }
                    _ => {
                        self.d.error(service.span.clone(), format!("`router.forwards[{i}]`: service `{}` has an IPv6 VIP ({}), and the router has no `public_ip6` and `internal_network6`", svc.name, svc.vip))
                            .hint("an IPv6 service is forwarded by ip6tables from the router's public IPv6 address: set `router.public_ip6` and `router.internal_network6` (the VIPs' IPv6 network)");
                        continue;
                    }
                },
            }
            forwards.push(Forward { public_port: port.value as u16, service: svc.name.clone(), protocol: svc.protocol, vip: svc.vip, port: target });
        }
        let conntrack_max = spec.conntrack_max.as_ref().map_or(DEFAULT_CONNTRACK_MAX, |c| c.value);
        let public_ip6 = spec.public_ip6.as_ref().map(|p| p.value);
        let internal_network6 = spec.internal_network6.as_ref().map(|n| n.value);
        Some(Router { host, public_ip: public_ip.value, internal_network: internal_network.value, public_ip6, internal_network6, forwards, conntrack_max })
    }
}
