//! `lvsctl import`: keepalived.conf files + inventory -> a topology (`crate::import`), then the
//! topology checked the way `validate` checks one, so what is written is known to load.
//! Exit 1 when anything could not be expressed (the topology is still written, headed by what
//! it leaves out) or the result does not validate.

use std::path::{Component, Path, PathBuf};

use crate::cli::ImportArgs;
use crate::diagnostic::Diagnostics;
use crate::error::{Error, Result};
use crate::exit;
use crate::import::{self, Source};
use crate::inventory::Inventory;
use crate::model::Cluster;
use crate::report;
use crate::topology::Topology;

pub fn run(args: &ImportArgs) -> Result<i32> {
    let mut d = Diagnostics::default();
    let Some(inv) = Inventory::load(&args.inventory, &mut d).filter(|_| !d.has_errors()) else {
        eprint!("{}", report::diagnostics(&d));
        return Ok(exit::ERROR);
    };
    let sources: Vec<Source> = args.files.iter().map(|f| Source::parse(f)).collect();
    let confs = import::read(&sources, &inv, &mut d);
    let cluster = args.cluster.clone().unwrap_or_else(|| {
        args.out.as_deref().and_then(Path::file_stem).map_or("imported".into(), |s| s.to_string_lossy().into_owned())
    });
    let inventory_ref = match &args.out {
        Some(out) => relative(&args.inventory, out.parent().unwrap_or(Path::new("."))),
        None => args.inventory.display().to_string(),
    };
    let yaml = import::topology(&confs, &inv, &inventory_ref, &cluster, &mut d);
    eprint!("{}", report::diagnostics(&d));
    let Some(mut yaml) = yaml else {
        eprintln!("import: no keepalived.conf could be read: nothing written");
        return Ok(exit::ERROR);
    };
    let lost = d.error_count();
    if lost > 0 {
        yaml.insert_str(0, &format!("# NOT EQUIVALENT: {lost} thing(s) of the original are not expressed (lvsctl import printed each at file:line).\n"));
    }
    let written = match &args.out {
        Some(out) => {
            write_private(out, &yaml).map_err(|e| Error::usage(format!("cannot write {}: {e}", out.display())))?;
            out.clone()
        }
        None => {
            print!("{yaml}");
            // Checked from a private temporary copy beside nothing: the inventory path is as given.
            let tmp = std::env::temp_dir().join(format!("lvsctl-import-{}.yml", std::process::id()));
            write_private(&tmp, &yaml).map_err(|e| Error::usage(format!("cannot write {}: {e}", tmp.display())))?;
            tmp
        }
    };
    // The result must load: the same checks as `lvsctl validate`.
    let mut v = Diagnostics::default();
    let ok = Topology::load(&written, &mut v).and_then(|t| Inventory::load(&args.inventory, &mut v).and_then(|i| Cluster::build(&t, &i, &mut v))).is_some() && !v.has_errors();
    if args.out.is_none() {
        let _ = std::fs::remove_file(&written);
    }
    let shown = args.out.as_deref().map_or("the imported topology".to_string(), |p| p.display().to_string());
    if !ok {
        eprint!("{}", report::diagnostics(&v));
        eprintln!("import: {shown} does not validate ({} error(s))", v.error_count().max(1));
        return Ok(exit::ERROR);
    }
    eprintln!(
        "import: {shown}: {} director(s), {} error(s) (not expressed), {} warning(s); it validates",
        confs.len(),
        lost,
        d.warning_count()
    );
    Ok(if lost > 0 { exit::ERROR } else { exit::OK })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

/// `target` as a path relative to the directory `from` (both made absolute first).
fn relative(target: &Path, from: &Path) -> String {
    let abs = |p: &Path| -> PathBuf {
        let p = if p.as_os_str().is_empty() { Path::new(".") } else { p };
        std::fs::canonicalize(p).unwrap_or_else(|_| std::env::current_dir().unwrap_or_default().join(p))
    };
    let (t, f) = (abs(target), abs(from));
    let (tc, fc): (Vec<Component>, Vec<Component>) = (t.components().collect(), f.components().collect());
    let common = tc.iter().zip(&fc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..fc.len() {
        out.push("..");
    }
    for c in &tc[common..] {
        out.push(c.as_os_str());
    }
    out.display().to_string()
}
