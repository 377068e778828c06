//! `lvsctl status`'s table: one row per host (role, reachable, VIPs held, keepalived, the
//! IPVS table against the topology, real servers' VIP/ARP, drift, whether it survives a
//! reboot, problems), then one line per IPVS finding.

use std::fmt::Write;

use crate::plan::Role;
use crate::status::HostStatus;

/// The IPVS column: `2/2 rs`, `1/2 rs (web2 missing)`, `2/2 rs (1 unexpected, 1 different)`,
/// `no IPVS`; `-` for hosts that are not directors (or not probed).
pub fn ipvs_cell(r: &HostStatus) -> String {
    let Some(i) = &r.ipvs else { return "-".into() };
    let Some(c) = &i.comparison else { return "no IPVS".into() };
    let mut notes = Vec::new();
    if !c.missing.is_empty() {
        notes.push(format!("{} missing", c.missing_hosts().join(", ")));
    }
    if !c.unexpected.is_empty() {
        notes.push(format!("{} unexpected", c.unexpected.len()));
    }
    if !c.differs.is_empty() {
        notes.push(format!("{} different", c.differs.len()));
    }
    let base = format!("{}/{} rs", c.real_servers_present, c.real_servers_expected);
    if notes.is_empty() { base } else { format!("{base} ({})", notes.join(", ")) }
}

pub fn table(rows: &[HostStatus]) -> String {
    let mut out = String::new();
    let cells: Vec<String> = rows.iter().map(ipvs_cell).collect();
    let w = cells.iter().map(String::len).max().unwrap_or(0).max("IPVS".len());
    let _ = writeln!(out, "{:<12} {:<26} {:<9} {:<22} {:<10} {:<w$} {:<8} {:<5} {:<7} PROBLEMS", "HOST", "ROLE", "REACHABLE", "HOLDS VIPS", "KEEPALIVED", "IPVS", "VIP/ARP", "DRIFT", "REBOOT");
    for (r, ipvs) in rows.iter().zip(&cells) {
        let roles: Vec<&str> = r.roles.iter().map(|x| x.as_str()).collect();
        let yn = |b: Option<bool>, yes: &str, no: &str| b.map_or("-".to_string(), |b| if b { yes.to_string() } else { no.to_string() });
        let holds = if r.roles.iter().any(|x| matches!(x, Role::MasterDirector | Role::BackupDirector)) {
            if r.holds_vips.is_empty() { "none".to_string() } else { r.holds_vips.join(",") }
        } else {
            "-".to_string()
        };
        let problems = match &r.error {
            Some(e) => e.clone(),
            None => r.problems.iter().chain(&r.reboot_notes).cloned().collect::<Vec<_>>().join("; "),
        };
        let _ = writeln!(
            out,
            "{:<12} {:<26} {:<9} {:<22} {:<10} {:<w$} {:<8} {:<5} {:<7} {}",
            r.host,
            roles.join(", "),
            if r.reachable { "yes" } else { "NO" },
            holds,
            yn(r.keepalived_running, "running", "STOPPED"),
            ipvs,
            yn(r.real_server_ok, "ok", "WRONG"),
            yn(r.drift, "yes", "no"),
            yn(r.survives_reboot, "ok", "LOST"),
            problems
        );
    }
    // Each IPVS finding on a line of its own: `lvs1 TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 missing (...)`.
    let findings: Vec<String> = rows
        .iter()
        .filter_map(|r| Some((r, r.ipvs.as_ref()?.comparison.as_ref()?)))
        .flat_map(|(r, c)| c.missing.iter().chain(&c.unexpected).chain(&c.differs).map(move |f| format!("{} {f}", r.host)))
        .collect();
    if !findings.is_empty() {
        out.push('\n');
        for f in findings {
            let _ = writeln!(out, "{f}");
        }
    }
    out
}

