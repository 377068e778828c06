//! The systemd units lvsctl renders for persistence, checked by systemd itself: every unit of
//! every example host through `systemd-analyze verify` (unknown keys, bad ordering values,
//! an ExecStart that is not executable), which must print nothing. A unit with a typo proves
//! the check can fail. Needs systemd-analyze (package systemd): a failure under CI, a loud
//! skip elsewhere.

use super::common::{lvsctl, stderr, Scratch};
use std::path::Path;
use std::process::Command;

fn analyze(unit: &Path) -> (bool, String) {
    let o = Command::new("systemd-analyze").args(["verify", "--recursive-errors=no"]).arg(unit).env("SYSTEMD_LOG_LEVEL", "notice").output().expect("systemd-analyze");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn units_below(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            units_below(&p, out);
        } else if p.extension().is_some_and(|x| x == "service") {
            out.push(p);
        }
    }
}

#[test]
fn every_rendered_unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "systemd-analyze is missing under CI (apt-get install systemd)");
        eprintln!("SKIPPED every_rendered_unit_passes_systemd_analyze_verify: no systemd-analyze (apt-get install systemd)");
        return;
    }
    let dir = Scratch::new("units");
    let mut units = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for e in std::fs::read_dir(root.join("playbooks")).unwrap().flatten() {
        let pb = e.path();
        let out = dir.path().join(pb.file_stem().unwrap());
        let o = lvsctl().args(["render"]).arg(&pb).arg("--out").arg(&out).output().unwrap();
        assert!(o.status.success(), "render {}: {}", pb.display(), stderr(&o));
        units_below(&out, &mut units);
    }
    assert!(units.len() >= 30, "{} units", units.len());
    let mut problems = Vec::new();
    for u in &units {
        let (ok, text) = analyze(u);
        if !ok || !text.trim().is_empty() {
            problems.push(format!("{}:\n{text}", u.display()));
        }
    }
    assert!(problems.is_empty(), "systemd-analyze verify:\n{}", problems.join("\n"));
    // The check can fail: the same unit with a typo.
    let bad = dir.path().join("lvsctl-typo.service");
    let text = std::fs::read_to_string(&units[0]).unwrap().replace("RemainAfterExit=yes", "RemainAfterExits=yes");
    std::fs::write(&bad, text).unwrap();
    let (_, text) = analyze(&bad);
    assert!(text.contains("RemainAfterExits"), "a unit with a typo passed systemd-analyze verify: {text}");
}
