//! The directors: which hosts carry the IPVS table, on which interface, and their VRRP
//! priorities and states. The rules that need the VRRP section and the inventory together
//! live here (priorities unique and in range, the MASTER's the highest, unicast peers with an
//! address).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Builder, Vrrp, VrrpState};
use crate::token::check_interface;
use crate::topology::Engine;
use crate::yaml::Sp;

#[derive(Debug, Clone)]
pub struct Director {
    pub host: String,
    pub address: Option<Ipv4Addr>,
    /// For an IPv6 VRRP instance's unicast adverts.
    pub address6: Option<Ipv6Addr>,
    pub interface: String,
    pub priority: u8,
    /// The first director is the MASTER (highest priority); with nopreempt every director
    /// starts as BACKUP, as keepalived requires.
    pub state: VrrpState,
    pub is_master: bool,
}

/// Default priorities in hosts order: 150, 100, 50, ...
fn default_priority(index: usize) -> u64 {
    150u64.saturating_sub(50 * index as u64).max(1)
}

impl Builder<'_> {
    pub(super) fn directors(&mut self, engine: Engine, vrrp: Option<&(Vrrp, BTreeMap<String, Sp<i64>>)>) -> Option<Vec<Director>> {
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
                address6: host.address6,
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
}
