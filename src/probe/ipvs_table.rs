//! The two texts the probe reads a director's IPVS table from, parsed strictly into
//! `ipvs::Table`: `ipvsadm -Ln`, and /proc/net/ip_vs when ipvsadm is missing or fails. A line
//! that is neither a header, a service nor a real server of the format is an error, never
//! skipped: a table read wrong would be reported as drift, or hide it.
//!
//! The formats, from ipvsadm 1.31's `print_service_entry` and the kernel's
//! `ip_vs_info_seq_show` (net/netfilter/ipvs/ip_vs_ctl.c):
//!
//! ```text
//! ipvsadm -Ln                                   /proc/net/ip_vs
//! IP Virtual Server version 1.2.1 (size=4096)   (the same three header lines)
//! Prot LocalAddress:Port Scheduler Flags
//!   -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//! TCP  10.77.0.100:80 wlc persistent 60         TCP  0A4D0064:0050 wlc persistent 15000 FFFFFFFF
//!   -> 10.77.0.21:80                Route   1      0          0
//!                                                 -> 0A4D0015:0050      Route   1      0          0
//! UDP  [2001:db8::53]:53 sh (sh-port)           UDP  [2001:0db8:0000:...:0053]:0035 sh
//! FWM  1 rr ops                                 FWM  00000001 rr ops
//! ```
//!
//! ipvsadm prints addresses and ports in decimal, the persistence timeout in seconds, then
//! `mask` (when not /32 or /128), `pe NAME`, scheduler flags in parentheses and `ops`.
//! /proc prints them in hex, `ops`, and `persistent TICKS NETMASK`: the timeout in kernel
//! ticks (seconds x HZ), so it is converted with the HZ the probe found in the kernel's
//! config, or left unknown. Both are sorted here as ipvsadm sorts (fwmark, family, protocol,
//! address, port; real servers by address and port), so JSON and findings are stable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{clip, ProbeError};
use crate::ipvs::{Forward, Protocol, RealServer, Service, Source, Table};

/// A payload line: its line number in the probe output, its text.
type Line<'a> = (usize, &'a str);

fn bad(line: &Line, reason: impl Into<String>) -> ProbeError {
    ProbeError::Malformed { line: line.0, reason: reason.into(), text: clip(line.1) }
}

/// `ipvsadm -Ln`'s output; `record` is the line of the `@@lvsctl ipvsadm` marker.
pub(super) fn parse_ipvsadm(record: usize, lines: &[Line]) -> Result<Table, ProbeError> {
    parse(record, lines, Source::Ipvsadm, None)
}

/// /proc/net/ip_vs; `hz` is the kernel's CONFIG_HZ, when known.
pub(super) fn parse_proc(record: usize, lines: &[Line], hz: Option<u64>) -> Result<Table, ProbeError> {
    parse(record, lines, Source::Proc, hz)
}

