//! VRRP router id clashes between clusters (`lvsctl validate A.yml B.yml ...`).
//!
//! One cluster's own ids are checked by `model` (the gateway instance's id differs from the
//! VIP instance's). Two clusters are checked here: VRRP has no notion of a cluster, so two
//! instances with the same router id whose adverts reach each other take each other's
//! adverts for their peer's. keepalived then logs "bad password" or "ip address associated
//! with VRID is not present" and, depending on priorities, one pair's BACKUP sees a MASTER
//! that is not its own and never takes over, or both pairs flap: a failure that shows only
//! when the second cluster is switched on. Operators avoid it by hand with a spreadsheet of
//! ids per VLAN; this check is that spreadsheet.
//!
//! Two instances clash when they have the same router id and the same address family (every
//! instance lvsctl renders is IPv4 today) and their adverts reach each other:
//! - both by unicast: when their peer sets share an address (the same director, or a
//!   director of one sending to the other's); disjoint peer sets never see each other's
//!   adverts, whatever the segment;
//! - otherwise (at least one multicasts to 224.0.0.18): when they advertise on one L2
//!   segment, i.e. when their networks overlap or they share a director. A director's
//!   network is its address with `segment_prefix` bits (the inventory has addresses, not
//!   prefixes: `lvsctl validate --segment-prefix`), the NAT gateway's is its own prefix.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::diagnostic::{Diagnostics, Span};
use crate::model::Cluster;
use crate::topology::Topology;

