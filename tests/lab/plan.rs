//! Live `lvsctl plan` and `lvsctl status` against the lab of SSH hosts (tests/lab/lab.sh):
//! real sshd, real host keys, real kernel state in network namespaces. Needs root; in CI
//! these run and must pass (never skipped). Each test takes the lab exclusively and resets it.

use crate::common::*;

const MAIN: &str = "playbooks/dr-keepalived-router.yml";

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(o), stderr(o)))
}

/// A copy of the lab inventory in `dir` with absolute paths, its private-key setting replaced
/// by `key_line` (when given) and its known_hosts by a file holding `known_hosts` (when given).
fn lab_inventory(dir: &Scratch, key_line: Option<&str>, known_hosts: Option<&str>) -> String {
    let mut inv = std::fs::read_to_string(repo().join("inventories/lab.yml")).unwrap();
    if let Some(line) = key_line {
        inv = inv.replace("ansible_ssh_private_key_file: ../.lab/id_ed25519", line);
    }
    let kh = match known_hosts {
        Some(text) => {
            let kh = dir.path().join("known_hosts");
            std::fs::write(&kh, text).unwrap();
            kh
        }
        None => repo().join(".lab/known_hosts"),
    };
    let inv = inv.replace("../.lab/id_ed25519", repo().join(".lab/id_ed25519").to_str().unwrap()).replace("../.lab/known_hosts", kh.to_str().unwrap());
    let path = dir.path().join("inv.yml");
    std::fs::write(&path, inv).unwrap();
    path.to_str().unwrap().to_string()
}

fn inventory_with_known_hosts(dir: &Scratch, known_hosts: &str) -> String {
    lab_inventory(dir, None, Some(known_hosts))
}

