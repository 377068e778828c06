//! Every remote script through shellcheck: the sh libraries as files, and the scripts lvsctl
//! generates from them for each example playbook's hosts (probe, transaction, history,
//! record fetch), as POSIX sh. Without shellcheck the test fails under CI and says so loudly
//! elsewhere (`.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::apply::{history, script};
use crate::changes::compute;
use crate::facts::Facts;
use crate::plan::{self, Secrets};
use crate::render::Templates;

fn shellcheck() -> Option<PathBuf> {
    let found = Command::new("shellcheck").arg("--version").output().is_ok_and(|o| o.status.success());
    if found {
        return Some("shellcheck".into());
    }
    assert!(std::env::var_os("CI").is_none() && std::env::var_os("LVSCTL_REQUIRE_ROOT").is_none(), "shellcheck is not installed (CI must have it: .ci/run installs it)");
    eprintln!("\n!!! SKIPPED: shellcheck is not installed; the remote scripts were NOT linted (apt-get install shellcheck)\n");
    None
}

/// shellcheck over `scripts` (name, text) in one run (it starts slowly); its report, if any.
fn check(sc: &Path, scripts: &[(String, String)]) -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/shellcheck");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("target/tmp writable");
    let mut paths = Vec::new();
    for (i, (name, text)) in scripts.iter().enumerate() {
        let file = dir.join(format!("{i:03}-{}.sh", name.replace(['/', ' '], "_")));
        std::fs::write(&file, text).expect("write script");
        paths.push(file);
    }
    let out = Command::new(sc).args(["-s", "sh", "-S", "info"]).args(&paths).output().expect("shellcheck runs");
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `.sh` files below src/, each as a whole.
fn sh_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            sh_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "sh") {
            out.push(p);
        }
    }
}

#[test]
fn every_remote_script_passes_shellcheck() {
    let Some(sc) = shellcheck() else { return };
    let mut scripts: Vec<(String, String)> = Vec::new();
    let mut files = Vec::new();
    sh_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        scripts.push((f.file_name().expect("name").to_string_lossy().into_owned(), std::fs::read_to_string(f).expect("read sh file")));
    }
    // Generated scripts: the libraries are checked above, so each is checked with them
    // replaced by the names they define (shellcheck takes ~0.6 s per whole transaction);
    // the first of each kind whole.
    let templates = Templates::new(None).expect("templates");
    let mut whole = std::collections::BTreeSet::new();
    let libs = [crate::remote::LIBRARY, crate::plan::persistence::RECOVER_LIBRARY, script::LIBRARY];
    for playbook in crate::ipvs::testing::examples() {
        let cluster = crate::ipvs::testing::example(&playbook);
        for p in plan::build(&cluster, &templates).expect("plan") {
            let changes = compute(&p, &Facts::empty(), &Secrets::of(&cluster));
            let mut txn = script::transaction(&changes, &script::TxnOptions { holder: "test", break_lock: false, root: Default::default(), barrier: true });
            if !whole.insert("transaction") {
                for lib in libs {
                    txn = txn.replace(lib, "# (library checked on its own; it reads these)\n: \"$S\" \"$HOLDER\" \"$BREAK_LOCK\"\n");
                }
            }
            scripts.push((format!("{playbook}-{}-transaction", p.host), txn));
            if let Some(boot) = p.file(crate::plan::persistence::BOOT_SCRIPT) {
                scripts.push((format!("{playbook}-{}-boot.sh", p.host), boot.content.clone()));
            }
            let probe = crate::probe::script(&crate::probe::ProbeRequest::for_plan(&p));
            scripts.push((format!("{playbook}-{}-probe", p.host), probe));
        }
    }
    scripts.push(("history".into(), history::list_script(&Default::default())));
    scripts.push(("fetch".into(), history::fetch_script(3, &Default::default())));
    assert!(scripts.len() > 40, "{}", scripts.len());
    if let Some(report) = check(&sc, &scripts) {
        panic!("shellcheck found problems (scripts in target/tmp/shellcheck/):\n{report}");
    }
}
