//! Drain before removal: a real server the topology drops (alone, or with its whole service)
//! first gets weight 0 on the director, so IPVS sends it no new connection while the ones it
//! has finish; only then does the reload remove it. Without that, keepalived deletes the
//! destination and every connection still on it is cut (with `expire_nodest_conn` at its
//! next packet, else it hangs until its timeout).
//!
//! What to drain comes from the kernel's table as the probe read it: a real server with
//! weight > 0 that the plan no longer has, in a service the plan keeps or in one lvsctl
//! configured before (its current keepalived.conf or ipvsadm rules name it). Services of
//! anyone else are left alone, as everywhere else.

use crate::facts::{Facts, IpvsFact};
use crate::ipvs::{addr_port, Forward, Protocol, Service};
use crate::plan::{FileKind, HostPlan};
use crate::model::DEFAULT_DRAIN_TIMEOUT;

/// One real server to drain, as ipvsadm names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DrainTarget {
    /// `TCP 10.77.0.100:80`, `FWM 1`: the service as `ipvsadm -Ln` prints it.
    pub service: String,
    /// ipvsadm's option for the service: `-t`, `-u`, or `-f` (a firewall mark).
    pub protocol_flag: String,
    /// `10.77.0.100:80`, or the mark of a firewall-mark service.
    pub vip: String,
    /// `10.77.0.22:80`.
    pub real_server: String,
    /// ipvsadm's forwarding option as the kernel has it (`-g`, `-m`, `-i`): an edit without
    /// one would turn a NAT or TUN destination into DR.
    pub forward: String,
    /// Its weight now, given back if the transaction rolls back.
    pub weight: i64,
}

/// What the director drains before its new configuration removes it, and for how long at
/// most: the longest `drain_timeout` of the services concerned.
pub fn targets(plan: &HostPlan, facts: &Facts) -> (Vec<DrainTarget>, u64) {
    let IpvsFact::Table(table) = &facts.ipvs else { return (Vec::new(), 0) };
    let ours_before = |s: &Service| {
        let lines: Vec<String> = match (s.fwmark, s.vip, s.port) {
            (Some(mark), _, _) => vec![format!("virtual_server fwmark {mark} "), format!("-A -f {mark} ")],
            (None, Some(vip), Some(port)) => vec![format!("virtual_server {vip} {port} "), format!(" {}:{port} ", vip)],
            _ => return false,
        };
        plan.files.iter().filter(|f| matches!(f.kind, FileKind::KeepalivedConf | FileKind::IpvsadmRules)).any(|f| {
            facts.files.get(&f.path).is_some_and(|old| lines.iter().any(|l| old.content.contains(l.as_str())))
        })
    };
    let mut out = Vec::new();
    let mut timeout = 0;
    for s in &table.services {
        // ipvsadm's names of the service: `-t 10.77.0.100:80`, `-f 1`.
        let (flag, vip) = match (s.fwmark, s.vip, s.port, protocol_flag(s.protocol)) {
            (Some(mark), _, _, _) if !s.flags.iter().any(|f| f == "IPv6") => ("-f", mark.to_string()),
            (None, Some(vip), Some(port), Some(flag)) => (flag, addr_port(vip, port)),
            _ => continue,
        };
        let expected = plan.ipvs.iter().find(|e| e.is(s));
        if expected.is_none() && !ours_before(s) {
            continue;
        }
        for rs in s.real_servers.iter().filter(|rs| rs.weight > 0) {
            let kept = expected.is_some_and(|e| {
                e.real_servers.iter().any(|r| r.address == rs.address && r.port == rs.port)
                    || e.sorry_server.as_ref().is_some_and(|ss| ss.address == rs.address && ss.port == rs.port)
            });
            let Some(forward) = forward_flag(rs.forward) else { continue };
            if kept {
                continue;
            }
            let t = expected.map_or(DEFAULT_DRAIN_TIMEOUT, |e| e.drain_timeout);
            if t == 0 {
                continue;
            }
            timeout = timeout.max(t);
            out.push(DrainTarget {
                service: format!("{} {vip}", s.protocol.as_str()),
                protocol_flag: flag.into(),
                vip: vip.clone(),
                real_server: addr_port(rs.address, rs.port),
                forward: forward.into(),
                weight: rs.weight,
            });
        }
    }
    (out, timeout)
}

fn protocol_flag(p: Protocol) -> Option<&'static str> {
    match p {
        Protocol::Tcp => Some("-t"),
        Protocol::Udp => Some("-u"),
        Protocol::Sctp | Protocol::Fwm => None,
    }
}

fn forward_flag(f: Forward) -> Option<&'static str> {
    match f {
        Forward::Route => Some("-g"),
        Forward::Masq => Some("-m"),
        Forward::Tunnel => Some("-i"),
        Forward::Local => None,
    }
}
