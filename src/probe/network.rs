//! Network: the host's addresses (IPv4, and IPv6 of global scope) and IPv4 default routes (from `ip`), and lvsctl's nat chains
//! (from `iptables-save -t nat`). The script part (`sh/network.sh`) passes the tools' lines
//! through as records; they are parsed here. Without `ip` the addresses are unknown, which is
//! said, not guessed; `iptables-save` failing is said the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::{malformed, ProbeError};
use crate::facts::Facts;
use crate::plan::{Address, Route};
use crate::remote::protocol::Record;
use crate::remote::Script;

const SH: &str = include_str!("sh/network.sh");

/// The tools this section reads; without them its facts are unknown (a warning).
pub(super) const TOOLS: [&str; 2] = ["ip", "iptables-save"];

/// The section's part of the script.
pub(super) fn script(s: &mut Script) {
    s.lib(SH).line("network");
}

/// Without `ip`, addresses and routes are unknown: said first, before what the records say.
pub(super) fn missing_ip(missing: &BTreeSet<&str>, warnings: &mut Vec<String>) {
    if missing.contains("ip") {
        warnings.push("`ip` is not on the host's PATH: its addresses and routes are unknown (install iproute2)".into());
    }
}

/// The network's records as they come: addresses and routes go straight into the facts, the
/// nat lines wait for `finish` (a chain counts only with a jump to it).
#[derive(Default)]
pub(super) struct Network<'r> {
    nat: Vec<&'r str>,
    mangle: Vec<&'r str>,
    nat6: Vec<&'r str>,
}

