//! `lvsctl validate`: every problem at once, exit 1 on any error.

use crate::cli::Common;
use crate::diagnostic::Diagnostics;
use crate::error::Result;
use crate::exit;
use crate::report;

pub fn run(args: &Common) -> Result<i32> {
    let mut d = Diagnostics::default();
    let loaded = super::load_with(args, &mut d);
    eprint!("{}", report::diagnostics(&d));
    if d.has_errors() || loaded.is_none() {
        eprintln!("{}: {} error(s), {} warning(s)", args.topology.display(), d.error_count().max(1), d.warning_count());
        return Ok(exit::ERROR);
    }
    let l = loaded.expect("checked above");
    // Rendering is part of validity: a broken template override must fail here too.
    let templates = crate::render::Templates::new(args.templates.as_deref())?;
    crate::plan::build(&l.cluster, &templates)?;
    println!(
        "{}: ok: cluster `{}`, {} director(s), {} service(s), {} host(s), {} warning(s)",
        args.topology.display(),
        l.cluster.name,
        l.cluster.directors.len(),
        l.cluster.services.len(),
        l.cluster.hosts.len(),
        d.warning_count()
    );
    Ok(exit::OK)
}
