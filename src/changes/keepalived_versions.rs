//! keepalived versions that mishandle what a plan needs, told at plan time (the probe reads
//! each director's `keepalived --version`). From keepalived's history:
//!
//! - `weight 0` on a real server: 2.0.0 to 2.0.15 reject it (commit a119136: "outside range
//!   1-65535", the server keeps weight 1); 2.1.0 to 2.1.5 accept it but program IPVS with 1
//!   (commits 94ad05a4, 291801d4; issue #1757); 2.2.0 honours it again (PR #1762). A real
//!   server the topology gives weight 0 then keeps taking new connections.
//! - A changed weight on reload: 2.2.0 and 2.2.1 compare the new weight with itself and leave
//!   IPVS as it was (fixed in 2.2.2, commit 4127af50).
//! - A changed scheduler or persistence on reload: up to 2.0.18 the virtual server is deleted
//!   and added again, cutting every connection on it; 2.0.19 and 2.0.20 edit it in place but
//!   without the persistence settings (fixed in 2.1.0, commit 57a6be35, issue #1587).
//!
//! Each is a warning with the reason, and lvsctl picks the safe action where one exists:
//! - a reload that would leave the kernel's table wrong (changed weights on 2.2.0-2.2.1,
//!   persistence on 2.0.19-2.0.20) becomes a **restart** of keepalived (`restart_instead`):
//!   correct, not hitless (the BACKUP first; the MASTER's restart hands the VIPs to the BACKUP
//!   and back), which the warning says. A restart is keepalived building its table from
//!   scratch, which every version gets right;
//! - a scheduler or persistence change up to 2.0.18 stays a reload: it re-creates that one
//!   service (its connections are cut), a restart would cut every service's and fail over;
//! - `weight 0` on 2.0.0-2.1.5 has no safe action (an `ipvsadm` edit behind keepalived's back
//!   is undone at its next checker transition): warned, the operator decides (upgrade, or
//!   remove the real server instead of weighting it 0).

use crate::facts::{Facts, IpvsFact};
use crate::ipvs;
use crate::plan::HostPlan;

/// `major.minor.patch` as keepalived prints it (`2.2.7`); None for anything else.
fn parse(v: &str) -> Option<(u32, u32, u32)> {
    let mut it = v.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().ok());
    Some((it.next()??, it.next()??, it.next().flatten().unwrap_or(0)))
}