/// An IPv4 network: address with the host bits cleared, prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Net {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Net {
    pub fn of(addr: Ipv4Addr, prefix: u8) -> Net {
        let prefix = prefix.min(32);
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        Net { addr: Ipv4Addr::from(u32::from(addr) & mask), prefix }
    }

    /// One contains the other (networks either nest or are disjoint).
    pub fn overlaps(&self, other: &Net) -> bool {
        let shorter = self.prefix.min(other.prefix);
        Net::of(self.addr, shorter) == Net::of(other.addr, shorter)
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// One VRRP instance a cluster's directors run, as far as other clusters can see it.
#[derive(Debug, Clone)]
pub struct Instance {
    pub cluster: String,
    /// `VI_1`, `VI_1_GW`.
    pub name: String,
    pub virtual_router_id: u8,
    /// Where the id is set (or, for a defaulted gateway id, the id it derives from).
    pub span: Span,
    /// The networks its adverts are sent on.
    pub networks: BTreeSet<Net>,
    /// Its directors' addresses (a director shared by two clusters shares the segment).
    pub directors: BTreeSet<Ipv4Addr>,
    /// With unicast: every address its adverts go to or come from; None with multicast.
    pub unicast_peers: Option<BTreeSet<Ipv4Addr>>,
}

/// The VRRP instances of a validated cluster (none with `engine: ipvsadm` or without
/// `vrrp`), mirroring what `plan::director` renders.
pub fn instances(cluster: &Cluster, topology: &Topology, segment_prefix: u8) -> Vec<Instance> {
    let (Some(v), Some(spec)) = (&cluster.vrrp, &topology.vrrp) else { return Vec::new() };
    let vrid_span = spec.virtual_router_id.as_ref().map_or(spec.span.clone(), |s| s.span.clone());
    let directors: BTreeSet<Ipv4Addr> = cluster.directors.iter().filter_map(|d| d.address).collect();
    let lan: BTreeSet<Net> = directors.iter().map(|a| Net::of(*a, segment_prefix)).collect();
    // plan::director renders unicast only on directors whose address is known.
    let unicast = (v.unicast && !directors.is_empty()).then(|| directors.clone());
    let mut out = vec![Instance {
        cluster: cluster.name.clone(),
        name: v.instance.clone(),
        virtual_router_id: v.virtual_router_id,
        span: vrid_span.clone(),
        networks: lan.clone(),
        directors: directors.clone(),
        unicast_peers: unicast.clone(),
    }];
    // An active-active split's other instances advertise like the first.
    for (vi, spec_vi) in v.instances.iter().map(|vi| (vi, spec.instances.iter().find(|x| x.name.as_ref().is_some_and(|n| n.value == vi.name)))) {
        out.push(Instance {
            cluster: cluster.name.clone(),
            name: vi.name.clone(),
            virtual_router_id: vi.virtual_router_id,
            span: spec_vi.and_then(|x| x.virtual_router_id.as_ref()).map_or(vrid_span.clone(), |s| s.span.clone()),
            networks: lan.clone(),
            directors: directors.clone(),
            unicast_peers: unicast.clone(),
        });
    }
    if let Some(gw) = cluster.nat.as_ref().and_then(|n| n.gateway.as_ref()) {
        let span = topology.nat.as_ref().and_then(|n| n.virtual_router_id.as_ref()).map_or(vrid_span, |s| s.span.clone());
        // With unicast the gateway instance advertises from the directors' addresses (see
        // plan::director); with multicast on the internal network.
        let networks = if unicast.is_some() { lan } else { BTreeSet::from([Net::of(gw.vip, gw.prefix)]) };
        out.push(Instance {
            cluster: cluster.name.clone(),
            name: format!("{}_GW", v.instance),
            virtual_router_id: gw.virtual_router_id,
            span,
            networks,
            directors,
            unicast_peers: unicast,
        });
    }
    out
}

/// Why two instances' adverts reach each other, or None when they cannot clash.
pub fn clash(a: &Instance, b: &Instance) -> Option<String> {
    if a.virtual_router_id != b.virtual_router_id {
        return None;
    }
    if let (Some(pa), Some(pb)) = (&a.unicast_peers, &b.unicast_peers) {
        let shared: Vec<String> = pa.intersection(pb).map(|ip| ip.to_string()).collect();
        return (!shared.is_empty()).then(|| format!("both send unicast adverts to {}", shared.join(", ")));
    }
    if let Some(d) = a.directors.intersection(&b.directors).next() {
        return Some(format!("both run on the director {d}"));
    }
    let nets: Vec<String> =
        a.networks.iter().filter(|n| b.networks.iter().any(|m| n.overlaps(m))).map(|n| n.to_string()).collect();
    (!nets.is_empty()).then(|| {
        let how = if a.unicast_peers.is_some() || b.unicast_peers.is_some() { "one multicasts its adverts" } else { "both multicast their adverts" };
        format!("{how} on {}", nets.join(", "))
    })
}

/// Every clash between instances of different topologies, reported as an error at the
/// later topology's id, naming the earlier one's. `sets` is (topology file, its instances)
/// in the order given.
pub fn check(sets: &[(std::path::PathBuf, Vec<Instance>)], d: &mut Diagnostics) -> usize {
    let mut found = 0;
    for (j, (_, later)) in sets.iter().enumerate() {
        for (_, earlier) in &sets[..j] {
            for b in later {
                for a in earlier {
                    let Some(why) = clash(a, b) else { continue };
                    found += 1;
                    d.error(
                        b.span.clone(),
                        format!(
                            "VRRP router id {} of cluster `{}` ({}) clashes with cluster `{}` ({}, {}): {why}",
                            b.virtual_router_id, b.cluster, b.name, a.cluster, a.name, a.span
                        ),
                    )
                    .hint("VRRP router ids must be unique where adverts meet: give one instance another id, or use `vrrp.unicast: true` with directors the other cluster does not use");
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_overlap_when_one_contains_the_other() {
        let n = |a: &str, p| Net::of(a.parse().unwrap(), p);
        assert_eq!(n("10.77.0.11", 24).to_string(), "10.77.0.0/24");
        assert!(n("10.77.0.11", 24).overlaps(&n("10.77.0.200", 24)));
        assert!(n("10.77.0.11", 16).overlaps(&n("10.77.5.1", 24)));
        assert!(!n("10.77.0.11", 24).overlaps(&n("10.77.1.11", 24)));
        assert!(n("1.2.3.4", 0).overlaps(&n("9.9.9.9", 32)));
    }
}
