//! `lvsctl apply`: show the plan (probed live), ask, roll out, report each host's end state.

use crate::apply::{self, Applier, Outcome};
use crate::report::progress::Progress;
use crate::changes::HostChanges;
use crate::cli::{ApplyArgs, Common};
use crate::saved_plan::{fingerprint, SavedPlan};
use crate::error::{Error, Result};
use crate::exit;
use crate::plan::{self, Secrets};
use crate::render::Templates;
use crate::report::{self, Summary};
use crate::ssh::Target;

pub fn run(args: &ApplyArgs) -> Result<i32> {
    // `apply FILE` with a saved plan: the topology, inventory and hosts it was made from.
    let saved = SavedPlan::read_if_saved(&args.common.topology);
    let common = match &saved {
        Some(s) => Common { topology: s.topology.clone(), inventory: Some(s.inventory.clone()), templates: s.templates.clone() },
        None => Common { topology: args.common.topology.clone(), inventory: args.common.inventory.clone(), templates: args.common.templates.clone() },
    };
    let limit_hosts = saved.as_ref().map_or(args.limit.clone(), |s| s.limit.clone());
    let loaded = super::load(&common)?;
    let templates = Templates::new(common.templates.as_deref())?;
    let mut plans = plan::build(&loaded.cluster, &templates)?;
    super::options::limit(&mut plans, &limit_hosts)?;
    plan::with_alternatives(&mut plans, &templates)?;
    let secrets = Secrets::of(&loaded.cluster);
    let opts = super::options::apply_options(&args.ssh, Some(&args.rollout))?;
    let targets: Vec<_> = plans.into_iter().map(|p| {
        let t = Target::from_host(&loaded.cluster.hosts[&p.host]);
        (p, t)
    }).collect();
    let old: Vec<_> = targets.iter().map(|(p, _)| p.clone()).collect();
    let mut applier = Applier::prepare(targets, &secrets, opts);
    // Real servers drained with `lvsctl drain` stay drained (weight 0) until undrained.
    if let Some((_, plans)) = super::drained::with_marks(&loaded.cluster, &templates, &limit_hosts, &applier.drain_marks())? {
        applier.replan(&old, &plans);
    }

    // The plan being applied.
    let unreachable = applier.hosts.iter().filter(|h| h.error().is_some()).count();
    if !args.json {
        for h in &applier.hosts {
            print!("{}", report::host_block(&h.changes, &h.warnings, h.error().map(|e| e as &dyn std::fmt::Display)));
        }
    }
    if let Some(s) = &saved {
        let mut stale = Vec::new();
        for h in &applier.hosts {
            let now = fingerprint(&h.changes);
            match s.hosts.iter().find(|x| x.host == h.host) {
                Some(x) if x.fingerprint == now => {}
                Some(_) => stale.push(format!("{} changed since the plan was saved", h.host)),
                None => stale.push(format!("{} is not in the saved plan", h.host)),
            }
        }
        if !stale.is_empty() {
            return Err(Error::usage(format!("refusing to apply {}: {}; run `lvsctl plan --out` again and review it", args.common.topology.display(), stale.join("; "))));
        }
    }
    let changes: Vec<HostChanges> = applier.hosts.iter().filter(|h| h.error().is_none()).map(|h| h.changes.clone()).collect();
    let summary = Summary::of(&changes);
    if !args.json {
        println!("{}", summary.line());
    }
    if summary.total() == 0 && unreachable == 0 {
        if !args.json {
            println!("Nothing to do: no host was touched.");
        } else {
            print_json(&loaded.cluster.name, &applier.hosts.iter().map(apply::Prepared::unchanged).collect::<Vec<_>>())?;
        }
        return Ok(exit::OK);
    }
    if !args.rollout.yes && !super::confirm(&format!("Apply these changes to {} host(s)?", summary.hosts_changed), "apply")? {
        println!("Apply cancelled: no host was touched.");
        return Ok(exit::ERROR);
    }
    let progress = Progress::new();
    let results = applier.rollout(&progress);
    if args.json {
        print_json(&loaded.cluster.name, &results)?;
    } else {
        print!("{}", report::apply_results(&results));
    }
    let failed = results.iter().filter(|r| r.outcome.is_failure()).count();
    let applied = results.iter().filter(|r| matches!(r.outcome, Outcome::Applied { .. })).count();
    if apply::interrupted() {
        if !args.json {
            println!("Interrupted: hosts in flight finished or rolled back; no lock is left held.");
        }
        return Ok(exit::INTERRUPTED);
    }
    Ok(if failed > 0 {
        exit::ERROR
    } else if args.detailed_exitcode && applied > 0 {
        exit::CHANGES
    } else {
        exit::OK
    })
}

fn print_json(cluster: &str, results: &[apply::HostResult]) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        cluster: &'a str,
        hosts: &'a [apply::HostResult],
    }
    let text = serde_json::to_string_pretty(&Out { cluster, hosts: results }).map_err(|e| Error::usage(e.to_string()))?;
    println!("{text}");
    Ok(())
}