fn parse(record: usize, lines: &[Line], source: Source, hz: Option<u64>) -> Result<Table, ProbeError> {
    let what = match source {
        Source::Ipvsadm => "`ipvsadm -Ln`",
        Source::Proc => "/proc/net/ip_vs",
    };
    let lines: Vec<Line> = lines.iter().filter(|(_, l)| !l.trim().is_empty()).copied().collect();
    let [version, columns, dest_columns, body @ ..] = lines.as_slice() else {
        let (line, text) = lines.last().map_or((record, String::new()), |l| (l.0, clip(l.1)));
        return Err(ProbeError::Malformed { line, reason: format!("{what} printed fewer than its three header lines"), text });
    };
    if !version.1.starts_with("IP Virtual Server version ") {
        return Err(bad(version, format!("expected {what} to begin with `IP Virtual Server version`")));
    }
    if words(columns.1) != ["Prot", "LocalAddress:Port", "Scheduler", "Flags"] {
        return Err(bad(columns, format!("not the column line of {what}")));
    }
    if words(dest_columns.1) != ["->", "RemoteAddress:Port", "Forward", "Weight", "ActiveConn", "InActConn"] {
        return Err(bad(dest_columns, format!("not the real server column line of {what}")));
    }
    let mut services: Vec<Service> = Vec::new();
    for line in body {
        if line.1.trim_start().starts_with("->") {
            let Some(service) = services.last_mut() else { return Err(bad(line, "a real server before any service")) };
            service.real_servers.push(real_server(line, source)?);
        } else {
            services.push(service(line, source, hz)?);
        }
    }
    for s in &mut services {
        s.real_servers.sort_by_key(|r| (r.address, r.port));
    }
    services.sort_by_key(|s| (s.fwmark.unwrap_or(0), s.vip.is_some_and(|v| v.is_ipv6()), s.protocol, s.vip, s.port));
    Ok(Table { source, services })
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn service(line: &Line, source: Source, hz: Option<u64>) -> Result<Service, ProbeError> {
    let w = words(line.1);
    let protocol = w.first().and_then(|p| Protocol::parse(p)).ok_or_else(|| bad(line, "expected a service line (`TCP`, `UDP`, `SCTP` or `FWM` first)"))?;
    let mut s = Service { protocol, vip: None, port: None, fwmark: None, scheduler: String::new(), persistent: false, persistence_timeout: None, flags: Vec::new(), real_servers: Vec::new() };
    let mut rest = w.iter().skip(1).copied().peekable();
    let target = rest.next().ok_or_else(|| bad(line, "a service line without its address"))?;
    if protocol == Protocol::Fwm {
        let mark = match source {
            Source::Ipvsadm => target.parse::<u32>().ok(),
            Source::Proc => hex(target, 8).and_then(|m| u32::try_from(m).ok()),
        };
        s.fwmark = Some(mark.ok_or_else(|| bad(line, "not a firewall mark"))?);
        if source == Source::Ipvsadm && rest.peek() == Some(&"IPv6") {
            rest.next();
            s.flags.push("IPv6".into());
        }
    } else {
        let (vip, port) = addr_port(target, source).ok_or_else(|| bad(line, "not an address:port"))?;
        (s.vip, s.port) = (Some(vip), Some(port));
    }
    let scheduler = rest.next().ok_or_else(|| bad(line, "a service line without its scheduler"))?;
    if !scheduler.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(bad(line, format!("`{scheduler}` is not a scheduler name")));
    }
    s.scheduler = scheduler.to_string();
    while let Some(word) = rest.next() {
        match (word, source) {
            ("ops", _) => s.flags.push("ops".into()),
            ("persistent", Source::Ipvsadm) => {
                s.persistent = true;
                let seconds = value(&mut rest, line, "persistent")?;
                s.persistence_timeout = Some(seconds.parse().map_err(|_| bad(line, "the persistence timeout is not a number"))?);
            }
            ("persistent", Source::Proc) => {
                s.persistent = true;
                let ticks = value(&mut rest, line, "persistent")?.parse::<u64>().map_err(|_| bad(line, "the persistence timeout is not a number"))?;
                s.persistence_timeout = hz.filter(|hz| *hz > 0).map(|hz| ticks / hz);
                let mask = hex(value(&mut rest, line, "persistent")?, 8).ok_or_else(|| bad(line, "the persistence netmask is not 8 hex digits"))?;
                match s.vip {
                    // An IPv6 service's "netmask" is a prefix length; /128 is the default.
                    Some(IpAddr::V6(_)) => {
                        if mask != 128 && mask != 0x8000_0000 {
                            s.flags.push(format!("mask {mask:08X}"));
                        }
                    }
                    _ => {
                        if mask != 0xFFFF_FFFF {
                            s.flags.push(format!("mask {}", Ipv4Addr::from(mask as u32)));
                        }
                    }
                }
            }
            ("mask", Source::Ipvsadm) => {
                let m = value(&mut rest, line, "mask")?;
                s.flags.push(format!("mask {m}"));
            }
            ("pe", Source::Ipvsadm) => {
                let pe = value(&mut rest, line, "pe")?;
                s.flags.push(format!("pe {pe}"));
            }
            (flags, Source::Ipvsadm) if flags.len() > 2 && flags.starts_with('(') && flags.ends_with(')') => {
                s.flags.extend(flags[1..flags.len() - 1].split(',').filter(|f| !f.is_empty()).map(String::from));
            }
            (other, _) => return Err(bad(line, format!("unknown word `{}` in a service line", clip(other)))),
        }
    }
    Ok(s)
}

