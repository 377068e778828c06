//! `lvsctl plan`: what would change on each host. `--offline` compares with an empty host
//! or a previous render; live plans (facts probed over SSH) come with the SSH transport.

use crate::changes::{self, HostChanges};
use crate::cli::PlanArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::facts::Facts;
use crate::plan::{self, Secrets};
use crate::render::Templates;
use crate::report::{self, Summary};

pub fn run(args: &PlanArgs) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let templates = Templates::new(args.common.templates.as_deref())?;
    let mut plans = plan::build(&loaded.cluster, &templates)?;
    if !args.limit.is_empty() {
        if let Some(unknown) = args.limit.iter().find(|h| !plans.iter().any(|p| &p.host == *h)) {
            return Err(Error::usage(format!("--limit: `{unknown}` is not a host of this cluster")));
        }
        plans.retain(|p| args.limit.contains(&p.host));
    }
    if !args.offline {
        return Err(Error::usage(
            "live plans over SSH are not available in this build yet; use `--offline` (against an empty host) or `--offline --against DIR`",
        ));
    }
    let secrets = Secrets::of(&loaded.cluster);
    let mut hosts: Vec<HostChanges> = Vec::with_capacity(plans.len());
    for p in &plans {
        let facts = match &args.against {
            Some(dir) => Facts::from_render_dir(dir, &p.host)?,
            None => Facts::empty(),
        };
        hosts.push(changes::compute(p, &facts, &secrets));
    }
    let summary = Summary::of(&hosts);
    if args.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            cluster: &'a str,
            offline: bool,
            hosts: &'a [HostChanges],
            summary: Summary,
        }
        let out = Out { cluster: &loaded.cluster.name, offline: true, hosts: &hosts, summary };
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, &out).expect("plan serializes");
        std::io::Write::write_all(&mut stdout, b"\n")
            .and_then(|_| std::io::Write::flush(&mut stdout))
            .map_err(|source| Error::Write { path: "<stdout>".into(), source })?;
    } else {
        for h in &hosts {
            print!("{}", report::host_changes(h, true));
            println!();
        }
        println!("{}", summary.line());
    }
    Ok(if args.detailed_exitcode && summary.total() > 0 { exit::CHANGES } else { exit::OK })
}