/// Warnings for a director whose keepalived (as probed) mishandles what its plan needs.
pub fn warnings(plan: &HostPlan, facts: &Facts) -> Vec<String> {
    let mut w = Vec::new();
    if !plan.services.iter().any(|s| s.name == "keepalived") {
        return w;
    }
    let Some(text) = facts.keepalived.version.as_deref() else { return w };
    let Some(v) = parse(text) else { return w };
    let between = |lo: (u32, u32, u32), hi: (u32, u32, u32)| lo <= v && v <= hi;

    let weight_0 = if between((2, 0, 0), (2, 0, 15)) {
        Some("rejects `weight 0` (2.0.0 to 2.0.15) and keeps weight 1")
    } else if between((2, 1, 0), (2, 1, 5)) {
        Some("programs `weight 0` as weight 1 (2.1.0 to 2.1.5; fixed in 2.2.0)")
    } else {
        None
    };
    if let Some(what) = weight_0 {
        for s in &plan.ipvs {
            for rs in s.real_servers.iter().filter(|rs| rs.weight == 0) {
                w.push(format!(
                    "keepalived {text} {what}: {} ({}:{}) of {} would still get new connections; upgrade keepalived to 2.2.0 or later, or remove the real server from the topology",
                    rs.host, rs.address, rs.port, s.label()
                ));
            }
        }
    }

    // What a reload has to change in the kernel's table (a keepalived.conf that changes is
    // reloaded, never restarted).
    let reloads = plan.files.iter().any(|f| f.kind == crate::plan::FileKind::KeepalivedConf && facts.files.get(&f.path).is_some_and(|old| old.content != f.content));
    let IpvsFact::Table(table) = &facts.ipvs else { return w };
    if !reloads || !facts.keepalived.running {
        return w;
    }
    let found = ipvs::compare(&plan.ipvs, table);
    let differs = |what: &str| found.differs.iter().filter(|f| f.detail.starts_with(what)).map(|f| f.service.clone()).collect::<std::collections::BTreeSet<_>>();
    let weights = found.differs.iter().filter(|f| f.real_server.is_some() && f.detail.starts_with("weight ")).count();
    if weights > 0 && between((2, 2, 0), (2, 2, 1)) {
        w.push(format!(
            "keepalived {text} does not apply changed weights on reload (2.2.0 and 2.2.1; fixed in 2.2.2): lvsctl restarts it instead so that {weights} weight(s) change (the MASTER's restart moves the VIPs to the BACKUP and back); upgrade keepalived to keep such changes hitless"
        ));
    }
    let persistence: Vec<String> = differs("persisten").into_iter().chain(differs("not persistent")).collect();
    let scheduler = differs("scheduler ");
    if v < (2, 0, 19) {
        for s in persistence.iter().chain(&scheduler).collect::<std::collections::BTreeSet<_>>() {
            w.push(format!(
                "keepalived {text} deletes and re-adds {s} on reload to change its scheduler or persistence (up to 2.0.18): every connection on it is cut; upgrade keepalived to 2.1.0 or later, or apply in a maintenance window"
            ));
        }
    } else if v < (2, 1, 0) {
        for s in &persistence {
            w.push(format!("keepalived {text} leaves the persistence of {s} as it was on reload (2.0.19, 2.0.20; fixed in 2.1.0): lvsctl restarts it instead (the MASTER's restart moves the VIPs to the BACKUP and back); upgrade keepalived to keep such changes hitless"));
        }
    }
    w
}

