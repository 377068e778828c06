//! `lvsctl render`: write each host's files under DIR/<host>/<absolute path>, or check that
//! DIR holds exactly that (`--check`, the CI dry-run diff: exit 2 with a diff when not).
//!
//! `--out` makes DIR match the render: files the topology no longer produces are removed. To
//! never delete anything that is not ours, it writes only into an empty directory or one
//! holding the `.lvsctl-render` marker of an earlier render.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cli::RenderArgs;
use crate::diff::unified;
use crate::error::{Error, Result};
use crate::exit;
use crate::facts::Facts;
use crate::plan::{self, HostPlan, Secrets};
use crate::render::Templates;
use crate::report;

pub const MARKER: &str = ".lvsctl-render";

pub fn run(args: &RenderArgs) -> Result<i32> {
    let loaded = super::load(&args.common)?;
    let templates = Templates::new(args.common.templates.as_deref())?;
    let plans = plan::build(&loaded.cluster, &templates)?;
    let secrets = Secrets::of(&loaded.cluster);
    if let Some(dir) = &args.check {
        return check(dir, &plans, &secrets);
    }
    let dir = args.out.as_ref().expect("clap requires --out or --check");
    let written = write(dir, &plans, &loaded.cluster.name)?;
    println!("wrote {written} file(s) for {} host(s) under {}", plans.len(), dir.display());
    Ok(exit::OK)
}

fn write(dir: &Path, plans: &[HostPlan], cluster: &str) -> Result<usize> {
    let marker = dir.join(MARKER);
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.into(), source })?.next().is_some();
        if non_empty && !marker.exists() {
            return Err(Error::usage(format!(
                "`{}` is not empty and was not written by `lvsctl render`; refusing to write into it (choose an empty or new directory)",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(&marker, format!("rendered by lvsctl for cluster {cluster}\n")).map_err(io(&marker))?;
    let mut written = 0;
    let planned_hosts: BTreeSet<&str> = plans.iter().map(|p| p.host.as_str()).collect();
    // Hosts of an earlier render that the topology dropped.
    for entry in std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.into(), source })?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !planned_hosts.contains(name.as_str()) {
            std::fs::remove_dir_all(entry.path()).map_err(io(&entry.path()))?;
        }
    }
    // Hosts are independent: write them on every core (file creation dominates a large render).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = plans.len().div_ceil(threads).max(1);
    let results: Vec<Result<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = plans.chunks(chunk).map(|part| s.spawn(move || write_hosts(dir, part))).collect();
        handles.into_iter().map(|h| h.join().expect("render thread panicked")).collect()
    });
    for r in results {
        written += r?;
    }
    Ok(written)
}

/// Write the files of `plans` under `dir/<host>/`, removing files of an earlier render that
/// the plan no longer has. Files are created 0600 and then given their mode, so a secret
/// is never readable by others, whatever the umask.
fn write_hosts(dir: &Path, plans: &[HostPlan]) -> Result<usize> {
    use std::io::Write;
    let mut written = 0;
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    for p in plans {
        let root = dir.join(&p.host);
        if root.exists() {
            let planned: BTreeSet<PathBuf> = p.files.iter().map(|f| host_path(&root, &f.path)).collect();
            for old in list_files(&root) {
                if !planned.contains(&old) {
                    std::fs::remove_file(&old).map_err(io(&old))?;
                }
            }
        }
        for f in &p.files {
            let path = host_path(&root, &f.path);
            if let Some(parent) = path.parent() {
                if !made.contains(parent) {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                    made.insert(parent.to_path_buf());
                }
            }
            let mut file = open_private(&path).map_err(io(&path))?;
            file.write_all(f.content.as_bytes()).map_err(io(&path))?;
            set_mode(&file, f.mode).map_err(io(&path))?;
            written += 1;
        }
    }
    Ok(written)
}

fn check(dir: &Path, plans: &[HostPlan], secrets: &Secrets) -> Result<i32> {
    if !dir.is_dir() {
        return Err(Error::usage(format!("`{}` is not a directory", dir.display())));
    }
    let mut out = String::new();
    let mut differences = 0;
    for p in plans {
        let facts = Facts::from_render_dir(dir, &p.host)?;
        for f in &p.files {
            match facts.files.get(&f.path) {
                Some(old) if old.content == f.content => continue,
                Some(old) => out.push_str(&unified(&format!("/{}{}", p.host, f.path), &old.content, &f.content, false, false, secrets)),
                None => out.push_str(&unified(&format!("/{}{}", p.host, f.path), "", &f.content, true, false, secrets)),
            }
            differences += 1;
        }
        for path in &facts.manifest.files {
            if p.file(path).is_none() {
                let old = &facts.files[path].content;
                out.push_str(&unified(&format!("/{}{path}", p.host), old, "", false, true, secrets));
                differences += 1;
            }
        }
    }
    let planned: BTreeSet<&str> = plans.iter().map(|p| p.host.as_str()).collect();
    for entry in std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.into(), source })?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !planned.contains(name.as_str()) {
            out.push_str(&format!("Only in {}: {name} (a host the topology no longer has)\n", dir.display()));
            differences += 1;
        }
    }
    if differences == 0 {
        println!("{} matches the topology ({} host(s))", dir.display(), plans.len());
        return Ok(exit::OK);
    }
    print!("{}", report::colored_diff(&out, ""));
    eprintln!("{} differs from the topology: {differences} file(s)", dir.display());
    Ok(exit::CHANGES)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write { path: path.to_path_buf(), source }
}

fn host_path(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

fn list_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File, _: u32) -> std::io::Result<()> {
    Ok(())
}
