//! The sorry server, where IPVS sends a service's traffic while its quorum is lost: an
//! inventory host lvsctl sets up, or an address it does not manage. Its own file because
//! keepalived's rules for it (port, forwarding method, inhibit) differ from a real server's.

use std::net::{IpAddr, Ipv4Addr};

use super::{Builder, RealServer};
use crate::topology::{Mode, ServiceSpec};

/// Where IPVS sends a service's traffic while its quorum is lost.
#[derive(Debug, Clone)]
pub struct SorryServer {
    /// The inventory host, when given by `host:` (lvsctl then sets it up like a real server).
    pub host: Option<String>,
    pub address: IpAddr,
    pub port: u16,
    /// `sorry_server_lvs_method`, the service's mode unless set.
    pub mode: Mode,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
}

impl Builder<'_> {
    pub(super) fn sorry_server(&mut self, path: &str, s: &ServiceSpec, inhibit_on_failure: bool, real_servers: &[RealServer]) -> Option<SorryServer> {
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
        // A firewall-mark service's servers are at port 0 (each packet keeps its own port).
        let service_port = if s.fwmark.is_some() { 0 } else { s.port.as_ref().map_or(0, |p| p.value) };
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
                let vip = s.vip.as_ref().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |v| v.value);
                let Some(address) = host.address_for(vip) else {
                    self.d.error(h.span.clone(), format!("sorry server `{}` has no {} address", host.name, super::services::family(vip)))
                        .hint(super::services::address_hint(vip));
                    return None;
                };
                (Some(host.name), address)
            }
            (None, Some(a)) => {
                if let Some(v) = s.vip.as_ref().filter(|v| v.value.is_ipv6() != a.value.is_ipv6()) {
                    self.d.error(a.span.clone(), format!(
                        "sorry server {} is {} but the VIP {} is {}", a.value, super::services::family(a.value), v.value, super::services::family(v.value)
                    )).hint("IPVS forwards to a server of the VIP's own family (keepalived mixes them only in TUN mode, which lvsctl does not render): use an address of the VIP's family");
                    return None;
                }
                let owner = self.inv.hosts.values().find(|h| h.address_for(a.value) == Some(a.value));
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
        if let (Some(p), Some(_)) = (&spec.port, &s.fwmark) {
            self.d.error(p.span.clone(), format!("`{what}.port`: the sorry server of a firewall-mark service has no port"))
                .hint("IPVS sends each marked packet on the port it was sent to (the service's `ports`): remove `port`");
            return None;
        }
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
}