/// Why a reload of this director's keepalived would leave the kernel's table other than the
/// plan says, so that it must be restarted instead (see the module doc); None when a reload
/// does the job. The same conditions as the restart warnings above.
pub fn restart_instead(plan: &HostPlan, facts: &Facts) -> Option<String> {
    let v = parse(facts.keepalived.version.as_deref()?)?;
    let IpvsFact::Table(table) = &facts.ipvs else { return None };
    let found = ipvs::compare(&plan.ipvs, table);
    let weights = found.differs.iter().any(|f| f.real_server.is_some() && f.detail.starts_with("weight "));
    let persistence = found.differs.iter().any(|f| f.real_server.is_none() && (f.detail.starts_with("persisten") || f.detail.starts_with("not persistent")));
    if weights && ((2, 2, 0)..=(2, 2, 1)).contains(&v) {
        return Some("keepalived 2.2.0-2.2.1 do not apply changed weights on reload".into());
    }
    if persistence && ((2, 0, 19)..=(2, 0, 20)).contains(&v) {
        return Some("keepalived 2.0.19-2.0.20 keep the old persistence on reload".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{parse, restart_instead, warnings};
    use crate::changes::compute_tests::converged;
    use crate::facts::{Facts, IpvsFact};
    use crate::plan::{FileKind, HostPlan};

    fn plan(playbook: &str) -> HostPlan {
        let cluster = crate::ipvs::testing::example(playbook);
        let templates = crate::render::Templates::new(None).unwrap();
        crate::plan::build(&cluster, &templates).unwrap().into_iter().find(|p| p.host == "lvs1").unwrap()
    }

    fn zero_weight(p: &mut HostPlan, _: &mut Facts) {
        p.ipvs[0].real_servers[1].weight = 0;
    }

    /// The kernel's table differs from the plan the way `what` says, and keepalived.conf
    /// changes: a reload has to bring the difference.
    fn reload(what: &'static str) -> impl Fn(&mut HostPlan, &mut Facts) {
        move |p, f| {
            let conf = p.files.iter().find(|f| f.kind == FileKind::KeepalivedConf).unwrap().path.clone();
            f.files.get_mut(&conf).unwrap().content.push_str("! older\n");
            let IpvsFact::Table(t) = &mut f.ipvs else { panic!("no table") };
            match what {
                "weight" => t.services[0].real_servers[0].weight += 1,
                "scheduler" => t.services[0].scheduler = "lc".into(),
                "persistence" => t.services[0].persistence_timeout = Some(300),
                _ => unreachable!(),
            }
        }
    }

    /// (playbook, keepalived version, edit of the converged plan and facts, the warning's
    /// words or None).
    #[test]
    fn each_mishandling_version_is_told_and_no_other() {
        type Edit = Box<dyn Fn(&mut HostPlan, &mut Facts)>;
        let cases: Vec<(&str, &str, Edit, Option<&str>)> = vec![
            ("dr-keepalived-pair-http.yml", "2.0.10", Box::new(zero_weight), Some("rejects `weight 0` (2.0.0 to 2.0.15)")),
            ("dr-keepalived-pair-http.yml", "2.1.5", Box::new(zero_weight), Some("programs `weight 0` as weight 1")),
            ("dr-keepalived-pair-http.yml", "2.0.16", Box::new(zero_weight), None),
            ("dr-keepalived-pair-http.yml", "2.2.7", Box::new(zero_weight), None),
            ("dr-keepalived-pair-http.yml", "2.2.1", Box::new(reload("weight")), Some("does not apply changed weights on reload")),
            ("dr-keepalived-pair-http.yml", "2.2.2", Box::new(reload("weight")), None),
            ("dr-keepalived-pair-http.yml", "2.0.18", Box::new(reload("scheduler")), Some("deletes and re-adds TCP 10.77.0.100:80 wlc")),
            ("dr-keepalived-pair-http.yml", "2.0.20", Box::new(reload("scheduler")), None),
            ("dr-keepalived-router.yml", "2.0.20", Box::new(reload("persistence")), Some("leaves the persistence of")),
            ("dr-keepalived-router.yml", "2.1.0", Box::new(reload("persistence")), None),
            ("dr-keepalived-pair-http.yml", "2.2.7", Box::new(|_: &mut HostPlan, _: &mut Facts| {}), None),
        ];
        for (playbook, version, edit, want) in cases {
            let mut p = plan(playbook);
            let mut f = converged(&p);
            f.keepalived.version = Some(version.into());
            f.keepalived.running = true;
            edit(&mut p, &mut f);
            let got = warnings(&p, &f);
            match want {
                Some(words) => assert!(got.len() == 1 && got[0].contains(words), "{playbook} {version}: want one warning with {words:?}, got {got:#?}"),
                None => assert!(got.is_empty(), "{playbook} {version}: want none, got {got:#?}"),
            }
            // The safe action: a restart exactly where the warning says lvsctl restarts.
            let restarts = want.is_some() && got[0].contains("lvsctl restarts it instead");
            assert_eq!(restart_instead(&p, &f).is_some(), restarts, "{playbook} {version}: restart_instead {:?}", restart_instead(&p, &f));
            let changes = crate::changes::compute(&p, &f, &Default::default()).changes;
            let restarted = changes.iter().any(|c| matches!(c, crate::changes::Change::Service { name, action: crate::changes::ServiceAction::Restart, .. } if name == "keepalived"));
            assert_eq!(restarted, restarts, "{playbook} {version}: {changes:?}");
        }
    }

    #[test]
    fn versions_as_keepalived_prints_them() {
        assert_eq!(parse("2.2.7"), Some((2, 2, 7)));
        assert_eq!(parse("2.1"), Some((2, 1, 0)));
        assert_eq!(parse("1.3.9"), Some((1, 3, 9)));
        assert_eq!(parse("2.0.20-rc1"), Some((2, 0, 20)));
        assert_eq!(parse("unknown"), None);
    }
}
