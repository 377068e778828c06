//! Several VRRP instances: an active-active split of the VIPs across the directors. Each
//! extra instance (`vrrp.instances`) has its own VRID and its own MASTER, and carries the VIPs
//! of the services that name it in `vrrp_instance`; the first instance (`vrrp.instance`)
//! carries the rest, with the first director as MASTER. Every instance shares the pair's
//! timing, secret, unicast peers, tracked scripts and interfaces, so a director that fails
//! hands all of its VIPs to the other, and each comes back to its MASTER.
//!
//! A director's priority in an instance is a permutation of the priorities the topology gives
//! it: the instance's MASTER takes the highest, the others keep their order with the rest. So
//! the priorities stay distinct and in range, and a negative track-script weight that moves
//! the first instance moves every instance the same way.
//!
//! Not with a NAT pair (its real servers route every reply through one floating gateway,
//! which one director holds) nor with connection sync (keepalived runs one sync daemon, tied
//! to one instance): both are refused with the reason.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{Builder, Cluster, Director, Nat, VirtualService, Vrrp, VrrpState};
use crate::diagnostic::{did_you_mean, Span};
use crate::token::check_identifier;

#[derive(Debug, Clone)]
pub struct VrrpInstance {
    pub name: String,
    pub virtual_router_id: u8,
    /// The director that holds the instance's VIPs while it is up.
    pub master: String,
}

impl Cluster {
    /// The instances that carry VIPs: the first (`vrrp.instance`, its MASTER the first
    /// director), then `vrrp.instances`. Empty without VRRP.
    pub fn vip_instances(&self) -> Vec<VrrpInstance> {
        let Some(v) = &self.vrrp else { return Vec::new() };
        let first = VrrpInstance { name: v.instance.clone(), virtual_router_id: v.virtual_router_id, master: self.directors.first().map(|d| d.host.clone()).unwrap_or_default() };
        std::iter::once(first).chain(v.instances.iter().cloned()).collect()
    }

    /// The VIPs `instance` carries, in service order, each once.
    pub fn instance_vips(&self, instance: &str) -> Vec<IpAddr> {
        let first = self.vrrp.as_ref().is_some_and(|v| v.instance == instance);
        let mut out: Vec<IpAddr> = Vec::new();
        for s in &self.services {
            let mine = match &s.vrrp_instance {
                Some(i) => i == instance,
                None => first,
            };
            if mine && !out.contains(&s.vip) {
                out.push(s.vip);
            }
        }
        out
    }

    /// `director`'s state and priority in `instance`: the instance's MASTER gets the highest of
    /// the directors' priorities, the others keep their order with the rest.
    pub fn instance_role(&self, instance: &VrrpInstance, director: &Director) -> (VrrpState, u8) {
        let mut by_rank: Vec<&Director> = self.directors.iter().collect();
        by_rank.sort_by_key(|d| std::cmp::Reverse(d.priority));
        let priorities: Vec<u8> = by_rank.iter().map(|d| d.priority).collect();
        let order: Vec<&str> = std::iter::once(instance.master.as_str())
            .chain(by_rank.iter().map(|d| d.host.as_str()).filter(|h| *h != instance.master))
            .collect();
        let rank = order.iter().position(|h| *h == director.host).unwrap_or(0);
        let priority = priorities.get(rank).copied().unwrap_or(director.priority);
        // nopreempt and preempt_delay start every director as BACKUP (directors.rs).
        let starts_backup = self.directors.iter().all(|d| d.state == VrrpState::Backup);
        let state = if rank == 0 && !starts_backup { VrrpState::Master } else { VrrpState::Backup };
        (state, priority)
    }
}

