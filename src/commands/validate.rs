//! `lvsctl validate`: every problem at once, exit 1 on any error. Several topologies (or a
//! directory of them) are each validated, then checked together for VRRP router ids that
//! clash (`crate::vrid`): the check only makes sense across clusters, so it runs only here.

use std::path::{Path, PathBuf};

use crate::cli::{Common, ValidateArgs};
use crate::diagnostic::Diagnostics;
use crate::error::{Error, Result};
use crate::exit;
use crate::report;
use crate::vrid;

pub fn run(args: &ValidateArgs) -> Result<i32> {
    let files = topology_files(&args.topologies)?;
    let templates = crate::render::Templates::new(args.templates.as_deref())?;
    let mut failed = 0;
    let mut sets = Vec::new();
    for file in &files {
        let common = Common { topology: file.clone(), inventory: args.inventory.clone(), templates: args.templates.clone() };
        let mut d = Diagnostics::default();
        let loaded = super::load_with(&common, &mut d);
        eprint!("{}", report::diagnostics(&d));
        let l = match loaded {
            Some(l) if !d.has_errors() => l,
            _ => {
                eprintln!("{}: {} error(s), {} warning(s)", file.display(), d.error_count().max(1), d.warning_count());
                failed += 1;
                continue;
            }
        };
        // Rendering is part of validity: a broken template override must fail here too.
        if let Err(e) = crate::plan::build(&l.cluster, &templates) {
            eprintln!("{} {}: {e}", console::style("error:").red().bold(), file.display());
            failed += 1;
            continue;
        }
        println!(
            "{}: ok: cluster `{}`, {} director(s), {} service(s), {} host(s), {} warning(s)",
            file.display(),
            l.cluster.name,
            l.cluster.directors.len(),
            l.cluster.services.len(),
            l.cluster.hosts.len(),
            d.warning_count()
        );
        sets.push((file.clone(), vrid::instances(&l.cluster, &l.topology, args.segment_prefix)));
    }
    let mut clashes = 0;
    if files.len() > 1 {
        let mut d = Diagnostics::default();
        clashes = vrid::check(&sets, &mut d);
        eprint!("{}", report::diagnostics(&d));
        let instances: usize = sets.iter().map(|(_, i)| i.len()).sum();
        let line = format!(
            "{} topologies: {} VRRP instance(s) of {} valid cluster(s) checked together (directors' networks /{}): {} router id clash(es)",
            files.len(),
            instances,
            sets.len(),
            args.segment_prefix,
            clashes
        );
        if clashes > 0 {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    Ok(if failed > 0 || clashes > 0 { exit::ERROR } else { exit::OK })
}

/// The topology files named: files as given, directories as their *.yml / *.yaml files in
/// name order (not recursive: a directory of playbooks, not a tree).
fn topology_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        let found = yaml_files(p).map_err(|e| Error::usage(format!("cannot read the directory {}: {e}", p.display())))?;
        if found.is_empty() {
            return Err(Error::usage(format!("{}: no *.yml or *.yaml topology in this directory", p.display())));
        }
        files.extend(found);
    }
    Ok(files)
}

fn yaml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
