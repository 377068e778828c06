//! The `nat` section: what NAT services (and NAT sorry servers) need from the directors, the
//! internal interface and the floating gateway the real servers route their replies through.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::{Builder, Director, VirtualService, Vrrp};
use crate::token::check_interface;
use crate::topology::Mode;
use crate::yaml::Sp;

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

impl Builder<'_> {
    pub(super) fn nat(&mut self, services: &[VirtualService], directors: &Option<Vec<Director>>, vrrp: Option<&(Vrrp, BTreeMap<String, Sp<i64>>)>) -> Option<Nat> {
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
}
