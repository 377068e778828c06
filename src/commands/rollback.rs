//! `lvsctl rollback`: bring hosts back to a previous generation through the same
//! transaction as apply (validate, activate, verify, automatic rollback), in the same
//! stage order. The generation's record on each host says what it was given; no topology is
//! needed.

use crate::apply::history::{self, HistoryError};
use crate::apply::{self, Applier};
use crate::report::progress::Progress;
use crate::changes::HostChanges;
use crate::cli::RollbackArgs;
use crate::error::Result;
use crate::exit;
use crate::plan::Secrets;
use crate::report::{self, Summary};
use crate::ssh::Target;

pub fn run(args: &RollbackArgs) -> Result<i32> {
    let hosts = super::load_inventory(&args.hosts.inventory, &args.hosts.limit)?;
    let targets: Vec<Target> = hosts.iter().map(Target::from_host).collect();
    let opts = super::options::apply_options(&args.hosts.ssh, Some(&args.rollout))?;

    // Which generation each host goes back to, and its record.
    let listings = apply::run_on_all(&targets, |_| history::list_script(&Default::default()), &opts);
    let mut chosen = Vec::new();
    let mut problems = 0;
    let mut cannot = |host: &str, e: &dyn std::fmt::Display| {
        problems += 1;
        println!("{host}: {} {e}", console::style("cannot roll back:").red().bold());
    };
    for (t, listing) in targets.iter().zip(listings) {
        let (cur, gens) = match listing.map_err(HistoryError::from).and_then(|out| history::parse_list(&out)) {
            Ok(l) => l,
            Err(e) => {
                cannot(&t.name, &e);
                continue;
            }
        };
        match history::target(cur, &gens, args.to) {
            Ok(g) => chosen.push((t.clone(), cur, g)),
            // Without --to, a host with nothing earlier to return to is left as it is.
            Err(e) if args.to.is_none() && e.nothing_earlier() => println!("{}: skipped: {e}", t.name),
            Err(e) => cannot(&t.name, &e),
        }
    }
    let fetch_targets: Vec<Target> = chosen.iter().map(|(t, _, _)| t.clone()).collect();
    let records = apply::run_on_all(&fetch_targets, |t| history::fetch_script(chosen.iter().find(|(c, _, _)| c.name == t.name).map_or(0, |c| c.2), &Default::default()), &opts);
    let mut plans = Vec::new();
    let mut secrets = Vec::new();
    for ((t, cur, g), rec) in chosen.iter().zip(records) {
        match rec.map_err(HistoryError::from).and_then(|out| history::parse_fetch(&out)) {
            Ok(r) => {
                println!("{}: generation {cur} -> back to generation {g}", t.name);
                secrets.extend(r.secrets());
                plans.push((r.to_plan(), t.clone()));
            }
            Err(e) => cannot(&t.name, &e),
        }
    }
    if plans.is_empty() {
        println!("Nothing to roll back.");
        return Ok(if problems > 0 { exit::ERROR } else { exit::OK });
    }
    let secrets = Secrets::from_values(secrets);
    let applier = Applier::prepare(plans, &secrets, opts);
    for h in &applier.hosts {
        print!("{}", report::host_block(&h.changes, &h.warnings, h.error().map(|e| e as &dyn std::fmt::Display)));
    }
    let changes: Vec<HostChanges> = applier.hosts.iter().filter(|h| h.error().is_none()).map(|h| h.changes.clone()).collect();
    let summary = Summary::of(&changes);
    println!("{}", summary.line());
    if !args.rollout.yes && !super::confirm(&format!("Roll back {} host(s)?", summary.hosts_changed), "roll back")? {
        println!("Rollback cancelled: no host was touched.");
        return Ok(exit::ERROR);
    }
    let results = applier.rollout(&Progress::new());
    print!("{}", report::rollback_results(&results));
    let failed = results.iter().filter(|r| r.outcome.is_failure()).count() + problems;
    if apply::interrupted() {
        println!("Interrupted: hosts in flight finished or rolled back; no lock is left held.");
        return Ok(exit::INTERRUPTED);
    }
    Ok(if failed > 0 { exit::ERROR } else { exit::OK })
}
