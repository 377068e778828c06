//! The VRRP secrets the secret tests plant, and the check that no output shows them: shared by
//! the offline commands' test (tests/offline/secrets.rs) and the live commands' (tests/lab/).

use super::{repo, stderr, stdout, Scratch};

/// The secret in the topology.
pub const SECRET: &str = "Xk7pQ2vw";
/// The one a second generation (or a hand edit) brings.
pub const OTHER: &str = "Pz4mN8rt";

/// The main example playbook with `pass_line` in place of its `auth_pass` line, written to
/// `dir`; returns its path.
pub fn topology(dir: &Scratch, pass_line: &str) -> String {
    let text = std::fs::read_to_string(repo().join("playbooks/dr-keepalived-router.yml")).unwrap();
    let text = text.replace("auth_pass: s3cret", pass_line).replace("../inventories/lab.yml", repo().join("inventories/lab.yml").to_str().unwrap());
    let path = dir.path().join(format!("t{}.yml", pass_line.len()));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Neither secret in the command's stdout or stderr.
pub fn assert_clean(o: &std::process::Output, what: &str) {
    for s in [SECRET, OTHER] {
        assert!(!stdout(o).contains(s) && !stderr(o).contains(s), "{what} printed a secret:\n{}\n{}", stdout(o), stderr(o));
    }
}
