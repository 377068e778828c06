//! A director's firewall marks: a firewall-mark service is matched by IPVS on the mark a
//! packet carries, not on its address and port, so something must mark the packets to the
//! service's ports of its VIP before IPVS sees them. lvsctl does it in the mangle table's
//! PREROUTING, in a chain of its own loaded with `iptables-restore --noflush` (the host's
//! other rules are never touched), set again at boot by lvsctl-nat.service and rolled back
//! like the router's nat chains: the same file kind and the same remote functions, with the
//! chain named `mangle:LVSCTL-FWMARK` (a bare chain name is the nat table's).

use std::net::Ipv4Addr;

use serde::Serialize;

use super::HostPlan;
use crate::error::Result;
use crate::model::Cluster;
use crate::render::Templates;

pub const RULES_FILE: &str = "/etc/lvsctl/director-fwmark.rules";
pub const CHAIN: &str = "LVSCTL-FWMARK";
pub const TABLE: &str = "mangle";

#[derive(Serialize)]
struct MarkCtx<'a> {
    service: &'a str,
    vip: Ipv4Addr,
    protocol: &'static str,
    ports: String,
    fwmark: u32,
}

#[derive(Serialize)]
struct Ctx<'a> {
    cluster: &'a str,
    host: &'a str,
    chain: &'static str,
    marks: Vec<MarkCtx<'a>>,
}

/// The mark rules of the cluster's firewall-mark services, when it has any.
pub(super) fn plan(cluster: &Cluster, templates: &Templates, p: &mut HostPlan) -> Result<()> {
    let marks: Vec<MarkCtx> = cluster
        .services
        .iter()
        .filter_map(|s| {
            Some(MarkCtx {
                service: &s.name,
                // IPv6 firewall-mark services are refused by the model (ip6tables is not rendered).
                vip: match s.vip {
                    std::net::IpAddr::V4(v4) => v4,
                    std::net::IpAddr::V6(_) => return None,
                },
                protocol: s.protocol.as_str(),
                ports: s.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(","),
                fwmark: s.fwmark?,
            })
        })
        .collect();
    if marks.is_empty() {
        return Ok(());
    }
    let content = templates.render("director-fwmark.rules.j2", Ctx { cluster: &cluster.name, host: &p.host, chain: CHAIN, marks })?;
    p.add_file(RULES_FILE.into(), content, 0o640, false);
    p.nat_chains = vec![format!("{TABLE}:{CHAIN}")];
    Ok(())
}

/// The chains an iptables-restore file declares, named as `HostPlan::nat_chains` names them:
/// bare in the nat table, `TABLE:CHAIN` in any other; an ip6tables-restore file's (`v6`) as
/// `ip6-TABLE:CHAIN`.
pub fn declared_chains(rules: &str, v6: bool) -> Vec<String> {
    let mut table = "nat";
    let mut out = Vec::new();
    for line in rules.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim();
        } else if let Some(name) = line.strip_prefix(':').and_then(|l| l.split_whitespace().next()) {
            out.push(match (v6, table) {
                (false, "nat") => name.to_string(),
                (false, _) => format!("{table}:{name}"),
                (true, _) => format!("{}{table}:{name}", super::router::IP6_PREFIX),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_are_named_by_their_table() {
        let rules = "*nat\n:LVSCTL-PREROUTING - [0:0]\n-A PREROUTING -j LVSCTL-PREROUTING\nCOMMIT\n*mangle\n:LVSCTL-FWMARK - [0:0]\nCOMMIT\n";
        assert_eq!(declared_chains(rules, false), vec!["LVSCTL-PREROUTING", "mangle:LVSCTL-FWMARK"]);
        assert_eq!(declared_chains(rules, true), vec!["ip6-nat:LVSCTL-PREROUTING", "ip6-mangle:LVSCTL-FWMARK"]);
    }
}
