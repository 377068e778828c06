//! What the edge router gets: DNAT from its public address to each forwarded service's VIP,
//! SNAT of the replies back to the public address (the last seed document's setup), in
//! lvsctl's own nat chains so the router's other rules are never touched; and forwarding on.
//! Forwards to IPv6 services get the same in ip6tables' nat table, from `public_ip6`, in a
//! second file (ip6tables-restore reads IPv6 rules only); their chains are named
//! `ip6-nat:LVSCTL-PREROUTING` in the plan and on the host.

use std::net::IpAddr;

use serde::Serialize;

use super::HostPlan;
use crate::error::Result;
use crate::model::{Cluster, Router};
use crate::render::Templates;

pub const RULES_FILE: &str = "/etc/lvsctl/router-nat.rules";
pub const RULES6_FILE: &str = "/etc/lvsctl/router-nat6.rules";
pub const PREROUTING_CHAIN: &str = "LVSCTL-PREROUTING";
pub const POSTROUTING_CHAIN: &str = "LVSCTL-POSTROUTING";
/// How the plan names a table of ip6tables (`ip6-nat:CHAIN`).
pub const IP6_PREFIX: &str = "ip6-";

#[derive(Serialize)]
struct Chains {
    prerouting: &'static str,
    postrouting: &'static str,
}

#[derive(Serialize)]
struct ForwardCtx<'a> {
    public_port: u16,
    service: &'a str,
    protocol: &'static str,
    /// The DNAT target: `10.0.0.100:80`, `[fd77::100]:80`.
    to: String,
    port: u16,
}

#[derive(Serialize)]
struct Ctx<'a> {
    cluster: &'a str,
    host: &'a str,
    tool: &'static str,
    public_ip: IpAddr,
    public_prefix: u8,
    internal_network: String,
    chains: Chains,
    forwards: Vec<ForwardCtx<'a>>,
}

pub(super) fn plan(cluster: &Cluster, r: &Router, templates: &Templates, p: &mut HostPlan) -> Result<()> {
    p.sysctl("net.ipv4.ip_forward", "1", Some("the router forwards clients' traffic to the VIPs"));
    // The NAT needs connection tracking, and the table's cap is a sysctl of that module: loaded
    // before the sysctls, at apply time and at boot (modules-load.d runs before systemd-sysctl).
    p.kernel_module("nf_conntrack");
    p.sysctl("net.netfilter.nf_conntrack_max", &r.conntrack_max.to_string(), Some("the NAT's connection table: a full one drops every new connection"));
    let (v6, v4): (Vec<_>, Vec<_>) = r.forwards.iter().partition(|f| f.vip.is_ipv6());
    let chains = || Chains { prerouting: PREROUTING_CHAIN, postrouting: POSTROUTING_CHAIN };
    p.nat_chains = Vec::new();
    // The IPv4 file also when nothing is forwarded at all (as before IPv6 forwards).
    if !v4.is_empty() || v6.is_empty() {
        let ctx = Ctx {
            cluster: &cluster.name,
            host: &r.host,
            tool: "iptables",
            public_ip: r.public_ip.into(),
            public_prefix: 32,
            internal_network: r.internal_network.to_string(),
            chains: chains(),
            forwards: forwards(&v4),
        };
        p.add_file(RULES_FILE.into(), templates.render("router-nat.rules.j2", ctx)?, 0o640, false);
        p.nat_chains.extend([PREROUTING_CHAIN.to_string(), POSTROUTING_CHAIN.to_string()]);
    }
    if let (false, Some(public_ip6), Some(net6)) = (v6.is_empty(), r.public_ip6, r.internal_network6) {
        // Forwarding IPv6 turns off the acceptance of router advertisements (accept_ra 1 acts
        // as 0 on a forwarding host): a router whose own public address comes from SLAAC needs
        // accept_ra=2 on that interface, which lvsctl leaves to the operator.
        p.sysctl("net.ipv6.conf.all.forwarding", "1", Some("the router forwards IPv6 clients' traffic to the IPv6 VIPs (router advertisements are then ignored unless accept_ra=2)"));
        let ctx = Ctx {
            cluster: &cluster.name,
            host: &r.host,
            tool: "ip6tables",
            public_ip: public_ip6.into(),
            public_prefix: 128,
            internal_network: net6.to_string(),
            chains: chains(),
            forwards: forwards(&v6),
        };
        p.add_file(RULES6_FILE.into(), templates.render("router-nat.rules.j2", ctx)?, 0o640, false);
        p.nat_chains.extend([format!("{IP6_PREFIX}nat:{PREROUTING_CHAIN}"), format!("{IP6_PREFIX}nat:{POSTROUTING_CHAIN}")]);
    }
    Ok(())
}

fn forwards<'a>(list: &[&'a crate::model::Forward]) -> Vec<ForwardCtx<'a>> {
    list.iter()
        .map(|f| ForwardCtx { public_port: f.public_port, service: &f.service, protocol: f.protocol.as_str(), to: crate::ipvs::addr_port(f.vip, f.port), port: f.port })
        .collect()
}
