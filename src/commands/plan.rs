//! `lvsctl plan`: what would change on each host. Live by default (facts probed over SSH,
//! one script per host); `--offline` compares with an empty host or a previous render.

use super::options::{limit, live_options};
use crate::changes::{self, HostChanges};
use crate::cli::PlanArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::facts::Facts;
use crate::live;
use crate::plan::{self, Role, Secrets};
use crate::render::Templates;
use crate::report::{self, Summary};

/// One host's line in the plan, offline or live.
#[derive(Debug)]
pub struct HostResult {
    pub host: String,
    pub roles: Vec<Role>,
    pub reachable: Option<bool>,
    pub error: Option<String>,
    pub changes: HostChanges,
    pub warnings: Vec<String>,
    /// Remote execs the inspection took.
    pub execs: Option<usize>,
    pub elapsed_ms: Option<u64>,
}

/// A host as `plan --json` shows it (file changes with masked diffs: `report::ChangeView`).
#[derive(Debug, serde::Serialize)]
struct HostView<'a> {
    host: &'a str,
    roles: &'a [Role],
    #[serde(skip_serializing_if = "Option::is_none")]
    reachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a String>,
    changes: Vec<report::ChangeView<'a>>,
    /// How the host keeps its state across reboots, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    persistence: Option<&'a crate::plan::persistence::Persistence>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    execs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_ms: Option<u64>,
}

impl HostResult {
    fn view(&self) -> HostView<'_> {
        HostView {
            host: &self.host,
            roles: &self.roles,
            reachable: self.reachable,
            error: self.error.as_ref(),
            changes: report::change_views(&self.changes),
            persistence: self.changes.persistence.as_ref(),
            warnings: &self.warnings,
            execs: self.execs,
            elapsed_ms: self.elapsed_ms,
        }
    }
}

pub fn run(args: &PlanArgs) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let templates = Templates::new(args.common.templates.as_deref())?;
    let mut plans = plan::build(&loaded.cluster, &templates)?;
    limit(&mut plans, &args.limit)?;
    let secrets = Secrets::of(&loaded.cluster);
    let mut drained = std::collections::BTreeMap::new();
    let results: Vec<HostResult> = if args.offline {
        let mut v = Vec::with_capacity(plans.len());
        for p in &plans {
            let facts = match &args.against {
                Some(dir) => Facts::from_render_dir(dir, &p.host)?,
                None => Facts::empty(),
            };
            let changes = changes::compute(p, &facts, &secrets);
            v.push(HostResult { host: p.host.clone(), roles: p.roles.clone(), reachable: None, error: None, changes, warnings: Vec::new(), execs: None, elapsed_ms: None });
        }
        v
    } else {
        plan::with_alternatives(&mut plans, &templates)?;
        let mut inspections = live::inspect(&loaded.cluster, &plans, &secrets, &live_options(&args.ssh)?);
        if let Some((with_marks, _)) = super::drained::replan(&loaded.cluster, &templates, &args.limit, &plans, &mut inspections, &secrets)? {
            drained = with_marks.drained;
        }
        inspections
            .into_iter()
            .map(|i| match i.outcome {
                Ok(ins) => HostResult {
                    host: i.host,
                    roles: i.roles,
                    reachable: Some(true),
                    error: None,
                    changes: ins.changes,
                    warnings: ins.warnings,
                    execs: Some(ins.execs),
                    elapsed_ms: Some(ins.elapsed_ms),
                },
                Err(e) => HostResult { changes: HostChanges { host: i.host.clone(), roles: i.roles.clone(), ..HostChanges::default() }, host: i.host, roles: i.roles, reachable: Some(false), error: Some(e.to_string()), warnings: Vec::new(), execs: None, elapsed_ms: None },
            })
            .collect()
    };
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    if let Some(path) = &args.out {
        if failed > 0 {
            return Err(Error::usage("not saving the plan: some hosts could not be inspected"));
        }
        crate::saved_plan::SavedPlan {
            lvsctl_saved_plan: crate::saved_plan::FORMAT,
            topology: crate::saved_plan::absolute(&args.common.topology),
            inventory: crate::saved_plan::absolute(&loaded.inventory_path),
            templates: args.common.templates.as_deref().map(crate::saved_plan::absolute),
            limit: args.limit.clone(),
            hosts: results
                .iter()
                .map(|r| crate::saved_plan::SavedHost { host: r.host.clone(), changes: r.changes.changes.len(), fingerprint: crate::saved_plan::fingerprint(&r.changes) })
                .collect(),
        }
        .write(path)?;
        eprintln!("saved the plan to {} (apply it with `lvsctl apply {}`)", path.display(), path.display());
    }
    let as_changes: Vec<HostChanges> = results.iter().filter(|r| r.error.is_none()).map(|r| r.changes.clone()).collect();
    let summary = Summary::of(&as_changes);
    if args.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            cluster: &'a str,
            offline: bool,
            hosts: Vec<HostView<'a>>,
            summary: Summary,
            unreachable: usize,
            /// Real servers drained with `lvsctl drain`: planned at weight 0.
            #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            drained: &'a std::collections::BTreeMap<String, crate::model::drained::DrainMark>,
        }
        let out = Out { cluster: &loaded.cluster.name, offline: args.offline, hosts: results.iter().map(HostResult::view).collect(), summary, unreachable: failed, drained: &drained };
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        serde_json::to_writer_pretty(&mut stdout, &out).expect("plan serializes");
        std::io::Write::write_all(&mut stdout, b"\n")
            .and_then(|_| std::io::Write::flush(&mut stdout))
            .map_err(|source| Error::Write { path: "<stdout>".into(), source })?;
    } else {
        for r in &results {
            print!("{}", report::host_block(&r.changes, &r.warnings, r.error.as_ref().map(|e| e as &dyn std::fmt::Display)));
        }
        for (host, m) in &drained {
            println!("{host}: drained (by {} at {}): planned at weight 0 on every director until `lvsctl undrain --real-server {host}`", m.by, m.at);
        }
        println!("{}", summary.line());
        if failed > 0 {
            println!("{failed} host(s) could not be inspected: the plan for them is unknown.");
        }
    }
    if failed > 0 {
        return Ok(exit::ERROR);
    }
    Ok(if args.detailed_exitcode && summary.total() > 0 { exit::CHANGES } else { exit::OK })
}
