//! Hosts behind a bastion: the runner may reach only the jump host (`gw`, 10.77.0.2) on port
//! 22 (iptables on the runner rejects its connections to every other lab address), and lvsctl
//! reaches lvs1, lvs2, web1 and web2 through it: one TCP connection from the runner, every
//! host a direct-tcpip channel of it, host keys checked strictly for the jump host and for
//! each target.

use std::process::Command;

use crate::common::*;

/// A DR pair without the router: `gw` is only the bastion here.
const PAIR: &str = "playbooks/dr-keepalived-pair-http.yml";
const CHAIN: &str = "lvslab-bastion";

/// Only the bastion is reachable over SSH while this lives; counts the runner's connections to it.
struct OnlyTheBastion;

impl OnlyTheBastion {
    fn new() -> OnlyTheBastion {
        OnlyTheBastion::remove();
        for args in [
            vec!["-N", CHAIN],
            vec!["-A", CHAIN, "-p", "tcp", "--syn", "-d", "10.77.0.2", "--dport", "22", "-j", "RETURN"],
            vec!["-A", CHAIN, "-d", "10.77.0.2", "-j", "RETURN"],
            vec!["-A", CHAIN, "-p", "tcp", "-d", "10.77.0.0/24", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset"],
            vec!["-I", "OUTPUT", "-j", CHAIN],
        ] {
            let o = Command::new("iptables").args(&args).output().unwrap();
            assert!(o.status.success(), "iptables {args:?}: {}", stderr(&o));
        }
        OnlyTheBastion
    }

    fn remove() {
        let _ = Command::new("iptables").args(["-D", "OUTPUT", "-j", CHAIN]).output();
        let _ = Command::new("iptables").args(["-F", CHAIN]).output();
        let _ = Command::new("iptables").args(["-X", CHAIN]).output();
    }

    /// New TCP connections the runner opened to the bastion's port 22 since the last call.
    fn connections(&self) -> u64 {
        let o = Command::new("iptables").args(["-L", CHAIN, "-v", "-n", "-x", "-Z"]).output().unwrap();
        let out = stdout(&o);
        // The first rule (new connections to the bastion's port 22) counts them.
        let line = out.lines().find(|l| l.contains("RETURN") && l.contains("flags:")).unwrap_or_else(|| panic!("no counting rule:\n{out}"));
        line.split_whitespace().next().unwrap().parse().unwrap()
    }
}

impl Drop for OnlyTheBastion {
    fn drop(&mut self) {
        OnlyTheBastion::remove();
    }
}

/// The lab inventory (absolute paths) with `jump` added to every host's variables and the
/// known_hosts file `known_hosts` (default: the lab's).
fn inventory(dir: &Scratch, name: &str, jump: &str, known_hosts: Option<&str>) -> String {
    let kh = match known_hosts {
        Some(text) => {
            let p = dir.path().join(format!("{name}.known_hosts"));
            std::fs::write(&p, text).unwrap();
            p
        }
        None => repo().join(".lab/known_hosts"),
    };
    let inv = std::fs::read_to_string(repo().join("inventories/lab.yml")).unwrap();
    let inv = inv
        .replace("ansible_user: root,", &format!("ansible_user: root, {jump},"))
        .replace("../.lab/id_ed25519", repo().join(".lab/id_ed25519").to_str().unwrap())
        .replace("../.lab/known_hosts", kh.to_str().unwrap());
    let path = dir.path().join(format!("{name}.yml"));
    std::fs::write(&path, inv).unwrap();
    path.to_str().unwrap().to_string()
}

fn accepted_logins(host: &str) -> usize {
    let log = std::fs::read_to_string(format!("/run/lvslab/hosts/{host}/sshd.log")).unwrap_or_default();
    log.lines().filter(|l| l.contains("Accepted publickey")).count()
}

#[test]
fn plan_and_apply_reach_every_host_through_one_connection_to_the_bastion() {
    if !root_or_skip("plan_and_apply_reach_every_host_through_one_connection_to_the_bastion") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("bastion");
    let only = OnlyTheBastion::new();
    // The control: without the jump host, the hosts cannot be reached.
    let o = run(&["plan", PAIR, "-i", "inventories/lab.yml", "--connect-timeout", "3"]);
    assert_eq!(o.status.code(), Some(1), "the hosts are reachable without the bastion:\n{}{}", stdout(&o), stderr(&o));
    only.connections();
    // Ansible's way: ProxyJump in ansible_ssh_common_args.
    let inv = inventory(&dir, "common-args", r#"ansible_ssh_common_args: "-o ProxyJump=root@10.77.0.2""#, None);
    let o = run(&["plan", PAIR, "-i", &inv]);
    assert_eq!(o.status.code(), Some(0), "plan through the bastion:\n{}{}", stdout(&o), stderr(&o));
    for h in ["lvs1", "lvs2", "web1", "web2"] {
        assert!(stdout(&o).contains(&format!("{h} (")), "{h} missing from the plan:\n{}", stdout(&o));
    }
    assert_eq!(only.connections(), 1, "plan opened more than one TCP connection to the bastion");
    // lvsctl's own variable, and a whole apply.
    let inv = inventory(&dir, "lvsctl-var", "lvsctl_jump_host: 10.77.0.2", None);
    let o = run(&["apply", PAIR, "-i", &inv, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "apply through the bastion:\n{}{}", stdout(&o), stderr(&o));
    assert_eq!(only.connections(), 1, "apply opened more than one TCP connection to the bastion");
    let o = run(&["plan", PAIR, "-i", &inv, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "converged, seen through the bastion:\n{}{}", stdout(&o), stderr(&o));
    // What apply wrote, read directly (the runner may reach the hosts again).
    drop(only);
    assert!(lab.sh("lvs1", "cat /etc/keepalived/keepalived.conf").contains("HTTP_GET"));
}

#[test]
fn a_wrong_bastion_host_key_stops_every_host_before_authentication() {
    if !root_or_skip("a_wrong_bastion_host_key_stops_every_host_before_authentication") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("bastion-key");
    let _only = OnlyTheBastion::new();
    // known_hosts with the bastion's entry holding lvs1's key instead of gw's.
    let known = std::fs::read_to_string(repo().join(".lab/known_hosts")).unwrap();
    let wrong: String = known
        .lines()
        .map(|l| if l.split_whitespace().next() == Some("10.77.0.2") { format!("10.77.0.2 {}\n", lab.host_key("lvs1")) } else { format!("{l}\n") })
        .collect();
    assert_ne!(wrong, known);
    let inv = inventory(&dir, "wrong-key", "lvsctl_jump_host: 10.77.0.2", Some(&wrong));
    let before = accepted_logins("gw");
    let o = run(&["plan", PAIR, "-i", &inv]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for h in ["lvs1", "lvs2", "web1", "web2"] {
        let line = out.lines().find(|l| l.contains(&format!("{h} ")) && l.contains("through jump host 10.77.0.2:22"));
        assert!(line.is_some_and(|l| l.contains("HOST KEY CHANGED")), "{h} not stopped by the bastion's key:\n{out}");
    }
    assert_eq!(accepted_logins("gw"), before, "lvsctl authenticated to a bastion whose key changed");
}