/// The word after `key` (`persistent 60`).
fn value<'a>(rest: &mut impl Iterator<Item = &'a str>, line: &Line, key: &str) -> Result<&'a str, ProbeError> {
    rest.next().ok_or_else(|| bad(line, format!("`{key}` without its value")))
}

fn real_server(line: &Line, source: Source) -> Result<RealServer, ProbeError> {
    let w = words(line.1);
    let [_arrow, target, forward, weight, active, inact] = w.as_slice() else {
        return Err(bad(line, "expected `-> ADDRESS:PORT FORWARD WEIGHT ACTIVECONN INACTCONN`"));
    };
    let (address, port) = addr_port(target, source).ok_or_else(|| bad(line, "not an address:port"))?;
    let forward = Forward::parse(forward).ok_or_else(|| bad(line, format!("unknown forwarding method `{}`", clip(forward))))?;
    let weight = weight.parse().map_err(|_| bad(line, "the weight is not a number"))?;
    let active_conn = active.parse().map_err(|_| bad(line, "ActiveConn is not a number"))?;
    let inact_conn = inact.parse().map_err(|_| bad(line, "InActConn is not a number"))?;
    Ok(RealServer { address, port, forward, weight, active_conn, inact_conn })
}

/// `10.0.0.1:80` / `[2001:db8::1]:80` (ipvsadm, decimal port), `0A000001:0050` /
/// `[2001:0db8:...:0001]:0050` (/proc, hex).
fn addr_port(text: &str, source: Source) -> Option<(IpAddr, u16)> {
    let (ip, port): (IpAddr, &str) = match text.strip_prefix('[') {
        Some(v6) => {
            let (ip, port) = v6.split_once("]:")?;
            (IpAddr::V6(ip.parse::<Ipv6Addr>().ok()?), port)
        }
        None => {
            let (ip, port) = text.split_once(':')?;
            let ip = match source {
                Source::Ipvsadm => ip.parse::<Ipv4Addr>().ok()?,
                Source::Proc => Ipv4Addr::from(u32::try_from(hex(ip, 8)?).ok()?),
            };
            (IpAddr::V4(ip), port)
        }
    };
    let port = match source {
        Source::Ipvsadm => port.parse::<u16>().ok().filter(|_| port.bytes().all(|b| b.is_ascii_digit()))?,
        Source::Proc => u16::try_from(hex(port, 4)?).ok()?,
    };
    Some((ip, port))
}

