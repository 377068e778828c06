//! `lvsctl history`: the generations lvsctl applied on each host.

use crate::apply::{self, history};
use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::ssh::Target;

pub fn run(args: &HistoryArgs) -> Result<i32> {
    let hosts = super::load_inventory(&args.hosts.inventory, &args.hosts.limit)?;
    let targets: Vec<Target> = hosts.iter().map(Target::from_host).collect();
    let opts = super::options::apply_options(&args.hosts.ssh, None);
    let outputs = apply::run_on_all(&targets, |_| history::LIST_SCRIPT.to_string(), &opts);
    #[derive(serde::Serialize)]
    struct Row {
        host: String,
        current: Option<u64>,
        generations: Vec<history::Generation>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    }
    let rows: Vec<Row> = targets
        .iter()
        .zip(outputs)
        .map(|(t, o)| match o.and_then(|out| history::parse_list(&out)) {
            Ok((current, generations)) => Row { host: t.name.clone(), current: Some(current), generations, error: None },
            Err(e) => Row { host: t.name.clone(), current: None, generations: Vec::new(), error: Some(e) },
        })
        .collect();
    let failed = rows.iter().any(|r| r.error.is_some());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| Error::usage(e.to_string()))?);
    } else {
        for r in &rows {
            match (&r.error, r.generations.is_empty()) {
                (Some(e), _) => println!("{}: {} {e}", console::style(&r.host).bold(), console::style("UNREACHABLE:").red().bold()),
                (None, true) => println!("{}: no generations (lvsctl never applied here)", console::style(&r.host).bold()),
                (None, false) => {
                    println!("{}:", console::style(&r.host).bold());
                    for g in &r.generations {
                        let mark = if Some(g.number) == r.current { "*" } else { " " };
                        println!("  {mark} {:>4}  {:<12} {}  {}", g.number, g.status, g.time, g.holder);
                    }
                }
            }
        }
        println!("(* = the generation the host is at)");
    }
    Ok(if failed { exit::ERROR } else { exit::OK })
}
