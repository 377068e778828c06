//! `lvsctl status`: what the cluster looks like right now, one row per host: its role,
//! whether it answers, which director holds each VIP, keepalived, each director's kernel IPVS
//! table against the topology's (`ipvs::compare`), the real servers' VIP on lo and ARP
//! sysctls (the blind spot of DR health checks), and whether it drifted from the topology.
//! Below the table, one line per IPVS finding. This file draws all of it.

use std::fmt::Write;

use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::facts::{Facts, IpvsFact};
use crate::ipvs::{self, Comparison};
use crate::live::{self, HostInspection};
use crate::model::Cluster;
use crate::plan::{self, HostPlan, Role, Secrets};
use crate::render::Templates;

#[derive(Debug, serde::Serialize)]
pub struct HostStatus {
    pub host: String,
    pub roles: Vec<Role>,
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Directors: the VIPs this host holds right now.
    pub holds_vips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalived_running: Option<bool>,
    /// Directors: the kernel's IPVS table and how it compares with the topology.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipvs: Option<IpvsStatus>,
    /// Real servers: every VIP bound locally and the ARP sysctls as planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_server_ok: Option<bool>,
    pub problems: Vec<String>,
    pub drift: Option<bool>,
}

#[derive(Debug, serde::Serialize)]
pub struct IpvsStatus {
    /// As probed: `{"state": "table", "source": ..., "services": [...]}` or `{"state": "no_ipvs"}`.
    pub live: IpvsFact,
    /// `real_servers_present`, `real_servers_expected`, `missing`, `unexpected`, `differs`
    /// (absent without a table to compare).
    #[serde(flatten)]
    pub comparison: Option<Comparison>,
}

impl HostStatus {
    fn ipvs_drift(&self) -> bool {
        self.ipvs.as_ref().and_then(|i| i.comparison.as_ref()).is_some_and(Comparison::drift)
    }
}

pub fn run(args: &StatusArgs) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let templates = Templates::new(args.common.templates.as_deref())?;
    let mut plans = plan::build(&loaded.cluster, &templates)?;
    super::options::limit(&mut plans, &args.limit)?;
    let secrets = Secrets::of(&loaded.cluster);
    let inspections = live::inspect(&loaded.cluster, &plans, &secrets, &super::options::live_options(&args.ssh));
    let rows: Vec<HostStatus> = inspections.iter().zip(&plans).map(|(i, p)| status(&loaded.cluster, p, i)).collect();
    if args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| Error::usage(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", table(&rows));
    }
    Ok(exit_code(&loaded.cluster, &rows))
}

/// 1 when a host is unreachable, keepalived stopped, a real server's VIP/ARP wrong, or the
/// director holding the VIPs (the only one, if so) has an IPVS table that drifted: that is
/// the table serving traffic. Health-check removals (`missing`) never count.
fn exit_code(cluster: &Cluster, rows: &[HostStatus]) -> i32 {
    let single = cluster.directors.len() == 1;
    let serving_drifted = rows.iter().any(|r| r.ipvs_drift() && (single || !r.holds_vips.is_empty()));
    let bad = serving_drifted || rows.iter().any(|r| !r.reachable || r.real_server_ok == Some(false) || r.keepalived_running == Some(false));
    if bad { exit::ERROR } else { exit::OK }
}