/// Exactly `digits` hex digits, as the kernel's `%08X`/`%04X` print.
fn hex(text: &str, digits: usize) -> Option<u64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| u64::from_str_radix(text, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    //! Recorded tables (tests/probe/ipvs/) -> the typed table; then every way a line can be
    //! wrong, each an error naming its line.

    use super::*;

    fn numbered(text: &str) -> Vec<(usize, &str)> {
        text.lines().enumerate().map(|(i, l)| (i + 2, l)).collect()
    }

    fn rs(addr: &str, port: u16, forward: Forward, weight: i64, active: u64, inact: u64) -> RealServer {
        RealServer { address: addr.parse().unwrap(), port, forward, weight, active_conn: active, inact_conn: inact }
    }

    fn svc(protocol: Protocol, target: Option<(&str, u16)>, fwmark: Option<u32>, scheduler: &str, persistence: Option<Option<u64>>, flags: &[&str], real_servers: Vec<RealServer>) -> Service {
        Service {
            protocol,
            vip: target.map(|(a, _)| a.parse().unwrap()),
            port: target.map(|(_, p)| p),
            fwmark,
            scheduler: scheduler.into(),
            persistent: persistence.is_some(),
            persistence_timeout: persistence.flatten(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            real_servers,
        }
    }

    /// The table both recordings of the same kernel state must give (`persistence` is what
    /// /proc can say: seconds with a known HZ).
    fn the_lab_table(source: Source) -> Table {
        use Forward::*;
        use Protocol::*;
        Table {
            source,
            services: vec![
                svc(Tcp, Some(("10.77.0.100", 80)), None, "wlc", Some(Some(60)), &[], vec![rs("10.77.0.21", 80, Route, 1, 0, 0), rs("10.77.0.22", 80, Route, 1, 3, 12)]),
                svc(Tcp, Some(("10.77.0.101", 8080)), None, "rr", None, &[], vec![rs("10.77.1.21", 8080, Masq, 1, 0, 0), rs("10.77.1.22", 8080, Masq, 0, 0, 0)]),
                svc(Udp, Some(("10.77.0.53", 53)), None, "sh", None, &[], vec![rs("10.77.0.21", 53, Tunnel, 1, 0, 0)]),
                svc(Udp, Some(("10.77.0.54", 53)), None, "rr", Some(Some(300)), &["mask 255.255.255.0"], vec![]),
                svc(Sctp, Some(("10.77.0.100", 2905)), None, "rr", None, &[], vec![rs("10.77.0.21", 2905, Route, 2, 0, 0)]),
                svc(Tcp, Some(("2001:db8::100", 443)), None, "wrr", None, &[], vec![rs("2001:db8::21", 443, Route, 5, 1, 1)]),
                svc(Fwm, None, Some(1), "rr", None, &["ops"], vec![rs("10.77.0.23", 0, Route, 1, 0, 0)]),
            ],
        }
    }

    #[test]
    fn both_recordings_of_one_kernel_give_one_table() {
        let ipvsadm = include_str!("../../tests/probe/ipvs/ipvsadm-Ln.txt");
        assert_eq!(parse_ipvsadm(1, &numbered(ipvsadm)).unwrap(), the_lab_table(Source::Ipvsadm));
        let proc = include_str!("../../tests/probe/ipvs/proc-net-ip_vs.txt");
        assert_eq!(parse_proc(1, &numbered(proc), Some(250)).unwrap(), the_lab_table(Source::Proc));
        // Without the kernel's HZ, /proc says persistent and no more.
        let unknown = parse_proc(1, &numbered(proc), None).unwrap();
        let persistence: Vec<(bool, Option<u64>)> = unknown.services.iter().map(|s| (s.persistent, s.persistence_timeout)).collect();
        assert_eq!(persistence[0], (true, None));
        assert_eq!(persistence[3], (true, None));
        assert_eq!(persistence[1], (false, None));
    }

    #[test]
    fn ipvsadm_extras_are_kept_as_flags() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
            Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
            TCP  10.0.0.1:80 sh (sh-fallback,sh-port) persistent 60 mask 255.255.0.0 pe sip ops\n\
            FWM  7 IPv6 mh (mh-port)\n\
            TCP  10.0.0.2:80 rr\n\
            \x20 -> 10.0.0.3:80                 Local   1      0          0\n";
        let t = parse_ipvsadm(1, &numbered(text)).unwrap();
        let flags: Vec<Vec<String>> = t.services.iter().map(|s| s.flags.clone()).collect();
        assert_eq!(flags, vec![vec!["sh-fallback", "sh-port", "mask 255.255.0.0", "pe sip", "ops"], vec![], vec!["IPv6", "mh-port"]]);
        assert_eq!(t.services[0].persistence_timeout, Some(60));
        assert_eq!(t.services[1].real_servers[0].forward, Forward::Local);
        assert_eq!(t.services[2].fwmark, Some(7));
    }

    /// An empty table (IPVS loaded, nothing configured) is a table, not an error.
    #[test]
    fn headers_alone_are_an_empty_table() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n";
        assert_eq!(parse_proc(1, &numbered(text), None).unwrap(), Table { source: Source::Proc, services: vec![] });
        assert_eq!(parse_ipvsadm(1, &numbered(text)).unwrap(), Table { source: Source::Ipvsadm, services: vec![] });
    }

    #[test]
    fn malformed_tables_name_the_line() {
        let ipvsadm = include_str!("../../tests/probe/ipvs/ipvsadm-Ln.txt");
        let proc = include_str!("../../tests/probe/ipvs/proc-net-ip_vs.txt");
        // (format, text to replace, replacement, line, message)
        let cases: &[(Source, &str, &str, usize, &str)] = &[
            (Source::Ipvsadm, "IP Virtual Server version 1.2.1 (size=4096)", "Can't initialize ipvs: Protocol not available", 2, "to begin with `IP Virtual Server version`"),
            (Source::Ipvsadm, "Prot LocalAddress:Port Scheduler Flags", "Prot LocalAddress:Port                 Conns   InPkts  OutPkts  InBytes OutBytes", 3, "not the column line"),
            (Source::Ipvsadm, "TCP  10.77.0.100:80 wlc persistent 60", "TCP  10.77.0.100:http wlc persistent 60", 5, "not an address:port"),
            (Source::Ipvsadm, "TCP  10.77.0.100:80 wlc persistent 60", "TCP  10.77.0.100:80 wlc persistent", 5, "`persistent` without its value"),
            (Source::Ipvsadm, "TCP  10.77.0.100:80 wlc persistent 60", "TCP  10.77.0.100:80 wlc sticky", 5, "unknown word `sticky`"),
            (Source::Ipvsadm, "TCP  10.77.0.100:80 wlc persistent 60", "ICMP 10.77.0.100:80 wlc", 5, "expected a service line"),
            (Source::Ipvsadm, "  -> 10.77.0.21:80                Route   1      0          0", "  -> 10.77.0.21:80                Route   1      0", 6, "expected `-> ADDRESS:PORT"),
            (Source::Ipvsadm, "  -> 10.77.0.21:80                Route   1      0          0", "  -> 10.77.0.21:80                (null)  1      0          0", 6, "unknown forwarding method `(null)`"),
            (Source::Ipvsadm, "  -> 10.77.0.21:80                Route   1      0          0", "  -> 10.77.0.21:80                Route   1      1K         0", 6, "ActiveConn is not a number"),
            (Source::Proc, "TCP  0A4D0064:0050 wlc  persistent 15000 FFFFFFFF", "TCP  10.77.0.100:80 wlc persistent 15000 FFFFFFFF", 12, "not an address:port"),
            (Source::Proc, "TCP  0A4D0064:0050 wlc  persistent 15000 FFFFFFFF", "TCP  0A4D0064:0050 wlc  persistent 15000", 12, "`persistent` without its value"),
            (Source::Proc, "TCP  0A4D0064:0050 wlc  persistent 15000 FFFFFFFF", "TCP  0A4D0064:0050 wlc  persistent 15000 FFFF", 12, "netmask is not 8 hex digits"),
            (Source::Proc, "TCP  0A4D0064:0050 wlc  persistent 15000 FFFFFFFF", "TCP  0A4D0064:0050 wlc  persistent 60s FFFFFFFF", 12, "the persistence timeout is not a number"),
            (Source::Proc, "  -> 0A4D0015:0050      Route   1      0          0", "  -> 0A4D15:0050      Route   1      0          0", 14, "not an address:port"),
        ];
        for (source, from, to, line, message) in cases {
            let text = if *source == Source::Ipvsadm { ipvsadm } else { proc };
            assert!(text.contains(from), "{from}");
            let changed = text.replacen(from, to, 1);
            let got = match source {
                Source::Ipvsadm => parse_ipvsadm(1, &numbered(&changed)),
                Source::Proc => parse_proc(1, &numbered(&changed), Some(250)),
            };
            let err = got.unwrap_err();
            assert!(matches!(&err, ProbeError::Malformed { line: l, .. } if l == line), "{to}: {err:?}");
            assert!(err.to_string().contains(message), "{err}\n  does not contain: {message}");
        }
        // A real server before any service; nothing at all.
        let head: String = ipvsadm.lines().take(3).map(|l| format!("{l}\n")).collect();
        let err = parse_ipvsadm(1, &numbered(&format!("{head}  -> 10.77.0.21:80 Route 1 0 0\n"))).unwrap_err();
        assert!(err.to_string().contains("a real server before any service"), "{err}");
        let err = parse_ipvsadm(9, &[]).unwrap_err();
        assert!(matches!(err, ProbeError::Malformed { line: 9, .. }), "{err:?}");
        assert!(err.to_string().contains("fewer than its three header lines"), "{err}");
    }
}
