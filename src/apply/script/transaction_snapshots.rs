//! The transaction script of every host of every example playbook, as a fresh host gets it
//! (changes against `Facts::empty()`), compared with tests/transaction/snapshots/<playbook>/
//! <host>.sh: a change to `transaction` shows as a reviewable diff of what hosts will run,
//! call by call. To accept intended changes: `UPDATE_SNAPSHOTS=1 cargo test --lib
//! transaction_snapshots`, then review the diff before committing.
//!
//! The sh libraries are embedded whole and verbatim (checked here); a snapshot shows each as one
//! placeholder line, so it holds what this module generates, and a change to a library does not
//! rewrite every snapshot. Not under tests/snapshots/<playbook>/: `lvsctl render --check` takes
//! every directory there for a host.

use std::path::{Path, PathBuf};

use super::{transaction, TxnOptions, LIBRARY};
use crate::changes::compute;
use crate::facts::Facts;
use crate::plan::Secrets;
use crate::remote::Root;

const HOLDER: &str = "lvsctl apply by snapshot@test pid 1";

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transaction/snapshots")
}

/// The script with each sh library as one line naming it.
fn snapshot_text(script: &str) -> String {
    let mut text = script.to_string();
    for (lib, name) in [(crate::remote::LIBRARY, "src/remote/sh/lib.sh"), (crate::plan::persistence::RECOVER_LIBRARY, "src/remote/sh/recover.sh"), (LIBRARY, "src/remote/sh/transaction.sh")] {
        assert_eq!(text.matches(lib).count(), 1, "{name} is not embedded whole, once");
        text = text.replace(lib, &format!("# ({name}, embedded whole)\n"));
    }
    text
}

#[test]
fn every_example_host_s_transaction_matches_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let playbooks = crate::ipvs::testing::examples();
    let mut failures = Vec::new();
    let mut written = Vec::new();
    for playbook in &playbooks {
        let cluster = crate::ipvs::testing::example(playbook);
        let plans = crate::plan::build(&cluster, &crate::render::Templates::new(None).unwrap()).unwrap();
        let secrets = Secrets::of(&cluster);
        let dir = snapshot_dir().join(playbook.trim_end_matches(".yml"));
        for plan in &plans {
            let changes = compute(plan, &Facts::empty(), &secrets);
            let o = TxnOptions { holder: HOLDER, break_lock: false, root: Root::default(), barrier: false };
            let text = snapshot_text(&transaction(&changes, &o));
            assert_eq!(snapshot_text(&transaction(&changes, &o)), text, "{playbook} {}: the script is not deterministic", plan.host);
            let path = dir.join(format!("{}.sh", plan.host));
            written.push(path.clone());
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(old) if old == text => {}
                Ok(old) => {
                    let diff = similar::TextDiff::from_lines(&old, &text);
                    failures.push(format!("{}:\n{}", path.display(), diff.unified_diff().context_radius(2).header("snapshot", "generated")));
                }
                Err(_) => failures.push(format!("{}: no snapshot", path.display())),
            }
        }
    }
    // A snapshot of a host no example has any more.
    for entry in walk(&snapshot_dir()) {
        if !written.contains(&entry) {
            if update {
                std::fs::remove_file(&entry).unwrap();
            } else {
                failures.push(format!("{}: no such example host any more", entry.display()));
            }
        }
    }
    assert!(written.len() >= 38, "{} hosts", written.len());
    assert!(failures.is_empty(), "transaction scripts differ from their snapshots (UPDATE_SNAPSHOTS=1 cargo test --lib transaction_snapshots to accept, then review the diff):\n{}", failures.join("\n"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
