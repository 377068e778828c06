//! Live inspection: connect to every host (at most `forks` at once, `executor`), run the
//! facts probe as one script in one exec, and compare with the host's plan.
//!
//! A host that cannot be reached or probed is reported with its error; the others are still
//! inspected. Nothing here writes to a host.

use std::time::Instant;

use crate::changes::{self, HostChanges};
use crate::executor::Executor;
use crate::facts::{Facts, IpvsFact};
use crate::ipvs;
use crate::model::Cluster;
use crate::plan::{HostPlan, Role, Secrets, SYSCTL_FILE};
use crate::probe::{self, ProbeRequest};
use crate::ssh::{self, Session, Target};

#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub forks: usize,
    pub ssh: ssh::Options,
}

#[derive(Debug)]
pub struct Inspected {
    pub facts: Facts,
    pub changes: HostChanges,
    pub warnings: Vec<String>,
    /// Remote execs this host's inspection took (the probe is one).
    pub execs: usize,
    pub elapsed_ms: u64,
}

#[derive(Debug)]
pub struct HostInspection {
    pub host: String,
    pub roles: Vec<Role>,
    pub outcome: Result<Inspected, InspectError>,
}

/// Why a host could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Ssh(#[from] crate::ssh::SshError),
    #[error("probe failed: {source}{}", if stderr.is_empty() { String::new() } else { format!(" (remote stderr: {stderr})") })]
    Probe {
        #[source]
        source: probe::ProbeError,
        /// What the remote shell said on stderr (trimmed), which often names the cause.
        stderr: String,
    },
}

/// Inspect every planned host, at most `forks` at once. Blocks.
pub fn inspect(cluster: &Cluster, plans: &[HostPlan], secrets: &Secrets, opts: &LiveOptions) -> Vec<HostInspection> {
    let jobs: Vec<(HostPlan, Target)> = plans.iter().map(|p| (p.clone(), Target::from_host(&cluster.hosts[&p.host]))).collect();
    Executor::new(opts.forks).each(jobs, |(plan, target)| {
        let (secrets, ssh_opts) = (secrets.clone(), opts.ssh.clone());
        async move {
            let outcome = inspect_host(&target, &plan, &secrets, &ssh_opts).await;
            HostInspection { host: plan.host.clone(), roles: plan.roles.clone(), outcome }
        }
    })
}

async fn inspect_host(target: &Target, plan: &HostPlan, secrets: &Secrets, opts: &ssh::Options) -> Result<Inspected, InspectError> {
    let start = Instant::now();
    let session = Session::connect(target, opts).await?;
    let result = probe_host(&session, plan, secrets).await;
    let execs = session.exec_count();
    session.close().await;
    let (facts, changes, warnings) = result?;
    Ok(Inspected { facts, changes, warnings, execs, elapsed_ms: start.elapsed().as_millis() as u64 })
}

/// On a connected host: run the probe (one exec), parse the facts, compute the changes, and
/// gather what the operator must be warned about. Shared by plan, status and apply.
pub async fn probe_host(session: &Session, plan: &HostPlan, secrets: &Secrets) -> Result<(Facts, HostChanges, Vec<String>), InspectError> {
    let req = ProbeRequest::for_plan(plan);
    let out = session.run_script(&probe::script(&req)).await?;
    let (facts, mut warnings) = probe::parse(&out.stdout, &req).map_err(|source| InspectError::Probe { source, stderr: out.stderr.trim().to_string() })?;
    // How the host persists is known now: the plan is the alternative its facts call for.
    let plan = &plan.for_facts(&facts);
    warnings.extend(session.known_hosts_warnings.iter().cloned());
    warnings.extend(fact_warnings(plan, &facts));
    let changes = changes::compute(plan, &facts, secrets);
    Ok((facts, changes, warnings))
}

/// The drain marks the directors hold (`model::drained`): the union, so a real server drained
/// on one director only (an apply that failed half-way) stays drained until undrained.
pub fn drain_marks<'a>(facts: impl IntoIterator<Item = &'a Facts>) -> std::collections::BTreeMap<String, crate::model::drained::DrainMark> {
    facts.into_iter().filter_map(|f| f.files.get(crate::model::drained::DRAINED_FILE)).flat_map(|f| crate::model::drained::parse(&f.content)).collect()
}

/// A host's changes and warnings again, from the facts already probed, for `new` (the plan
/// with the drain marks) instead of `old`: no second round trip.
pub fn recompute(old: &HostPlan, new: &HostPlan, facts: &Facts, secrets: &Secrets, changes: &mut HostChanges, warnings: &mut Vec<String>) {
    let (old, new) = (&old.for_facts(facts), &new.for_facts(facts));
    let stale = fact_warnings(old, facts);
    warnings.retain(|w| !stale.contains(w));
    warnings.extend(fact_warnings(new, facts));
    *changes = changes::compute(new, facts, secrets);
}

/// Every inspected host planned again with `plans` (the cluster with its drain marks).
pub fn replan(inspections: &mut [HostInspection], old: &[HostPlan], plans: &[HostPlan], secrets: &Secrets) {
    for i in inspections {
        let (Some(o), Some(n)) = (old.iter().find(|p| p.host == i.host), plans.iter().find(|p| p.host == i.host)) else { continue };
        if let Ok(ins) = &mut i.outcome {
            recompute(o, n, &ins.facts, secrets, &mut ins.changes, &mut ins.warnings);
        }
    }
}

/// Things about a host that a plan cannot fix by itself but the operator must know.
pub fn fact_warnings(plan: &HostPlan, facts: &Facts) -> Vec<String> {
    let mut w = Vec::new();
    for o in &facts.sysctl_overrides {
        let ours = plan.sysctls.iter().find(|s| s.key == o.key).map_or("", |s| s.value.as_str());
        w.push(format!("{} sets {} = {} and loads after {SYSCTL_FILE}: at boot it overrides lvsctl's {ours}", o.file, o.key, o.value));
    }
    if let Some(p) = plan.persistence.as_ref().filter(|p| p.backend == crate::plan::persistence::Backend::None) {
        w.push(format!("persistence: none ({}): lvsctl's addresses, routes and chains will not survive a reboot (set lvsctl_persistence)", p.reason));
    }
    for unit in plan.boot_units.iter().filter(|u| facts.masked.contains(u)) {
        w.push(format!("{unit} is masked: lvsctl leaves it so, and it will not start at boot (`systemctl unmask {unit}`, then apply again)"));
    }
    let keepalived = plan.services.iter().any(|s| s.name == "keepalived");
    if keepalived && !facts.keepalived.installed {
        w.push("keepalived is not installed: install it (apt-get install keepalived / dnf install keepalived) before apply".into());
    }
    w.extend(crate::changes::keepalived_versions::warnings(plan, facts));
    // Services keepalived did not configure survive its restart: the operator removes them.
    if let (true, IpvsFact::Table(table), false) = (keepalived, &facts.ipvs, plan.ipvs.is_empty()) {
        for f in ipvs::compare(&plan.ipvs, table).foreign_services() {
            let delete = table.services.iter().find(|s| s.label() == f.service).map(ipvs::delete_command).unwrap_or_default();
            w.push(format!("the kernel's IPVS table has {}, which no service of the topology is: keepalived leaves it alone (remove it with `{delete}`)", f.service));
        }
    }
    w
}
