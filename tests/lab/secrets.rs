//! The VRRP secret never appears in any output of the live commands (plan, saved plans, apply,
//! status, history, rollback), even when the secret is what changed; and on the hosts, every
//! file holding it (backups, generation records) is 0600 in 0700 directories. The offline
//! commands: tests/offline/secrets.rs.

use crate::common::secrets::{assert_clean, topology, OTHER, SECRET};
use crate::common::*;

#[test]
fn live_commands_never_print_the_secret_and_hosts_keep_it_private() {
    if !root_or_skip("live_commands_never_print_the_secret_and_hosts_keep_it_private") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("secrets-live");
    let t = topology(&dir, &format!("auth_pass: {SECRET}"));
    let t2 = topology(&dir, "auth_pass_env: LVSCTL_TEST_SECRET2");
    let saved = dir.path().join("plan.json");
    let mut outputs = vec![
        ("plan", run(&["plan", &t])),
        ("plan --json", run(&["plan", &t, "--json"])),
        ("plan --out", run(&["plan", &t, "--out", saved.to_str().unwrap()])),
        ("apply", run(&["apply", saved.to_str().unwrap(), "--yes"])),
    ];
    assert!(!std::fs::read_to_string(&saved).unwrap().contains(SECRET), "the saved plan holds the secret");
    // A second generation with another secret, then the usual commands.
    outputs.push(("apply (new secret)", lvsctl().args(["apply", &t2, "--yes", "--json"]).env("LVSCTL_TEST_SECRET2", OTHER).output().unwrap()));
    outputs.push(("status", run(&["status", &t, "--json"])));
    outputs.push(("history", run(&["history", "-i", "inventories/lab.yml"])));
    outputs.push(("rollback", run(&["rollback", "-i", "inventories/lab.yml", "--yes"])));
    for (what, o) in &outputs {
        assert!(o.status.code().is_some(), "{what} died");
        assert_clean(o, what);
    }
    // On the directors: every file that holds a secret is 0600 (the live config 0640 root),
    // in 0700 directories.
    for h in ["lvs1", "lvs2"] {
        let listing = lab.sh(h, &format!("grep -rlE '{SECRET}|{OTHER}' /var/lib/lvsctl /etc/keepalived | xargs stat -c '%a %U %n'"));
        assert!(listing.lines().count() >= 4, "{h}: expected the live config, backups and records:\n{listing}");
        for line in listing.lines() {
            let mode = line.split_whitespace().next().unwrap();
            let ok = if line.split_whitespace().nth(2) == Some("/etc/keepalived/keepalived.conf") { mode == "640" } else { mode == "600" };
            assert!(ok && line.contains(" root "), "{h}: {line}");
        }
        let dirs = lab.sh(h, "find /var/lib/lvsctl -type d -exec stat -c '%a %n' {} + | grep -v '^700 ' || true");
        assert!(dirs.trim().is_empty(), "{h}: directories not 0700:\n{dirs}");
    }
}
