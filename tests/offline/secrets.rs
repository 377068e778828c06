//! The VRRP secret never appears in any output of the offline commands: stdout, stderr,
//! --json, diffs (even when the secret is what changed), error messages. The live commands,
//! and the files holding the secret on the hosts: tests/lab/secrets.rs.

use crate::common::secrets::{assert_clean, topology, OTHER, SECRET};
use crate::common::*;

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
