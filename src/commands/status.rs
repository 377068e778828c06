//! `lvsctl status`: what the cluster looks like right now, one row per host: its role,
//! whether it answers, which director holds each VIP, keepalived, the real servers' VIP on
//! lo and ARP sysctls (the blind spot of DR health checks), and whether it drifted from the
//! topology.

use std::fmt::Write;

use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::facts::Facts;
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
    /// Real servers: every VIP bound locally and the ARP sysctls as planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_server_ok: Option<bool>,
    pub problems: Vec<String>,
    pub drift: Option<bool>,
}

pub fn run(args: &StatusArgs) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let templates = Templates::new(args.common.templates.as_deref())?;
    let mut plans = plan::build(&loaded.cluster, &templates)?;
    super::plan::limit(&mut plans, &args.limit)?;
    let secrets = Secrets::of(&loaded.cluster);
    let inspections = live::inspect(&loaded.cluster, &plans, &secrets, &super::plan::live_options(&args.ssh));
    let rows: Vec<HostStatus> = inspections.iter().zip(&plans).map(|(i, p)| status(&loaded.cluster, p, i)).collect();
    if args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| Error::usage(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", table(&rows));
    }
    let bad = rows.iter().any(|r| !r.reachable || r.real_server_ok == Some(false) || r.keepalived_running == Some(false));
    Ok(if bad { exit::ERROR } else { exit::OK })
}

fn status(cluster: &Cluster, plan: &HostPlan, i: &HostInspection) -> HostStatus {
    let mut s = HostStatus {
        host: i.host.clone(),
        roles: i.roles.clone(),
        reachable: i.outcome.is_ok(),
        error: i.outcome.as_ref().err().cloned(),
        holds_vips: Vec::new(),
        keepalived_running: None,
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

fn table(rows: &[HostStatus]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<12} {:<26} {:<9} {:<22} {:<10} {:<8} {:<5} PROBLEMS", "HOST", "ROLE", "REACHABLE", "HOLDS VIPS", "KEEPALIVED", "VIP/ARP", "DRIFT");
    for r in rows {
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
            "{:<12} {:<26} {:<9} {:<22} {:<10} {:<8} {:<5} {}",
            r.host,
            roles.join(", "),
            if r.reachable { "yes" } else { "NO" },
            holds,
            yn(r.keepalived_running, "running", "STOPPED"),
            yn(r.real_server_ok, "ok", "WRONG"),
            yn(r.drift, "yes", "no"),
            problems
        );
    }
    out
}
