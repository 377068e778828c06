//! The VRRP secret never appears in any output of any command: stdout, stderr, --json, saved
//! plans, diffs (even when the secret is what changed), error messages; and on the hosts,
//! every file holding it (backups, generation records) is 0600 in 0700 directories.

mod common;

use common::*;

const SECRET: &str = "Xk7pQ2vw";
const OTHER: &str = "Pz4mN8rt";

fn topology(dir: &Scratch, pass_line: &str) -> String {
    let text = std::fs::read_to_string(repo().join("playbooks/dr-keepalived-router.yml")).unwrap();
    let text = text.replace("auth_pass: s3cret", pass_line).replace("../inventories/lab.yml", repo().join("inventories/lab.yml").to_str().unwrap());
    let path = dir.path().join(format!("t{}.yml", pass_line.len()));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn assert_clean(o: &std::process::Output, what: &str) {
    for s in [SECRET, OTHER] {
        assert!(!stdout(o).contains(s) && !stderr(o).contains(s), "{what} printed a secret:\n{}\n{}", stdout(o), stderr(o));
    }
}

#[test]
fn offline_commands_never_print_the_secret() {
    let dir = Scratch::new("secrets");
    let t = topology(&dir, &format!("auth_pass: {SECRET}"));
    let out = dir.path().join("r");
    let o = out.to_str().unwrap();
    let mut outputs = vec![
        ("validate", run(&["validate", &t])),
        ("render --out", run(&["render", &t, "--out", o])),
        ("plan --offline", run(&["plan", &t, "--offline"])),
        ("plan --offline --json", run(&["plan", &t, "--offline", "--json"])),
    ];
    // The rendered file holds it (it is the config), readable by root only.
    let conf = out.join("lvs1/etc/keepalived/keepalived.conf");
    assert!(std::fs::read_to_string(&conf).unwrap().contains(SECRET));
    // A hand-edited secret: the diff says it changed, and shows neither value.
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace(SECRET, OTHER)).unwrap();
    let check = run(&["render", &t, "--check", o]);
    assert!(stdout(&check).contains("secret value changed (masked)"), "{}", stdout(&check));
    outputs.push(("render --check", check));
    outputs.push(("plan --against", run(&["plan", &t, "--offline", "--against", o])));
    outputs.push(("plan --against --json", run(&["plan", &t, "--offline", "--against", o, "--json"])));
    // Error paths: too long, unsafe, and from the environment.
    let long = topology(&dir, &format!("auth_pass: {SECRET}{OTHER}"));
    outputs.push(("validate (too long)", run(&["validate", &long])));
    let unsafe_ = topology(&dir, &format!("auth_pass: \"{}#\"", &SECRET[..6]));
    let o2 = run(&["validate", &unsafe_]);
    assert!(!stderr(&o2).contains(&SECRET[..6]), "{}", stderr(&o2));
    let env = topology(&dir, "auth_pass_env: LVSCTL_TEST_SECRET");
    outputs.push(("plan (auth_pass_env)", lvsctl().args(["plan", &env, "--offline"]).env("LVSCTL_TEST_SECRET", SECRET).output().unwrap()));
    outputs.push(("validate (env too long)", lvsctl().args(["validate", &env]).env("LVSCTL_TEST_SECRET", format!("{SECRET}{OTHER}")).output().unwrap()));
    for (what, o) in &outputs {
        assert_clean(o, what);
    }
}

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
