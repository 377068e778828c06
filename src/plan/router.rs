//! What the edge router gets: DNAT from its public address to each forwarded service's VIP,
//! SNAT of the replies back to the public address (the last seed document's setup), in
//! lvsctl's own nat chains so the router's other rules are never touched; and forwarding on.

use std::net::Ipv4Addr;

use serde::Serialize;

use super::HostPlan;
use crate::error::Result;
use crate::model::{Cluster, Router};
use crate::render::Templates;

pub const RULES_FILE: &str = "/etc/lvsctl/router-nat.rules";
pub const PREROUTING_CHAIN: &str = "LVSCTL-PREROUTING";
pub const POSTROUTING_CHAIN: &str = "LVSCTL-POSTROUTING";

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
    vip: Ipv4Addr,
    port: u16,
}

#[derive(Serialize)]
struct Ctx<'a> {
    cluster: &'a str,
    host: &'a str,
    public_ip: Ipv4Addr,
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
    let ctx = Ctx {
        cluster: &cluster.name,
        host: &r.host,
        public_ip: r.public_ip,
        internal_network: r.internal_network.to_string(),
        chains: Chains { prerouting: PREROUTING_CHAIN, postrouting: POSTROUTING_CHAIN },
        forwards: r
            .forwards
            .iter()
            .map(|f| ForwardCtx { public_port: f.public_port, service: &f.service, protocol: f.protocol.as_str(), vip: f.vip, port: f.port })
            .collect(),
    };
    let content = templates.render("router-nat.rules.j2", ctx)?;
    p.add_file(RULES_FILE.into(), content, 0o640, false);
    p.nat_chains = vec![PREROUTING_CHAIN.into(), POSTROUTING_CHAIN.into()];
    Ok(())
}