fn status(cluster: &Cluster, plan: &HostPlan, i: &HostInspection) -> HostStatus {
    let mut s = HostStatus {
        host: i.host.clone(),
        roles: i.roles.clone(),
        reachable: i.outcome.is_ok(),
        error: i.outcome.as_ref().err().cloned(),
        holds_vips: Vec::new(),
        keepalived_running: None,
        ipvs: None,
        real_server_ok: None,
        problems: Vec::new(),
        drift: None,
    };
    let Ok(ins) = &i.outcome else { return s };
    let facts: &Facts = &ins.facts;
    s.drift = Some(!ins.changes.changes.is_empty());
    if let Some(d) = cluster.director(&plan.host) {
        s.holds_vips = cluster.vips().iter().filter(|v| facts.addresses.iter().any(|a| a.ip == **v && a.dev == d.interface)).map(|v| v.to_string()).collect();
        if plan.services.iter().any(|x| x.name == "keepalived") {
            s.keepalived_running = Some(facts.keepalived.running);
            if !facts.keepalived.running {
                s.problems.push("keepalived is not running".into());
            }
        }
        if !plan.ipvs.is_empty() && facts.ipvs != IpvsFact::NotProbed {
            let comparison = match &facts.ipvs {
                IpvsFact::Table(t) => Some(ipvs::compare(&plan.ipvs, t)),
                _ => None,
            };
            if comparison.as_ref().is_some_and(Comparison::drift) {
                s.problems.push("IPVS table differs from the topology (below)".into());
            }
            s.ipvs = Some(IpvsStatus { live: facts.ipvs.clone(), comparison });
        }
    }
    if plan.roles.contains(&Role::RealServer) {
        let mut ok = true;
        for a in &plan.addresses {
            if !facts.addresses.iter().any(|f| f.ip == a.ip && f.dev == a.dev) {
                ok = false;
                s.problems.push(format!("VIP {} missing on {}", a.ip, a.dev));
            }
        }
        for sc in plan.sysctls.iter().filter(|x| x.key.contains("arp_") || x.key.contains("rp_filter")) {
            let now = facts.sysctls.get(&sc.key);
            if now != Some(&sc.value) {
                ok = false;
                s.problems.push(format!("{} = {} (want {})", sc.key, now.map_or("?", String::as_str), sc.value));
            }
        }
        s.real_server_ok = Some(ok);
    }
    s
}

