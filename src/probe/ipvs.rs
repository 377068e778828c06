//! IPVS: a director's kernel table (`ProbeRequest::wants_ipvs`), parsed strictly by
//! `ipvs_table` from `ipvsadm -Ln` or, when ipvsadm is missing or fails, /proc/net/ip_vs. No
//! /proc/net/ip_vs is `IpvsFact::NoIpvs`, not an error: the kernel has no IPVS (yet). Asked for
//! and not printed is an error, as is a second table.
//!
//! The script part (`sh/ipvs.sh`) runs ipvsadm only where /proc/net/ip_vs exists: ipvsadm
//! runs `modprobe ip_vs` when it cannot reach IPVS, and the probe must change nothing.

use super::{ipvs_table, malformed, numbered, ProbeError, ProbeRequest};
use crate::facts::{Facts, IpvsFact};
use crate::remote::protocol::Record;
use crate::remote::Script;

const SH: &str = include_str!("sh/ipvs.sh");

/// The section's part of the script, where the table is wanted.
pub(super) fn script(s: &mut Script, req: &ProbeRequest) {
    if req.wants_ipvs() {
        s.lib(SH).line("ipvs_table");
    }
}

/// The IPVS records as they come: a table from ipvsadm goes straight into the facts; one from
/// /proc waits for `finish`, since its `ipvshz` record comes after it.
#[derive(Default)]
pub(super) struct Ipvs<'r> {
    proc: Option<&'r Record<'r>>,
    hz: Option<u64>,
}

impl<'r> Ipvs<'r> {
    /// Takes a record of this section; `false` for any other kind.
    pub(super) fn take(&mut self, r: &'r Record<'r>, facts: &mut Facts, warnings: &mut Vec<String>) -> Result<bool, ProbeError> {
        match r.kind {
            "ipvsadm" | "ipvsproc" | "noipvs" if facts.ipvs != IpvsFact::NotProbed || self.proc.is_some() => {
                return Err(malformed(r, "a second IPVS table"));
            }
            "ipvsadm" => facts.ipvs = IpvsFact::Table(ipvs_table::parse_ipvsadm(r.line, &numbered(r))?),
            "ipvsproc" => self.proc = Some(r),
            "noipvs" => facts.ipvs = IpvsFact::NoIpvs,
            "ipvsadmfailed" => warnings.push("`ipvsadm -Ln` failed on the host (not root?): the IPVS table was read from /proc/net/ip_vs instead".into()),
            "ipvshz" => self.hz = Some(r.args.trim().parse().map_err(|_| malformed(r, "expected `ipvshz HZ`"))?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The table from /proc: persistence in ticks, seconds only with the kernel's HZ. Then a
    /// table asked for must be there.
    pub(super) fn finish(self, req: &ProbeRequest, facts: &mut Facts, warnings: &mut Vec<String>) -> Result<(), ProbeError> {
        if let Some(r) = self.proc {
            let table = ipvs_table::parse_proc(r.line, &numbered(r), self.hz)?;
            if self.hz.is_none() && table.services.iter().any(|s| s.persistent) {
                warnings.push("the IPVS table was read from /proc/net/ip_vs, which gives persistence timeouts in kernel ticks, and the kernel's HZ is unknown (no /boot/config-*): persistence timeouts are not compared (install ipvsadm)".into());
            }
            facts.ipvs = IpvsFact::Table(table);
        }
        if req.wants_ipvs() && facts.ipvs == IpvsFact::NotProbed {
            return Err(ProbeError::NoIpvsRecord);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{director, real_server};
    use super::super::{parse, ProbeError};
    use crate::facts::IpvsFact;

    /// A director's IPVS section: no IPVS is a fact, not an error; a table asked for and not
    /// printed, or printed twice, is an error; /proc without ipvsadm or HZ is said.
    #[test]
    fn ipvs_records() {
        let head = "@@lvsctl probe 1\n@@lvsctl nolist\n@@lvsctl nomanifest\n";
        let proc = "@@lvsctl ipvsproc\nIP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  0A4D0064:0050 wlc  persistent 15000 FFFFFFFF\n";
        let (facts, warnings) = parse(&format!("{head}@@lvsctl noipvs\n@@lvsctl end\n"), &director()).unwrap();
        assert_eq!((facts.ipvs, warnings.len()), (IpvsFact::NoIpvs, 0));
        // Not asked for (a real server), not printed: not probed.
        let (facts, _) = parse(&format!("{head}@@lvsctl end\n"), &real_server()).unwrap();
        assert_eq!(facts.ipvs, IpvsFact::NotProbed);
        let err = parse(&format!("{head}@@lvsctl end\n"), &director()).unwrap_err();
        assert!(matches!(err, ProbeError::NoIpvsRecord), "{err:?}");
        let err = parse(&format!("{head}@@lvsctl noipvs\n{proc}@@lvsctl end\n"), &director()).unwrap_err();
        assert!(err.to_string().contains("line 5: a second IPVS table"), "{err}");
        // ipvsadm failed, the kernel's HZ unknown: a table all the same, persistence unknown.
        let (facts, warnings) = parse(&format!("{head}@@lvsctl ipvsadmfailed\n{proc}@@lvsctl end\n"), &director()).unwrap();
        let IpvsFact::Table(t) = &facts.ipvs else { panic!("{:?}", facts.ipvs) };
        assert_eq!((t.source, t.services[0].persistent, t.services[0].persistence_timeout), (crate::ipvs::Source::Proc, true, None));
        assert_eq!(
            warnings,
            vec![
                "`ipvsadm -Ln` failed on the host (not root?): the IPVS table was read from /proc/net/ip_vs instead",
                "the IPVS table was read from /proc/net/ip_vs, which gives persistence timeouts in kernel ticks, and the kernel's HZ is unknown (no /boot/config-*): persistence timeouts are not compared (install ipvsadm)",
            ]
        );
        let (facts, warnings) = parse(&format!("{head}{proc}@@lvsctl ipvshz 250\n@@lvsctl end\n"), &director()).unwrap();
        let IpvsFact::Table(t) = &facts.ipvs else { panic!("{:?}", facts.ipvs) };
        assert_eq!((t.services[0].persistence_timeout, warnings.len()), (Some(60), 0));
        let err = parse(&format!("{head}{proc}@@lvsctl ipvshz 250Hz\n@@lvsctl end\n"), &director()).unwrap_err();
        assert!(err.to_string().contains("expected `ipvshz HZ`"), "{err}");
        // A malformed table names its line in the whole output.
        let err = parse(&format!("{head}{}@@lvsctl end\n", proc.replace("wlc  persistent", "wlc  sticky")), &director()).unwrap_err();
        assert!(err.to_string().starts_with("malformed probe output at line 8: unknown word `sticky`"), "{err}");
    }
}
