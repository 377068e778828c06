//! `lvsctl history`: the generations lvsctl applied on each host.

use crate::apply::{self, history, history::HostGenerations};
use crate::report;
use crate::cli::HistoryArgs;
use crate::error::{Error, Result};
use crate::exit;
use crate::ssh::Target;

pub fn run(args: &HistoryArgs) -> Result<i32> {
    let hosts = super::load_inventory(&args.hosts.inventory, &args.hosts.limit)?;
    let targets: Vec<Target> = hosts.iter().map(Target::from_host).collect();
    let opts = super::options::apply_options(&args.hosts.ssh, None)?;
    let outputs = apply::run_on_all(&targets, |_| history::list_script(&Default::default()), &opts);
    let rows: Vec<HostGenerations> = targets
        .iter()
        .zip(outputs)
        .map(|(t, o)| match o.map_err(history::HistoryError::from).and_then(|out| history::parse_list(&out)) {
            Ok((current, generations)) => HostGenerations { host: t.name.clone(), current: Some(current), generations, error: None },
            Err(e) => HostGenerations { host: t.name.clone(), current: None, generations: Vec::new(), error: Some(e.to_string()) },
        })
        .collect();
    let failed = rows.iter().any(|r| r.error.is_some());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| Error::usage(e.to_string()))?);
    } else {
        print!("{}", report::history(&rows));
    }
    Ok(if failed { exit::ERROR } else { exit::OK })
}