impl<'r> Network<'r> {
    /// Takes a record of this section; `false` for any other kind.
    pub(super) fn take(&mut self, r: &'r Record<'r>, facts: &mut Facts) -> Result<bool, ProbeError> {
        match r.kind {
            "addr" => facts.addresses.extend(parse_addr(r.args).ok_or_else(|| malformed(r, "not a line of `ip -o addr show`"))?),
            "route" => facts.routes.extend(parse_route(r.args)),
            "nat" => self.nat.push(r.args),
            "mangle" => self.mangle.push(r.args),
            "nat6" => self.nat6.push(r.args),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// NAT: lvsctl's chains, and the rules that reach them. Without `iptables-save` they are
    /// unknown, said only where the manifest shows lvsctl made some.
    pub(super) fn finish(self, missing: &BTreeSet<&str>, facts: &mut Facts, warnings: &mut Vec<String>) {
        if missing.contains("iptables-save") && !facts.manifest.nat_chains.is_empty() {
            warnings.push("`iptables-save` is not on the host's PATH: lvsctl's nat chains there are unknown (install iptables)".into());
        }
        for (table, lines) in [("nat", &self.nat), ("mangle", &self.mangle), ("ip6-nat", &self.nat6)] {
            let (chains, table_warnings) = lvsctl_chains(table, lines);
            facts.nat_chains.extend(chains);
            warnings.extend(table_warnings);
        }
    }
}

/// A line of `ip -o addr show`:
/// `2: eth0    inet 10.0.0.1/24 brd 10.0.0.255 scope global secondary eth0:1\       valid_lft ...`
/// or `2: eth0    inet6 fd77::11/64 scope global \       valid_lft ...`.
/// The label is the last word before the `\`; it is kept only when it differs from the device
/// (IPv6 addresses have none). Outer `None`: not such a line; inner: an IPv6 address that is
/// not lvsctl's kind (link-local, `::1`), skipped.
fn parse_addr(line: &str) -> Option<Option<Address>> {
    let body = line.split('\\').next()?;
    let words: Vec<&str> = body.split_whitespace().collect();
    let [index, dev, family, addr, rest @ ..] = words.as_slice() else { return None };
    index.strip_suffix(':')?.parse::<u32>().ok()?;
    let dev = dev.split('@').next()?.trim_end_matches(':');
    if *family == "inet6" {
        let (ip, prefix) = addr.split_once('/').unwrap_or((addr, "128"));
        let ip = ip.parse::<std::net::Ipv6Addr>().ok()?;
        let prefix = prefix.parse::<u8>().ok().filter(|p| *p <= 128)?;
        let scope = rest.windows(2).find(|w| w[0] == "scope").map(|w| w[1])?;
        return Some((scope == "global").then(|| Address { ip: ip.into(), prefix, dev: dev.to_string(), label: None }));
    }
    if *family != "inet" {
        return None;
    }
    let (ip, prefix) = match addr.split_once('/') {
        Some((ip, prefix)) => (ip.parse::<Ipv4Addr>().ok()?, prefix.parse::<u8>().ok().filter(|p| *p <= 32)?),
        // `inet 10.0.0.1 peer 10.0.0.2/32`: the local address itself is a /32.
        None => (addr.parse::<Ipv4Addr>().ok()?, 32),
    };
    // IPv4 labels must begin with the device name (the kernel and `ip` insist).
    let label = rest.last().filter(|l| l.starts_with(dev) && **l != dev).map(|l| l.to_string());
    Some(Some(Address { ip: ip.into(), prefix, dev: dev.to_string(), label }))
}

/// A line of `ip -4 route show default`: `default via 10.0.0.1 dev eth0 proto static`, or a
/// `nexthop via ... dev ...` line of a multipath default. A default without a gateway
/// (`default dev ppp0`) is no `Route` lvsctl manages, and is skipped.
fn parse_route(line: &str) -> Option<Route> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |w: &str| words.iter().position(|x| *x == w).and_then(|i| words.get(i + 1)).copied();
    let via = after("via")?.parse().ok()?;
    let dev = after("dev")?;
    Some(Route { destination: "default".into(), via, dev: dev.split('@').next().unwrap_or(dev).to_string() })
}

/// lvsctl's chains from `iptables-save -t TABLE` lines: a chain counts as in place when it is
/// declared and a rule jumps to it; one nothing jumps to is inactive, so it is left out (the
/// plan then loads the rules again) and said in a warning, as is a jump made more than once.
/// Comments (`# Warning: iptables-legacy tables present, ...`) are skipped. Named as the plan
/// names them: bare in the nat table, `mangle:LVSCTL-FWMARK` in another.
fn lvsctl_chains(table: &str, lines: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut declared: Vec<String> = Vec::new();
    let mut jumps: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut warnings = Vec::new();
    for line in lines.iter().map(|l| l.trim()) {
        if line.starts_with("LVSCTL-PROBE") {
            let command = match table.strip_prefix("ip6-") {
                Some(t) => format!("ip6tables-save -t {t}"),
                None => format!("iptables-save -t {table}"),
            };
            warnings.push(format!("`{command}` failed on the host: lvsctl's {table} chains are unknown"));
        } else if let Some(decl) = line.strip_prefix(':') {
            let name = decl.split_whitespace().next().unwrap_or("");
            if name.starts_with("LVSCTL-") && !declared.iter().any(|d| d == name) {
                declared.push(name.to_string());
            }
        } else if let Some(rule) = line.strip_prefix("-A ") {
            let words: Vec<&str> = rule.split_whitespace().collect();
            let from = words.first().copied().unwrap_or("");
            let target = words.windows(2).find(|w| w[0] == "-j" || w[0] == "-g").map(|w| w[1]);
            if let Some(target) = target.filter(|t| t.starts_with("LVSCTL-")) {
                *jumps.entry((from.to_string(), target.to_string())).or_default() += 1;
            }
        }
    }
    let mut chains = Vec::new();
    for chain in declared {
        let into: Vec<(&String, usize)> = jumps.iter().filter(|((_, to), _)| *to == chain).map(|((from, _), n)| (from, *n)).collect();
        if into.is_empty() {
            warnings.push(format!("{table} chain {chain} exists but no rule jumps to it: lvsctl's {} there is inactive", if table == "nat" { "NAT" } else { "firewall marking" }));
            continue;
        }
        for (from, n) in into {
            if n > 1 {
                warnings.push(format!("{table} chain {from} jumps to {chain} {n} times (rules loaded more than once without removing the old jump)"));
            }
        }
        chains.push(if table == "nat" { chain } else { format!("{table}:{chain}") });
    }
    (chains, warnings)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{addr, route};
    use super::*;

    #[test]
    fn ip_output_lines() {
        let cases: &[(&str, Option<Option<Address>>)] = &[
            ("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever", Some(Some(addr("127.0.0.1", 8, "lo", None)))),
            ("1: lo    inet 10.0.0.100/32 scope global lo:0\\       valid_lft forever preferred_lft forever", Some(Some(addr("10.0.0.100", 32, "lo", Some("lo:0"))))),
            ("3: wlp2s0    inet 192.168.1.5/24 brd 192.168.1.255 scope global dynamic noprefixroute wlp2s0\\       valid_lft 85634sec preferred_lft 85634sec", Some(Some(addr("192.168.1.5", 24, "wlp2s0", None)))),
            ("2: eth0    inet 10.0.0.2/24 brd 10.0.0.255 scope global secondary eth0:vip\\       valid_lft forever preferred_lft forever", Some(Some(addr("10.0.0.2", 24, "eth0", Some("eth0:vip"))))),
            ("7: ppp0    inet 10.64.0.1 peer 10.64.0.2/32 scope global ppp0\\       valid_lft forever preferred_lft forever", Some(Some(addr("10.64.0.1", 32, "ppp0", None)))),
            ("9: eth0.100    inet 10.100.0.1/24 scope global eth0.100\\       valid_lft forever preferred_lft forever", Some(Some(addr("10.100.0.1", 24, "eth0.100", None)))),
            ("5: eth0@if6    inet 10.0.0.5/24 scope global eth0\\       valid_lft forever preferred_lft forever", Some(Some(addr("10.0.0.5", 24, "eth0", None)))),
            ("2: eth0    inet6 fe80::1/64 scope link", Some(None)),
            ("1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever", Some(None)),
            ("1: lo    inet6 fd77::100/128 scope global \\       valid_lft forever preferred_lft forever", Some(Some(addr("fd77::100", 128, "lo", None)))),
            ("2: eth0    inet6 2001:db8::5/64 scope global dynamic mngtmpaddr noprefixroute \\       valid_lft 86300sec preferred_lft 14300sec", Some(Some(addr("2001:db8::5", 64, "eth0", None)))),
            ("2: eth0    inet6 fd77::1/129 scope global", None),
            ("2: eth0    inet 10.0.0.1/33 scope global eth0", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_addr(line), *want, "{line}");
        }
        let routes: &[(&str, Option<Route>)] = &[
            ("default via 10.77.0.2 dev eth0 ", Some(route("10.77.0.2", "eth0"))),
            ("default via 192.168.1.1 dev wlp2s0 proto dhcp src 192.168.1.5 metric 600 ", Some(route("192.168.1.1", "wlp2s0"))),
            ("default dev ppp0 scope link ", None),
            ("default proto static metric 100 ", None),
            ("\tnexthop via 10.0.0.1 dev eth0 weight 1 ", Some(route("10.0.0.1", "eth0"))),
        ];
        for (line, want) in routes {
            assert_eq!(parse_route(line), *want, "{line}");
        }
    }

    #[test]
    fn nat_chains_need_a_jump_to_count() {
        // Unfiltered iptables-save output: the parser does not rely on the script's grep.
        let save = "# Generated by iptables-save v1.8.9 (nf_tables) on Sat Nov 21 08:50:57 2026\n\
            # Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n\
            *nat\n\
            :PREROUTING ACCEPT [0:0]\n\
            :POSTROUTING ACCEPT [0:0]\n\
            :DOCKER - [0:0]\n\
            :LVSCTL-PREROUTING - [0:0]\n\
            :LVSCTL-POSTROUTING - [0:0]\n\
            -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n\
            -A PREROUTING -j LVSCTL-PREROUTING\n\
            -A PREROUTING -j LVSCTL-PREROUTING\n\
            -A LVSCTL-PREROUTING -d 10.77.9.2/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.77.0.100:80\n\
            -A LVSCTL-POSTROUTING -s 10.77.0.0/24 -j SNAT --to-source 10.77.9.2\n\
            COMMIT\n\
            # Completed on Sat Nov 21 08:50:57 2026\n";
        let lines: Vec<&str> = save.lines().collect();
        let (chains, warnings) = lvsctl_chains("nat", &lines);
        assert_eq!(chains, vec!["LVSCTL-PREROUTING"]);
        assert_eq!(
            warnings,
            vec![
                "nat chain PREROUTING jumps to LVSCTL-PREROUTING 2 times (rules loaded more than once without removing the old jump)",
                "nat chain LVSCTL-POSTROUTING exists but no rule jumps to it: lvsctl's NAT there is inactive",
            ]
        );
        let (chains, warnings) = lvsctl_chains("nat", &["LVSCTL-PROBE iptables-save failed"]);
        assert!(chains.is_empty());
        assert_eq!(warnings, vec!["`iptables-save -t nat` failed on the host: lvsctl's nat chains are unknown"]);
    }
}
