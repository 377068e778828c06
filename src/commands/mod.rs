//! One function per subcommand: run the pipeline stages it needs and hand results to
//! `report`. Commands return exit codes (see `crate::exit`); they print, nothing else does.

mod apply;
mod completions;
mod drain;
mod drained;
mod history;
mod import;
mod inventory;
mod man;
mod options;
mod plan;
mod render;
mod rollback;
mod status;
mod validate;

use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command, Common};
use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::error::Error;
use crate::exit;
use crate::inventory::Inventory;
use crate::model::Cluster;
use crate::report;
use crate::topology::Topology;

pub fn run(cli: Cli) -> i32 {
    match cli.color {
        ColorChoice::Always => console::set_colors_enabled(true),
        ColorChoice::Never => console::set_colors_enabled(false),
        ColorChoice::Auto => {}
    }
    let result = match &cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Render(args) => render::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Status(args) => status::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Drain(args) => drain::run(args, true),
        Command::Undrain(args) => drain::run(args, false),
        Command::Rollback(args) => rollback::run(args),
        Command::History(args) => history::run(args),
        Command::Inventory(args) => inventory::run(args),
        Command::Import(args) => import::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Every error's message already names its cause.
            eprintln!("{} {e}", console::style("error:").red().bold());
            exit::ERROR
        }
    }
}

/// Ask `question` on a terminal; without one, refuse (`--yes` is how scripts and CI say yes).
pub fn confirm(question: &str, action: &str) -> Result<bool, Error> {
    if !console::Term::stdout().is_term() || !console::user_attended() {
        return Err(Error::usage(format!("refusing to {action} without confirmation: stdin is not a terminal (pass --yes)")));
    }
    print!("{question} [y/N] ");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| Error::usage(e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

/// A validated cluster with the inventory path it came from.
pub struct Loaded {
    pub cluster: Cluster,
    pub topology: Topology,
    pub inventory_path: PathBuf,
}

/// Read topology and inventory, validate, print every diagnostic to stderr. Returns the
/// cluster, or `Error::Invalid` when there was any error.
pub fn load(args: &Common) -> Result<Loaded, Error> {
    let mut d = Diagnostics::default();
    let loaded = load_with(args, &mut d);
    eprint!("{}", report::diagnostics(&d));
    match loaded {
        Some(l) if !d.has_errors() => Ok(l),
        _ => Err(Error::Invalid { errors: d.error_count().max(1) }),
    }
}

/// Read just an inventory (rollback and history need no topology); `--limit` applied.
pub fn load_inventory(path: &std::path::Path, limit: &[String]) -> Result<Vec<crate::inventory::Host>, Error> {
    let mut d = Diagnostics::default();
    let inv = Inventory::load(path, &mut d);
    eprint!("{}", report::diagnostics(&d));
    let Some(inv) = inv.filter(|_| !d.has_errors()) else { return Err(Error::Invalid { errors: d.error_count().max(1) }) };
    if let Some(unknown) = limit.iter().find(|h| inv.get(h).is_none()) {
        return Err(Error::usage(format!("--limit: `{unknown}` is not in the inventory")));
    }
    Ok(inv.hosts.into_values().filter(|h| limit.is_empty() || limit.contains(&h.name)).collect())
}

pub fn load_with(args: &Common, d: &mut Diagnostics) -> Option<Loaded> {
    let topology = Topology::load(&args.topology, d)?;
    let inventory_path = match (&args.inventory, &topology.inventory) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => p.value.clone(),
        (None, None) => {
            d.error(Span::new(&args.topology, Pos::default()), "no inventory given")
                .hint("pass `-i INVENTORY`, or set `inventory:` in the topology");
            return None;
        }
    };
    let inventory = Inventory::load(&inventory_path, d)?;
    let cluster = Cluster::build(&topology, &inventory, d)?;
    Some(Loaded { cluster, topology, inventory_path })
}