/// The IPVS column: `2/2 rs`, `1/2 rs (web2 missing)`, `2/2 rs (1 unexpected, 1 different)`,
/// `no IPVS`; `-` for hosts that are not directors (or not probed).
fn ipvs_cell(r: &HostStatus) -> String {
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

fn table(rows: &[HostStatus]) -> String {
    let mut out = String::new();
    let cells: Vec<String> = rows.iter().map(ipvs_cell).collect();
    let w = cells.iter().map(String::len).max().unwrap_or(0).max("IPVS".len());
    let _ = writeln!(out, "{:<12} {:<26} {:<9} {:<22} {:<10} {:<w$} {:<8} {:<5} PROBLEMS", "HOST", "ROLE", "REACHABLE", "HOLDS VIPS", "KEEPALIVED", "IPVS", "VIP/ARP", "DRIFT");
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
            None => r.problems.join("; "),
        };
        let _ = writeln!(
            out,
            "{:<12} {:<26} {:<9} {:<22} {:<10} {:<w$} {:<8} {:<5} {}",
            r.host,
            roles.join(", "),
            if r.reachable { "yes" } else { "NO" },
            holds,
            yn(r.keepalived_running, "running", "STOPPED"),
            ipvs,
            yn(r.real_server_ok, "ok", "WRONG"),
            yn(r.drift, "yes", "no"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::HostChanges;
    use crate::ipvs::testing::{as_planned, example};
    use crate::live::Inspected;

    struct Setup {
        cluster: Cluster,
        plans: Vec<HostPlan>,
    }

    fn setup(playbook: &str) -> Setup {
        let cluster = example(playbook);
        let plans = plan::build(&cluster, &Templates::new(None).unwrap()).unwrap();
        Setup { cluster, plans }
    }

    impl Setup {
        /// The status row of `host` with these facts (keepalived running, no other drift).
        fn row(&self, host: &str, facts: Facts) -> HostStatus {
            let plan = self.plans.iter().find(|p| p.host == host).unwrap();
            let changes = HostChanges { host: host.into(), roles: plan.roles.clone(), changes: vec![] };
            let i = HostInspection { host: host.into(), roles: plan.roles.clone(), outcome: Ok(Inspected { facts, changes, warnings: vec![], execs: 1, elapsed_ms: 1 }) };
            status(&self.cluster, plan, &i)
        }

        /// A director's facts: keepalived running, the VIPs held or not, this IPVS table.
        fn director(&self, holds: bool, ipvs: IpvsFact) -> Facts {
            let mut f = Facts::default();
            f.keepalived.running = true;
            if holds {
                f.addresses = self.cluster.vips().iter().map(|ip| crate::plan::Address { ip: *ip, prefix: 32, dev: "eth0".into(), label: None }).collect();
            }
            f.ipvs = ipvs;
            f
        }

        fn planned(&self, host: &str) -> crate::ipvs::Table {
            as_planned(&self.plans.iter().find(|p| p.host == host).unwrap().ipvs)
        }
    }

    #[test]
    fn a_real_server_down_shows_in_the_ipvs_column_and_below_but_does_not_fail() {
        let c = setup("dr-keepalived-router.yml");
        let mut t = c.planned("lvs1");
        t.services[0].real_servers.pop();
        let rows = vec![c.row("lvs1", c.director(true, IpvsFact::Table(t.clone()))), c.row("lvs2", c.director(false, IpvsFact::Table(c.planned("lvs2"))))];
        assert_eq!(ipvs_cell(&rows[0]), "1/2 rs (web2 missing)");
        assert_eq!(ipvs_cell(&rows[1]), "2/2 rs");
        assert!(rows[0].problems.is_empty(), "{:?}", rows[0].problems);
        assert_eq!(exit_code(&c.cluster, &rows), exit::OK);
        let out = table(&rows);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].contains(" IPVS                  VIP/ARP "), "{out}");
        assert!(lines[1].starts_with("lvs1 ") && lines[1].contains(" 1/2 rs (web2 missing) "), "{out}");
        assert_eq!(lines[3..], ["", "lvs1 TCP 10.77.0.100:80 wlc: web2 10.77.0.22:80 missing (health check failing)"], "{out}");
        // JSON: the live table and the lists.
        let v = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(v["ipvs"]["live"]["state"], "table");
        assert_eq!(v["ipvs"]["live"]["source"], "ipvsadm");
        assert_eq!(v["ipvs"]["live"]["services"][0]["vip"], "10.77.0.100");
        assert_eq!(v["ipvs"]["live"]["services"][0]["real_servers"][0]["forward"], "Route");
        assert_eq!(v["ipvs"]["real_servers_present"], 1);
        assert_eq!(v["ipvs"]["missing"][0]["host"], "web2");
        assert_eq!(v["ipvs"]["unexpected"], serde_json::json!([]));
    }

    #[test]
    fn drift_fails_status_only_on_the_director_holding_the_vips() {
        let c = setup("dr-keepalived-router.yml");
        let mut drifted = c.planned("lvs1");
        drifted.services[0].scheduler = "rr".into();
        // The BACKUP drifted: shown, not failing.
        let rows = vec![c.row("lvs1", c.director(true, IpvsFact::Table(c.planned("lvs1")))), c.row("lvs2", c.director(false, IpvsFact::Table(drifted.clone())))];
        assert_eq!(ipvs_cell(&rows[1]), "2/2 rs (1 different)");
        assert_eq!(rows[1].problems, ["IPVS table differs from the topology (below)"]);
        assert!(table(&rows).ends_with("\nlvs2 TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)\n"));
        assert_eq!(exit_code(&c.cluster, &rows), exit::OK);
        // The MASTER drifted: failing.
        let rows = vec![c.row("lvs1", c.director(true, IpvsFact::Table(drifted))), c.row("lvs2", c.director(false, IpvsFact::Table(c.planned("lvs2"))))];
        assert_eq!(exit_code(&c.cluster, &rows), exit::ERROR);
    }

    #[test]
    fn a_single_director_counts_whether_or_not_it_holds_the_vips() {
        let c = setup("nat-director.yml");
        let mut t = c.planned("lvs1");
        t.services[0].real_servers[0].port = 80;
        let rows = vec![c.row("lvs1", c.director(false, IpvsFact::Table(t)))];
        assert_eq!(ipvs_cell(&rows[0]), "1/2 rs (1 unexpected, 1 different)");
        assert_eq!(exit_code(&c.cluster, &rows), exit::ERROR);
    }

    /// The netns lab: no IPVS in the kernel is said, and is no failure.
    #[test]
    fn no_ipvs_in_the_kernel_is_no_failure() {
        let c = setup("dr-keepalived-router.yml");
        let rows = vec![c.row("lvs1", c.director(true, IpvsFact::NoIpvs)), c.row("web1", Facts::default())];
        assert_eq!(ipvs_cell(&rows[0]), "no IPVS");
        assert_eq!(ipvs_cell(&rows[1]), "-");
        assert_eq!(exit_code(&c.cluster, &rows[..1]), exit::OK);
        assert_eq!(serde_json::to_value(&rows[0]).unwrap()["ipvs"], serde_json::json!({"live": {"state": "no_ipvs"}}));
        assert!(serde_json::to_value(&rows[1]).unwrap().get("ipvs").is_none());
        assert!(!table(&rows).contains("\n\n"), "no findings, no lines below the table");
    }
}
