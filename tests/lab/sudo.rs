//! Logging in as oneself and becoming root with sudo, as Ansible users do: every remote script
//! (probe, transaction, history, rollback) runs through a real sudo on the lab hosts. Two lab
//! users (tests/lab/lab.sh): `lvsops` may sudo without a password, `lvspass` must give one.

use crate::common::*;

const MAIN: &str = "playbooks/dr-keepalived-router.yml";
const HTTP: &str = "playbooks/dr-keepalived-pair-http.yml";
const SUDO_PASSWORD: &str = "lab-sudo-pw";

/// The lab inventory (absolute paths) logging in as `user` and becoming root, with `extra`
/// added to every host's variables.
fn inventory_as(dir: &Scratch, user: &str, extra: &str) -> String {
    let inv = std::fs::read_to_string(repo().join("inventories/lab.yml")).unwrap();
    let vars = format!("ansible_user: {user}, ansible_become: true{extra}, ansible_ssh_private_key_file");
    let inv = inv
        .replace("ansible_user: root, ansible_ssh_private_key_file", &vars)
        .replace("../.lab/id_ed25519", repo().join(".lab/id_ed25519").to_str().unwrap())
        .replace("../.lab/known_hosts", repo().join(".lab/known_hosts").to_str().unwrap());
    assert!(inv.contains(&format!("ansible_user: {user}")), "the lab inventory changed shape:\n{inv}");
    let path = dir.path().join(format!("{user}.yml"));
    std::fs::write(&path, inv).unwrap();
    path.to_str().unwrap().to_string()
}

fn no_password_in(o: &std::process::Output) {
    assert!(!stdout(o).contains(SUDO_PASSWORD) && !stderr(o).contains(SUDO_PASSWORD), "the sudo password was printed:\n{}{}", stdout(o), stderr(o));
}

#[test]
fn apply_and_rollback_run_through_sudo_as_a_non_root_user() {
    if !root_or_skip("apply_and_rollback_run_through_sudo_as_a_non_root_user") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("sudo-ops");
    let inv = inventory_as(&dir, "lvsops", "");
    // The user itself cannot touch what lvsctl manages: success below is sudo's doing.
    let o = lab.ssh("web1", "su -s /bin/sh lvsops -c 'touch /etc/sysctl.d/x' 2>&1; echo rc=$?");
    assert!(stdout(&o).contains("rc=1"), "lvsops can write /etc without sudo: {}", stdout(&o));
    let o = run(&["apply", MAIN, "-i", &inv, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "apply as lvsops through sudo:\n{}{}", stdout(&o), stderr(&o));
    let owner = lab.sh("lvs1", "stat -c '%U %a' /etc/keepalived/keepalived.conf");
    assert_eq!(owner.trim(), "root 640", "keepalived.conf written through sudo");
    let o = run(&["plan", MAIN, "-i", &inv, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "plan through sudo after apply:\n{}{}", stdout(&o), stderr(&o));
    // A second generation on the directors (another cluster's config), then back to the first.
    let o = run(&["apply", HTTP, "-i", &inv, "--limit", "lvs1,lvs2", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "second apply through sudo:\n{}{}", stdout(&o), stderr(&o));
    let o = run(&["rollback", "-i", &inv, "--limit", "lvs1,lvs2", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "rollback through sudo:\n{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("lvs1: generation 2 -> back to generation 1"), "{}", stdout(&o));
    assert!(!lab.sh("lvs1", "cat /etc/keepalived/keepalived.conf").contains("HTTP_GET"), "lvs1 not rolled back");
    let o = run(&["history", "-i", &inv, "--limit", "lvs1"]);
    assert_eq!(o.status.code(), Some(0), "history through sudo:\n{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("*    3"), "the rollback is generation 3, current:\n{}", stdout(&o));
}

#[test]
fn a_sudo_that_asks_for_a_password_fails_clearly_without_it_and_works_with_it() {
    if !root_or_skip("a_sudo_that_asks_for_a_password_fails_clearly_without_it_and_works_with_it") {
        return;
    }
    let _lab = Lab::fresh();
    let dir = Scratch::new("sudo-pass");
    // No password anywhere: a clear error naming the ways to give one, no hang.
    let inv = inventory_as(&dir, "lvspass", "");
    let o = lvsctl().args(["plan", MAIN, "-i", &inv, "--limit", "web1"]).env_remove("LVSCTL_BECOME_PASSWORD").stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(out.contains("needs a password for lvspass") && out.contains("ansible_become_password"), "{out}");
    // --ask-become-pass without a terminal says so instead of waiting.
    let o = lvsctl().args(["plan", MAIN, "-i", &inv, "--limit", "web1", "-K"]).env_remove("LVSCTL_BECOME_PASSWORD").stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--ask-become-pass needs a terminal"), "{}", stderr(&o));
    // A wrong password: refused, said so, never echoed.
    let o = lvsctl().args(["plan", MAIN, "-i", &inv, "--limit", "web1"]).env("LVSCTL_BECOME_PASSWORD", "not-it").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(format!("{}{}", stdout(&o), stderr(&o)).contains("refused the become password"), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("not-it") && !stderr(&o).contains("not-it"));
    // The password from the environment: plan works.
    let o = lvsctl().args(["plan", MAIN, "-i", &inv, "--limit", "web1"]).env("LVSCTL_BECOME_PASSWORD", SUDO_PASSWORD).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("web1 (real server)"), "{}", stdout(&o));
    no_password_in(&o);
    // From the inventory (`ansible_become_password`): a whole apply works, and neither its
    // output nor `lvsctl inventory` shows the password.
    let inv = inventory_as(&dir, "lvspass", &format!(", ansible_become_password: {SUDO_PASSWORD}"));
    let o = lvsctl().args(["apply", MAIN, "-i", &inv, "--yes"]).env_remove("LVSCTL_BECOME_PASSWORD").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "apply as lvspass with its sudo password:\n{}{}", stdout(&o), stderr(&o));
    no_password_in(&o);
    let o = run(&["inventory", "-i", &inv, "--limit", "lvs1"]);
    assert!(stdout(&o).contains("ansible_become_password") && stdout(&o).contains("\"********\""), "{}", stdout(&o));
    no_password_in(&o);
    // NOPASSWD user with a password set anyway: the password line never reaches the shell.
    let inv = inventory_as(&dir, "lvsops", &format!(", ansible_become_password: {SUDO_PASSWORD}"));
    let o = run(&["plan", MAIN, "-i", &inv, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    no_password_in(&o);
}
