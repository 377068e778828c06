//! Puts the git commit into `lvsctl --version` (`LVSCTL_COMMIT`), "unknown" outside a git
//! checkout (a crate tarball). Re-runs only when HEAD moves: a branch switch rewrites HEAD,
//! a commit rewrites the branch's ref file.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=LVSCTL_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(branch) = std::fs::read_to_string(format!("{dir}/HEAD")).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string())) {
            // The loose ref file, where commits land (a missing one, packed away, would make
            // cargo re-run on every build: watch the packed refs instead then).
            let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or_else(|| dir.clone());
            let loose = format!("{common}/{branch}");
            let watched = if std::path::Path::new(&loose).exists() { loose } else { format!("{common}/packed-refs") };
            println!("cargo:rerun-if-changed={watched}");
        }
    }
}