#[test]
fn plan_on_a_fresh_lab_lists_every_change_with_one_exec_per_host() {
    if !root_or_skip("plan_on_a_fresh_lab_lists_every_change_with_one_exec_per_host") {
        return;
    }
    let lab = Lab::fresh();
    let before: Vec<usize> = LAB_HOSTS.iter().map(|(h, _)| lab.sshd_sessions(h)).collect();
    let o = run(&["plan", MAIN]);
    let after: Vec<usize> = LAB_HOSTS.iter().map(|(h, _)| lab.sshd_sessions(h)).collect();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for expected in [
        // nf_conntrack_max is already lvsctl's (lab.sh sets the runner's: read-only in a
        // namespace), so the router's one more change is its modules-load.d file.
        "gw (router): 5 change(s)",
        "lvs1 (master director): 6 change(s)",
        "lvs2 (backup director): 6 change(s)",
        "web1 (real server): 7 change(s)",
        "web2 (real server): 7 change(s)",
        "+ file create /etc/keepalived/keepalived.conf (mode 0640",
        "+ file create /etc/sysconfig/network-scripts/ifcfg-lo:0",
        "+ file create /etc/lvsctl/router-nat.rules",
        // Runtime drift read from the hosts' kernels, not assumed:
        "~ sysctl net.ipv4.conf.lo.arp_ignore 0 -> 1",
        "~ sysctl net.ipv4.conf.all.send_redirects 1 -> 0",
        "~ sysctl net.ipv4.ip_forward 0 -> 1",
        "+ addr 10.77.0.100/32 dev lo label lo:0",
        "~ service keepalived start",
        "Plan: 5 of 5 host(s) to change: 11 file(s) to create, 0 to update, 0 to delete; 20 runtime change(s).",
    ] {
        assert!(out.contains(expected), "missing `{expected}`:\n{out}");
    }
    // One round trip for the facts: sshd itself counted the execs of each host.
    for (i, (h, _)) in LAB_HOSTS.iter().enumerate() {
        let execs = after[i] - before[i];
        assert!((1..=2).contains(&execs), "{h}: {execs} remote execs during plan (at most 2 allowed)");
        assert_eq!(execs, 1, "{h}: the probe should be exactly one exec");
    }
    // --json parses and says the same.
    let o = run(&["plan", MAIN, "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v = json(&o);
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 5);
    for h in hosts {
        assert_eq!(h["reachable"], true, "{h}");
        assert_eq!(h["execs"], 1, "{h}");
        let line = format!("{} (", h["host"].as_str().unwrap());
        let n = h["changes"].as_array().unwrap().len();
        assert!(out.lines().any(|l| l.starts_with(&line) && l.ends_with(&format!("{n} change(s)"))), "{line} {n}");
    }
    assert_eq!(v["summary"]["files_create"], 11);
    assert_eq!(v["summary"]["runtime"], 20);
    let web1 = hosts.iter().find(|h| h["host"] == "web1").unwrap();
    assert!(web1["changes"].as_array().unwrap().iter().any(|c| c["kind"] == "sysctl" && c["key"] == "net.ipv4.conf.lo.arp_ignore" && c["from"] == "0" && c["to"] == "1"));
    assert!(!stdout(&o).contains("s3cret"), "secret in --json");
    // --detailed-exitcode: changes pending.
    assert_eq!(run(&["plan", MAIN, "--detailed-exitcode", "--limit", "web1"]).status.code(), Some(2));
}

#[test]
fn a_wrong_known_hosts_entry_stops_that_host_with_the_fingerprint() {
    if !root_or_skip("a_wrong_known_hosts_entry_stops_that_host_with_the_fingerprint") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("wrongkey");
    // web1 is recorded with lvs1's key.
    let known = std::fs::read_to_string(repo().join(".lab/known_hosts")).unwrap();
    let known: String = known
        .lines()
        .map(|l| if l.starts_with("10.77.0.21 ") { format!("10.77.0.21 {}\n", lab.host_key("lvs1")) } else { format!("{l}\n") })
        .collect();
    let inv = inventory_with_known_hosts(&dir, &known);
    let sessions = lab.sshd_sessions("web1");
    let o = run(&["plan", MAIN, "-i", &inv]);
    assert_eq!(o.status.code(), Some(1), "an unreachable host makes plan fail");
    let out = stdout(&o);
    let web1 = out.lines().find(|l| l.starts_with("web1 (")).unwrap();
    assert!(web1.contains("UNREACHABLE") && web1.contains("HOST KEY CHANGED") && web1.contains("SHA256:"), "{web1}");
    // The fingerprint shown is the one web1 really presents (per ssh-keygen).
    let fp = ssh_keygen_fingerprint(&lab.host_key("web1"));
    assert!(web1.contains(&fp), "{web1} lacks {fp}");
    // Stopped before authentication: sshd never started a session for it.
    assert_eq!(lab.sshd_sessions("web1"), sessions);
    // The other hosts were still planned.
    assert!(out.contains("web2 (real server): 7 change(s)"), "{out}");
    assert!(out.contains("1 host(s) could not be inspected"), "{out}");
}

fn ssh_keygen_fingerprint(key: &str) -> String {
    let dir = Scratch::new("fp");
    let f = dir.path().join("k.pub");
    std::fs::write(&f, format!("{key}\n")).unwrap();
    let o = std::process::Command::new("ssh-keygen").args(["-l", "-f", f.to_str().unwrap()]).output().unwrap();
    stdout(&o).split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn a_revoked_host_key_is_refused() {
    if !root_or_skip("a_revoked_host_key_is_refused") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("revoked");
    let known = std::fs::read_to_string(repo().join(".lab/known_hosts")).unwrap();
    let known = format!("{known}@revoked 10.77.0.22 {}\n", lab.host_key("web2"));
    let inv = inventory_with_known_hosts(&dir, &known);
    let o = run(&["plan", MAIN, "-i", &inv, "--limit", "web1,web2"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let web2 = out.lines().find(|l| l.starts_with("web2 (")).unwrap();
    assert!(web2.contains("REVOKED"), "{web2}");
    assert!(out.contains("web1 (real server): 7 change(s)"), "{out}");
}

#[test]
fn accept_new_host_keys_records_new_hosts_only() {
    if !root_or_skip("accept_new_host_keys_records_new_hosts_only") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("acceptnew");
    // Known: web1 with a WRONG key; nobody else.
    let inv = inventory_with_known_hosts(&dir, &format!("10.77.0.21 {}\n", lab.host_key("lvs1")));
    // Without the flag every unknown host is refused.
    let o = run(&["plan", MAIN, "-i", &inv, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    for h in v["hosts"].as_array().unwrap() {
        assert_eq!(h["reachable"], false, "{h}");
    }
    // With it, new hosts are recorded and planned; the changed key of web1 is still refused.
    let o = run(&["plan", MAIN, "-i", &inv, "--json", "--accept-new-host-keys"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    for h in v["hosts"].as_array().unwrap() {
        let expect = h["host"] != "web1";
        assert_eq!(h["reachable"], expect, "{h}");
    }
    let web1 = v["hosts"].as_array().unwrap().iter().find(|h| h["host"] == "web1").unwrap();
    assert!(web1["error"].as_str().unwrap().contains("HOST KEY CHANGED"), "{web1}");
    let recorded = std::fs::read_to_string(dir.path().join("known_hosts")).unwrap();
    for (h, ip) in LAB_HOSTS.iter().filter(|(h, _)| *h != "web1") {
        assert!(recorded.contains(&format!("{ip} {}", lab.host_key(h))), "{h} not recorded:\n{recorded}");
    }
    assert_eq!(recorded.lines().filter(|l| l.starts_with("10.77.0.21 ")).count(), 1, "web1's line must not change:\n{recorded}");
    // And the recorded keys are now trusted without the flag (web1 still refused).
    let o = run(&["plan", MAIN, "-i", &inv, "--json", "--limit", "gw,lvs1,lvs2,web2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn hand_made_drift_is_shown_by_plan_and_status() {
    if !root_or_skip("hand_made_drift_is_shown_by_plan_and_status") {
        return;
    }
    let lab = Lab::fresh();
    lab.converge_by_hand(MAIN);
    // Converged real servers and router: nothing to change there.
    let o = run(&["plan", MAIN, "--limit", "web1,web2,gw", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Drift by hand: edit keepalived.conf, flip arp_ignore, delete the lo VIP.
    lab.sh("lvs1", "sed -i 's/weight 1/weight 7/' /etc/keepalived/keepalived.conf");
    lab.sh("web1", "sysctl -q -w net.ipv4.conf.lo.arp_ignore=0");
    lab.sh("web2", "ip addr del 10.77.0.100/32 dev lo");
    let o = run(&["plan", MAIN]);
    let out = stdout(&o);
    assert!(out.contains("~ file update /etc/keepalived/keepalived.conf (+2 -2)"), "{out}");
    assert!(out.contains("-      weight 7") && out.contains("+      weight 1"), "{out}");
    assert!(out.contains("~ service keepalived"), "{out}");
    let web1 = &out[out.find("web1 (").unwrap()..out.find("web2 (").unwrap()];
    assert!(web1.contains("web1 (real server): 1 change(s)") && web1.contains("~ sysctl net.ipv4.conf.lo.arp_ignore 0 -> 1"), "{web1}");
    let web2 = &out[out.find("web2 (").unwrap()..];
    assert!(web2.contains("web2 (real server): 1 change(s)") && web2.contains("+ addr 10.77.0.100/32 dev lo label lo:0"), "{web2}");
    // status shows the same problems.
    let o = run(&["status", MAIN, "--json"]);
    assert_eq!(o.status.code(), Some(1), "a real server with a wrong VIP/ARP state is a failing status");
    let v = json(&o);
    let row = |h: &str| v.as_array().unwrap().iter().find(|r| r["host"] == h).unwrap().clone();
    assert_eq!(row("web1")["real_server_ok"], false);
    assert!(row("web1")["problems"].to_string().contains("net.ipv4.conf.lo.arp_ignore = 0 (want 1)"), "{}", row("web1"));
    assert_eq!(row("web2")["real_server_ok"], false);
    assert!(row("web2")["problems"].to_string().contains("VIP 10.77.0.100 missing on lo"), "{}", row("web2"));
    assert_eq!(row("lvs1")["drift"], true);
    assert_eq!(row("gw")["drift"], false);
    let table = stdout(&run(&["status", MAIN]));
    assert!(table.lines().any(|l| l.starts_with("web2 ") && l.contains("WRONG") && l.contains("missing on lo")), "{table}");
}

#[test]
fn an_unreachable_host_is_reported_and_the_others_planned() {
    if !root_or_skip("an_unreachable_host_is_reported_and_the_others_planned") {
        return;
    }
    let lab = Lab::fresh();
    // Stop web2's sshd: its address answers, nothing listens.
    lab.sh("web2", "kill $(cat /run/sshd.pid) >/dev/null 2>&1 &");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let o = run(&["plan", MAIN, "--connect-timeout", "3"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("web2 (") && l.contains("UNREACHABLE")), "{out}");
    assert!(out.contains("web1 (real server): 7 change(s)"), "{out}");
    assert!(out.contains("lvs1 (master director): 6 change(s)"), "{out}");
}

#[test]
fn a_sysctl_file_that_would_override_ours_at_boot_is_warned_about() {
    if !root_or_skip("a_sysctl_file_that_would_override_ours_at_boot_is_warned_about") {
        return;
    }
    let lab = Lab::fresh();
    lab.sh("web1", "printf 'net.ipv4.conf.all.arp_ignore = 0\\n' >> /etc/sysctl.conf");
    let o = run(&["plan", MAIN, "--limit", "web1"]);
    let out = stdout(&o);
    assert!(out.contains("warning: /etc/sysctl.conf sets net.ipv4.conf.all.arp_ignore = 0"), "{out}");
}

fn inventory_with_key(dir: &Scratch, key_line: &str) -> String {
    lab_inventory(dir, Some(key_line), None)
}

#[test]
fn an_encrypted_key_takes_its_passphrase_from_the_environment() {
    if !root_or_skip("an_encrypted_key_takes_its_passphrase_from_the_environment") {
        return;
    }
    let _lab = Lab::fresh();
    let dir = Scratch::new("enckey");
    let key = dir.path().join("id_enc");
    std::fs::copy(repo().join(".lab/id_ed25519"), &key).unwrap();
    let o = std::process::Command::new("ssh-keygen").args(["-q", "-p", "-N", "correct horse", "-f", key.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let inv = inventory_with_key(&dir, &format!("ansible_ssh_private_key_file: {}", key.display()));
    let args = ["plan", MAIN, "-i", inv.as_str(), "--limit", "web1"];
    let o = lvsctl().args(args).env("LVSCTL_SSH_PASSPHRASE", "correct horse").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("web1 (real server): 7 change(s)"));
    let o = lvsctl().args(args).env("LVSCTL_SSH_PASSPHRASE", "wrong").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("wrong passphrase"), "{}", stdout(&o));
    // No terminal and no variable: a clear message, not a hang.
    let o = lvsctl().args(args).env_remove("LVSCTL_SSH_PASSPHRASE").stdin(std::process::Stdio::null()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("the key is encrypted: set LVSCTL_SSH_PASSPHRASE"), "{}", stdout(&o));
}

#[test]
fn ssh_agent_keys_are_used_when_no_key_file_is_set() {
    if !root_or_skip("ssh_agent_keys_are_used_when_no_key_file_is_set") {
        return;
    }
    let _lab = Lab::fresh();
    let dir = Scratch::new("agent");
    let sock = dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent").args(["-D", "-a", sock.to_str().unwrap()]).stdout(std::process::Stdio::null()).spawn().unwrap();
    for _ in 0..50 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let add = std::process::Command::new("ssh-add").arg(repo().join(".lab/id_ed25519")).env("SSH_AUTH_SOCK", &sock).output().unwrap();
    assert!(add.status.success(), "{}", stderr(&add));
    let inv = inventory_with_key(&dir, "ansible_port: 22");
    let o = lvsctl().args(["plan", MAIN, "-i", &inv, "--limit", "web1"]).env("SSH_AUTH_SOCK", &sock).output().unwrap();
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("web1 (real server): 7 change(s)"));
    // Without the agent and without a key there is nothing to authenticate with.
    let o = lvsctl().args(["plan", MAIN, "-i", &inv, "--limit", "web1"]).env_remove("SSH_AUTH_SOCK").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("authentication as `root` failed"), "{}", stdout(&o));
}
