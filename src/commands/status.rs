//! `lvsctl status`: inspect every host live, compute its row (`crate::status`), draw the
//! table (`report::status`) or JSON, exit 1 when the cluster is not serving as planned.

use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::live;
use crate::plan::{self, Secrets};
use crate::render::Templates;
use crate::report;
use crate::status::{exit_code, status, HostStatus};

pub fn run(args: &StatusArgs) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let templates = Templates::new(args.common.templates.as_deref())?;
    let mut plans = plan::build(&loaded.cluster, &templates)?;
    super::options::limit(&mut plans, &args.limit)?;
    plan::with_alternatives(&mut plans, &templates)?;
    let secrets = Secrets::of(&loaded.cluster);
    let mut inspections = live::inspect(&loaded.cluster, &plans, &secrets, &super::options::live_options(&args.ssh)?);
    // Drained real servers are planned at weight 0: not drift.
    let (cluster, plans) = match super::drained::replan(&loaded.cluster, &templates, &args.limit, &plans, &mut inspections, &secrets)? {
        Some(with_marks) => with_marks,
        None => (loaded.cluster.clone(), plans),
    };
    let rows: Vec<HostStatus> = inspections.iter().zip(&plans).map(|(i, p)| status(&cluster, p, i)).collect();
    if args.json {
        let text = serde_json::to_string_pretty(&rows).map_err(|e| Error::usage(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", report::status::table(&rows));
        for r in rows.iter().filter(|r| r.roles.contains(&crate::plan::Role::RealServer)) {
            if let Some(m) = &r.drained {
                println!("{}: drained (by {} at {}): weight 0 on every director; `lvsctl undrain --real-server {}` gives it back", r.host, m.by, m.at, r.host);
            }
        }
    }
    Ok(exit_code(&loaded.cluster, &rows))
}

