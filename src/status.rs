//! `lvsctl status`: what the cluster looks like right now, one row per host: its role,
//! whether it answers, which director holds each VIP, keepalived, each director's kernel IPVS
//! table against the topology's (`ipvs::compare`), the real servers' VIP on lo and ARP
//! sysctls (the blind spot of DR health checks), and whether it drifted from the topology.
//! This computes each host's row from its plan and inspection, and the exit code;
//! `report::status` draws the table (and below it, one line per IPVS finding).

use crate::exit;
use crate::facts::{Facts, IpvsFact};
use crate::ipvs::{self, Comparison};
use crate::live::HostInspection;
use crate::model::Cluster;
use crate::plan::{HostPlan, Role};

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
    /// Would the host come back as it is after a reboot: its persistence files as planned and
    /// enabled (no pending file or boot change) and a persistence that keeps addresses.
    pub survives_reboot: Option<bool>,
    /// Why not, when it would not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reboot_notes: Vec<String>,
    /// Real servers: drained with `lvsctl drain` (weight 0 on every director), by whom, when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drained: Option<crate::model::drained::DrainMark>,
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
    pub fn ipvs_drift(&self) -> bool {
        self.ipvs.as_ref().and_then(|i| i.comparison.as_ref()).is_some_and(Comparison::drift)
    }
}

/// 1 when a host is unreachable, keepalived stopped, a real server's VIP/ARP wrong, or the
/// director holding the VIPs (the only one, if so) has an IPVS table that drifted: that is
/// the table serving traffic. Health-check removals (`missing`) never count.
pub fn exit_code(cluster: &Cluster, rows: &[HostStatus]) -> i32 {
    let single = cluster.directors.len() == 1;
    let serving_drifted = rows.iter().any(|r| r.ipvs_drift() && (single || !r.holds_vips.is_empty()));
    let bad = serving_drifted || rows.iter().any(|r| !r.reachable || r.real_server_ok == Some(false) || r.keepalived_running == Some(false));
    if bad { exit::ERROR } else { exit::OK }
}

pub fn status(cluster: &Cluster, plan: &HostPlan, i: &HostInspection) -> HostStatus {
    let mut s = HostStatus {
        host: i.host.clone(),
        roles: i.roles.clone(),
        reachable: i.outcome.is_ok(),
        error: i.outcome.as_ref().err().map(|e| e.to_string()),
        holds_vips: Vec::new(),
        keepalived_running: None,
        ipvs: None,
        real_server_ok: None,
        problems: Vec::new(),
        drift: None,
        survives_reboot: None,
        reboot_notes: Vec::new(),
        drained: cluster.drained.get(&i.host).cloned(),
    };
    let Ok(ins) = &i.outcome else { return s };
    let facts: &Facts = &ins.facts;
    s.drift = Some(!ins.changes.changes.is_empty());
    s.reboot_notes = reboot_notes(&ins.changes);
    s.reboot_notes.extend(facts.masked.iter().filter(|u| plan.boot_units.contains(u)).map(|u| format!("{u} is masked")));
    s.survives_reboot = Some(s.reboot_notes.is_empty());
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

/// What would be lost at a reboot: a boot file not as planned, a unit not enabled, or a
/// persistence that keeps nothing while the host has addresses, routes or chains to keep.
pub fn reboot_notes(h: &crate::changes::HostChanges) -> Vec<String> {
    use crate::changes::Change;
    let mut notes: Vec<String> = h
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::File(f) => Some(format!("{} is not as planned", f.path)),
            Change::Boot { unit, enable: true } => Some(format!("{unit} is not enabled at boot")),
            _ => None,
        })
        .collect();
    let keeps_nothing = h.persistence.as_ref().is_some_and(|p| p.backend == crate::plan::persistence::Backend::None);
    if keeps_nothing && (!h.record.addresses.is_empty() || !h.record.routes.is_empty() || !h.record.nat_chains.is_empty()) {
        notes.push("persistence none: lvsctl's addresses, routes and chains are lost at a reboot".into());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::HostChanges;
    use crate::plan;
    use crate::render::Templates;
    use crate::report::status::{ipvs_cell, table};
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
            let changes = HostChanges { host: host.into(), roles: plan.roles.clone(), ..HostChanges::default() };
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
