//! IPv6 services: what lvsctl renders for an IPv6 VIP, and the combinations it refuses.
//!
//! An IPv6 VIP is served in DR or TUN mode: the directors carry it in a VRRP instance of its own
//! family (keepalived's VRRP instances are single-family; `plan::director` splits an instance
//! whose services mix families into `NAME` and `NAME_V6`), real servers bind it on lo as a
//! /128 (TUN: on ip6tnl0) and need no counterpart of the ARP sysctls (the kernel answers a
//! neighbour solicitation only for an address of the receiving interface). The rest of an IPv6 cluster
//! is not rendered yet, and is refused here with the reason rather than half-made:
//! - NAT: the real servers' IPv6 default route through a floating IPv6 gateway, and IPv6
//!   forwarding on the directors;
//! - TUN with mixed families (an IPv4 VIP tunnelled to IPv6 real servers, which keepalived
//!   allows): refused by `services`, as every server is of the VIP's family;
//! - firewall marks: ip6tables mangle rules; router forwards: ip6tables DNAT/SNAT
//!   (`model::router`);
//! - `persistence_granularity`: keepalived takes a prefix length for IPv6, a netmask for IPv4.
//!
//! Every server of a service is of the VIP's family (`services`, `sorry_server`): keepalived
//! mixes families only in TUN mode.

use std::net::IpAddr;

use super::{Builder, Director};
use crate::topology::{Mode, ServiceSpec};

impl Builder<'_> {
    /// Refuses what lvsctl does not render for an IPv6 VIP (nothing to check for IPv4).
    pub(super) fn ipv6_service(&mut self, path: &str, s: &ServiceSpec, directors: &Option<Vec<Director>>) {
        let Some(vip) = s.vip.as_ref().filter(|v| v.value.is_ipv6()) else { return };
        if s.mode.value == Mode::Nat {
            self.d.error(s.mode.span.clone(), format!("`{path}`: IPv6 VIP {} in NAT mode", vip.value))
                .hint("a NAT service's real servers need an IPv6 default route through a floating IPv6 gateway, which lvsctl does not render yet: serve IPv6 VIPs with `mode: dr` or `mode: tun`");
        }
        if let Some(m) = &s.fwmark {
            self.d.error(m.span.clone(), format!("`{path}`: firewall-mark service with IPv6 VIP {}", vip.value))
                .hint("lvsctl's mark rules are iptables (IPv4) rules; ip6tables marks are not rendered yet: write one service per port");
        }
        if let Some(g) = &s.persistence_granularity {
            self.d.error(g.span.clone(), format!("`{path}.persistence_granularity` with IPv6 VIP {}", vip.value))
                .hint("the netmask form is IPv4's (keepalived takes a prefix length for IPv6, which lvsctl does not render yet): remove it");
        }
        let unicast = self.topo.vrrp.as_ref().and_then(|v| v.unicast.as_ref()).filter(|u| u.value);
        if let (Some(u), Some(ds)) = (unicast, directors) {
            for d in ds.iter().filter(|d| d.address6.is_none()) {
                self.d.error(u.span.clone(), format!("`vrrp.unicast` with IPv6 VIP {} needs the IPv6 address of director `{}`", vip.value, d.host))
                    .hint("an IPv6 VRRP instance sends its unicast adverts over IPv6: set `ipv6_address` for it in the inventory");
            }
        }
    }
}

/// The VIPs of one family, in order.
pub fn of_family(vips: &[IpAddr], v6: bool) -> Vec<IpAddr> {
    vips.iter().copied().filter(|v| v.is_ipv6() == v6).collect()
}
