//! What a real server gets. DR: each VIP on `lo:N` with a /32 mask, and the ARP sysctls so
//! the real server never answers or announces ARP for the VIP (the classic DR ARP problem).
//! TUN: the VIPs on tunl0 and reverse-path filtering off for decapsulated packets (IPv6
//! VIPs: on ip6tnl0, see `plan`). IPv6 DR: the VIP on lo as /128, no sysctl. NAT: a
//! default route through the directors' gateway. ARP sysctls come first in the plan: they
//! must be set before the VIP is bound, or the VIP is announced in between. A sorry server
//! named by `host:` gets the same, for its own forwarding method.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{host_prefix, sysctl_key, Address, HostPlan, Role, Route};
use crate::error::Result;
use crate::model::Cluster;
use crate::topology::Mode;

/// ip6_tunnel's fallback device, which receives IPv6-in-IPv6 for any of the host's addresses.
pub const TUN6_DEV: &str = "ip6tnl0";

#[derive(Default)]
struct Needs {
    dr_vips: Vec<IpAddr>,
    tun_vips: Vec<IpAddr>,
    nat: bool,
}

pub(super) fn plan_all(cluster: &Cluster, plans: &mut BTreeMap<String, HostPlan>) -> Result<()> {
    let mut needs: BTreeMap<&str, Needs> = BTreeMap::new();
    for s in &cluster.services {
        let sorry = s.sorry_server.as_ref().and_then(|ss| ss.host.as_deref().map(|h| (h, ss.mode)));
        for (host, mode) in s.real_servers.iter().map(|rs| (rs.host.as_str(), s.mode)).chain(sorry) {
            let n = needs.entry(host).or_default();
            let list = match mode {
                Mode::Dr => &mut n.dr_vips,
                Mode::Tun => &mut n.tun_vips,
                Mode::Nat => {
                    n.nat = true;
                    continue;
                }
            };
            if !list.contains(&s.vip) {
                list.push(s.vip);
            }
        }
    }
    for (host, n) in needs {
        let p = plans.get_mut(host).expect("every real server is a cluster host");
        p.roles.push(Role::RealServer);
        plan(cluster, host, &n, p)?;
    }
    Ok(())
}

fn plan(cluster: &Cluster, host: &str, n: &Needs, p: &mut HostPlan) -> Result<()> {
    // IPv6 has no counterpart to set: the kernel answers a neighbour solicitation only for
    // an address of the interface it came in on (ndisc_recv_ns looks the target up on that
    // device alone), so a VIP on lo is never announced; its /128 there needs no DAD.
    if n.dr_vips.iter().chain(&n.tun_vips).any(IpAddr::is_ipv4) {
        p.sysctl("net.ipv4.conf.all.arp_ignore", "1", Some("answer ARP only for addresses of the receiving interface (never the VIP)"));
        p.sysctl("net.ipv4.conf.all.arp_announce", "2", Some("never announce the VIP as an ARP source"));
        p.sysctl("net.ipv4.conf.lo.arp_ignore", "1", None);
        p.sysctl("net.ipv4.conf.lo.arp_announce", "2", None);
    }
    for (i, vip) in n.dr_vips.iter().filter(|v| v.is_ipv4()).enumerate() {
        let label = format!("lo:{i}");
        p.purposes.insert(*vip, "VIP of an LVS-DR real server (never answers ARP for it)");
        p.addresses.push(Address { ip: *vip, prefix: 32, dev: "lo".into(), label: Some(label) });
    }
    for vip in n.dr_vips.iter().filter(|v| v.is_ipv6()) {
        p.purposes.insert(*vip, "IPv6 VIP of an LVS-DR real server (never answers neighbour solicitations for it)");
        p.addresses.push(Address { ip: *vip, prefix: host_prefix(*vip), dev: "lo".into(), label: None });
    }
    if n.tun_vips.iter().any(IpAddr::is_ipv4) {
        p.sysctl("net.ipv4.conf.all.rp_filter", "0", Some("accept decapsulated packets addressed to the VIP"));
        p.sysctl(sysctl_key("tunl0", "rp_filter"), "0", None);
        p.kernel_module("ipip");
        for vip in n.tun_vips.iter().filter(|v| v.is_ipv4()) {
            p.addresses.push(Address { ip: *vip, prefix: 32, dev: "tunl0".into(), label: None });
        }
    }
    // IPv6 TUN: IPVS encapsulates IPv6 in IPv6; ip6_tunnel's fallback device ip6tnl0 takes
    // every such packet addressed to one of the host's addresses (no local or remote set),
    // and the VIP on it (/128) receives the inner one. IPv6 has no rp_filter to turn off, and
    // ip6tnl0 never answers neighbour solicitations (it has no link layer).
    if n.tun_vips.iter().any(IpAddr::is_ipv6) {
        p.kernel_module("ip6_tunnel");
        for vip in n.tun_vips.iter().filter(|v| v.is_ipv6()) {
            p.purposes.insert(*vip, "IPv6 VIP of an LVS-TUN real server");
            p.addresses.push(Address { ip: *vip, prefix: host_prefix(*vip), dev: TUN6_DEV.into(), label: None });
        }
    }
    if n.nat {
        if let Some(gw) = cluster.nat.as_ref().and_then(|nat| nat.gateway.as_ref()) {
            let dev = cluster.hosts.get(host).and_then(|h| h.interface.clone()).unwrap_or_else(|| "eth0".into());
            p.routes.push(Route { destination: "default".into(), via: gw.vip, dev });
        }
    }
    Ok(())
}