impl Builder<'_> {
    /// The extra instances, and each service's instance (`vrrp_instance`, checked).
    pub(super) fn instances(&mut self, vrrp: Option<&mut Vrrp>, services: &mut [VirtualService], nat: &Option<Nat>) {
        let topo = self.topo;
        let Some(v) = vrrp else {
            for s in topo.services.iter() {
                if let Some(i) = &s.vrrp_instance {
                    self.d.error(i.span.clone(), "`vrrp_instance` needs a `vrrp` section (and `engine: keepalived`)");
                }
            }
            return;
        };
        let Some(spec) = topo.vrrp.as_ref() else { return };
        let mut names: BTreeMap<String, Option<Span>> = BTreeMap::from([(v.instance.clone(), spec.instance.as_ref().map(|i| i.span.clone()))]);
        let mut vrids: BTreeMap<u8, String> = BTreeMap::from([(v.virtual_router_id, format!("`vrrp.virtual_router_id` ({})", v.instance))]);
        let gateway = nat.as_ref().and_then(|n| n.gateway.as_ref());
        if let Some(gw) = gateway {
            names.insert(format!("{}_GW", v.instance), None);
            vrids.insert(gw.virtual_router_id, "`nat.virtual_router_id`".into());
        }
        let director_names: Vec<&str> = topo.directors.iter().flat_map(|d| d.hosts.iter().map(|h| h.value.as_str())).collect();
        if let Some(first) = spec.instances.first() {
            let span = first.span.clone();
            if director_names.len() < 2 {
                self.d.error(span.clone(), "`vrrp.instances` splits the VIPs across directors, but there is only one")
                    .hint("list a second director in `directors.hosts`, or remove `vrrp.instances`");
            }
            if gateway.is_some() {
                self.d.error(span.clone(), "`vrrp.instances` with a NAT pair: its real servers route every reply through the one floating gateway, which one director holds")
                    .hint("split only DR or TUN clusters across the directors");
            }
            if let Some(c) = spec.connection_sync.as_ref().filter(|c| c.value) {
                self.d.error(c.span.clone(), "`vrrp.connection_sync` with `vrrp.instances`: keepalived runs one IPVS sync daemon, tied to one instance, so the other instances' connections would not be copied")
                    .hint("remove `connection_sync`, or keep the cluster to one instance");
            }
        }
        for (i, inst) in spec.instances.iter().enumerate() {
            let path = format!("vrrp.instances[{i}]");
            let (Some(name), Some(vrid), Some(master)) = (&inst.name, &inst.virtual_router_id, &inst.master) else { continue };
            if !check_identifier(name, &format!("{path}.name"), self.d) {
                continue;
            }
            if let Some(first) = names.insert(name.value.clone(), Some(name.span.clone())) {
                let at = first.map(|s| format!(" (at {s})")).unwrap_or_else(|| " (the NAT gateway's instance)".into());
                self.d.error(name.span.clone(), format!("VRRP instance `{}` is defined twice{at}", name.value));
                continue;
            }
            let vrid_u8 = vrid.value as u8;
            if let Some(other) = vrids.insert(vrid_u8, format!("`{path}.virtual_router_id` ({})", name.value)) {
                self.d.error(vrid.span.clone(), format!("`{path}.virtual_router_id` {} is also {other}", vrid.value))
                    .hint("each VRRP instance of the pair needs its own router id");
            }
            if !director_names.contains(&master.value.as_str()) {
                let diag = self.d.error(master.span.clone(), format!("`{path}.master`: `{}` is not a director", master.value));
                match did_you_mean(&master.value, director_names.iter().copied()) {
                    Some(s) => diag.hint(format!("did you mean `{s}`?")),
                    None => diag.hint("name one of `directors.hosts`"),
                };
                continue;
            }
            v.instances.push(VrrpInstance { name: name.value.clone(), virtual_router_id: vrid_u8, master: master.value.clone() });
        }
        // Each service's instance; a VIP shared by services is in one instance.
        let mut vip_instance: BTreeMap<IpAddr, (String, String)> = BTreeMap::new();
        let mut carried: BTreeMap<String, usize> = BTreeMap::new();
        for s in services.iter_mut() {
            let Some(ts) = topo.services.iter().find(|t| t.name.as_ref().is_some_and(|n| n.value == s.name)) else { continue };
            let instance = match &ts.vrrp_instance {
                Some(i) if i.value == v.instance || v.instances.iter().any(|x| x.name == i.value) => i.value.clone(),
                Some(i) => {
                    let known: Vec<&str> = std::iter::once(v.instance.as_str()).chain(v.instances.iter().map(|x| x.name.as_str())).collect();
                    let diag = self.d.error(i.span.clone(), format!("service `{}`: no VRRP instance `{}`", s.name, i.value));
                    match did_you_mean(&i.value, known.iter().copied()) {
                        Some(k) => diag.hint(format!("did you mean `{k}`?")),
                        None => diag.hint(format!("name one of {}", known.join(", "))),
                    };
                    continue;
                }
                None => v.instance.clone(),
            };
            if let Some((other_instance, other_service)) = vip_instance.get(&s.vip).filter(|(i, _)| *i != instance) {
                let span = ts.vrrp_instance.as_ref().map(|i| i.span.clone()).or_else(|| ts.vip.as_ref().map(|v| v.span.clone())).unwrap_or_else(|| ts.span.clone());
                self.d.error(span, format!("VIP {} of service `{}` is in instance `{instance}`, but service `{other_service}` puts it in `{other_instance}`", s.vip, s.name))
                    .hint("an address moves with one VRRP instance: give every service of a VIP the same `vrrp_instance`");
            }
            vip_instance.entry(s.vip).or_insert((instance.clone(), s.name.clone()));
            *carried.entry(instance.clone()).or_default() += 1;
            if ts.vrrp_instance.is_some() {
                s.vrrp_instance = Some(instance);
            }
        }
        if !v.instances.is_empty() && !carried.contains_key(&v.instance) {
            let span = spec.instance.as_ref().map_or(spec.span.clone(), |i| i.span.clone());
            self.d.error(span, format!("the first VRRP instance `{}` carries no VIP: every service names another", v.instance))
                .hint("leave `vrrp_instance` out of the services the first director should hold");
        }
        for inst in &v.instances {
            if !carried.contains_key(&inst.name) {
                let span = spec.instances.iter().filter_map(|x| x.name.as_ref()).find(|n| n.value == inst.name).map_or(spec.span.clone(), |n| n.span.clone());
                self.d.error(span, format!("VRRP instance `{}` carries no VIP", inst.name))
                    .hint(format!("name it in a service: `vrrp_instance: {}`", inst.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ipvs::testing::example;
    use crate::model::VrrpState::{Backup, Master};

    /// Each instance's MASTER takes the highest priority; the VIPs go with their instance.
    #[test]
    fn the_active_active_example_swaps_the_priorities() {
        let c = example("dr-keepalived-active-active.yml");
        let instances = c.vip_instances();
        let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["VI_WEB", "VI_API"]);
        let mut roles = Vec::new();
        for i in &instances {
            for d in &c.directors {
                roles.push((i.name.as_str(), d.host.as_str(), c.instance_role(i, d)));
            }
        }
        assert_eq!(
            roles,
            [("VI_WEB", "lvs1", (Master, 150)), ("VI_WEB", "lvs2", (Backup, 100)), ("VI_API", "lvs1", (Backup, 100)), ("VI_API", "lvs2", (Master, 150))]
        );
        assert_eq!(c.instance_vips("VI_WEB"), ["10.77.0.100".parse::<std::net::IpAddr>().unwrap()]);
        assert_eq!(c.instance_vips("VI_API"), ["10.77.0.101".parse::<std::net::IpAddr>().unwrap()]);
        // One instance: the first director is its MASTER with its own priority.
        let single = example("dr-keepalived-pair-http.yml");
        let only = &single.vip_instances()[0];
        assert_eq!(single.instance_role(only, &single.directors[1]), (Backup, 99));
        assert_eq!(single.instance_vips(&only.name).len(), 1);
    }
}
