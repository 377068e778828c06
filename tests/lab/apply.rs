//! `lvsctl apply`, `rollback` and `history` against the lab: real sshd, real keepalived
//! (VRRP only: this kernel has no IPVS, so virtual_server tables are parsed by keepalived -t
//! but never programmed), real ARP, real iptables. Each fault test ends by proving the host
//! is exactly as it was (a snapshot of its files, sysctls, addresses, routes, rules and
//! keepalived pid) and that a re-run converges.

use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

const MAIN: &str = "playbooks/dr-keepalived-router.yml";
const HTTP: &str = "playbooks/dr-keepalived-pair-http.yml";

fn apply(args: &[&str]) -> std::process::Output {
    let mut a = vec!["apply"];
    a.extend_from_slice(args);
    a.push("--yes");
    run(&a)
}

/// A host's row in apply's final "Result:" table.
fn result_row(out: &str, host: &str) -> String {
    let result = out.split("\nResult:\n").nth(1).unwrap_or_else(|| panic!("no Result section in:\n{out}"));
    result.lines().find(|l| l.trim_start().starts_with(&format!("{host} "))).unwrap_or_else(|| panic!("no row for {host} in:\n{result}")).to_string()
}

fn note_no_ipvs() {
    eprintln!("NOTE: this kernel has no IPVS: keepalived runs VRRP-only (-P) in the lab; VIP failover, ARP, files, sysctls and iptables are real, the IPVS table is not.");
}

fn mac_of(lab: &Lab, host: &str) -> String {
    lab.sh(host, "cat /sys/class/net/eth0/address").trim().to_uppercase()
}

/// arping the VIP from gw: the MACs that answered.
fn arp_repliers(lab: &Lab) -> Vec<String> {
    let o = lab.ssh("gw", "arping -c 3 -w 4 -I eth0 10.77.0.100");
    stdout(&o).lines().filter(|l| l.contains("reply from")).filter_map(|l| l.split('[').nth(1)).map(|m| m.trim_end_matches(|c| c != ']').trim_end_matches(']').to_uppercase()).collect()
}

fn holder_of_vip(lab: &Lab) -> Vec<&'static str> {
    ["lvs1", "lvs2"].into_iter().filter(|h| lab.sh(h, "ip -o -4 addr show dev eth0").contains("10.77.0.100/32")).collect()
}

/// keepalived starts in BACKUP and lvs1 (the highest priority) becomes MASTER adverts later:
/// snapshots wait for that, or the VIP appearing on lvs1 reads as a change made in between.
fn vrrp_settled(lab: &Lab) {
    wait_for("lvs1 to hold the VIP alone", Duration::from_secs(20), || (holder_of_vip(lab) == ["lvs1"]).then_some(()));
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn apply_builds_the_cluster_and_vrrp_fails_over() {
    if !root_or_skip("apply_builds_the_cluster_and_vrrp_fails_over") {
        return;
    }
    note_no_ipvs();
    let lab = Lab::fresh();
    let o = apply(&[MAIN]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    // Stage order: real servers, BACKUP, MASTER, router.
    let pos = |s: &str| err.find(s).unwrap_or_else(|| panic!("no `{s}` in:\n{err}"));
    assert!(pos("== real servers") < pos("== BACKUP directors") && pos("== BACKUP directors") < pos("== MASTER director") && pos("== MASTER director") < pos("== router"), "{err}");
    for step in ["web1: lock", "web1: backup 1", "web1: validate", "web1: activate", "web1: verify", "lvs2: validate"] {
        assert!(err.contains(step), "missing `{step}`:\n{err}");
    }
    // Files in place, on each host only.
    assert!(lab.sh("lvs1", "cat /etc/keepalived/keepalived.conf").contains("state MASTER"));
    assert!(lab.sh("lvs2", "cat /etc/keepalived/keepalived.conf").contains("state BACKUP"));
    assert_eq!(lab.sh("lvs1", "stat -c %a /etc/keepalived/keepalived.conf").trim(), "640");
    assert!(lab.sh("web1", "cat /etc/sysconfig/network-scripts/ifcfg-lo:0").contains("NETMASK=255.255.255.255"));
    assert!(lab.ssh("web1", "test -e /etc/keepalived/keepalived.conf").status.code() == Some(1));
    // Generation records and backups are private.
    assert_eq!(lab.sh("lvs1", "stat -c %a /var/lib/lvsctl/generations/1/record.json /var/lib/lvsctl/generations/1").split_whitespace().collect::<Vec<_>>(), ["600", "700"]);
    // Router rules present.
    assert!(lab.sh("gw", "iptables -t nat -S").contains("-A LVSCTL-PREROUTING -d 10.77.9.2/32 -p tcp -m tcp --dport 80"), "router rules missing");
    // keepalived runs VRRP on both directors; the VIP sits on the MASTER.
    for d in ["lvs1", "lvs2"] {
        assert!(lab.ssh(d, "kill -0 $(cat /run/keepalived.pid)").status.success(), "keepalived not running on {d}");
    }
    wait_for("the VIP on lvs1", Duration::from_secs(8), || (holder_of_vip(&lab) == ["lvs1"]).then_some(()));
    // ARP: only the MASTER answers for the VIP; the real servers hold it on lo and stay silent.
    let lvs1_mac = mac_of(&lab, "lvs1");
    let repliers = arp_repliers(&lab);
    assert!(!repliers.is_empty(), "nobody answered ARP for the VIP");
    assert!(repliers.iter().all(|m| *m == lvs1_mac), "ARP replies from {repliers:?}, expected only lvs1 {lvs1_mac}");
    // With both directors stopped, nobody answers: the real servers never do.
    for d in ["lvs1", "lvs2"] {
        lab.sh(d, "service keepalived stop >/dev/null 2>&1");
    }
    wait_for("the VIP to leave the directors", Duration::from_secs(5), || holder_of_vip(&lab).is_empty().then_some(()));
    assert_eq!(arp_repliers(&lab), Vec::<String>::new(), "a real server answered ARP for the VIP");
    // Failover: start both, kill -9 the MASTER's keepalived, the BACKUP takes the VIP.
    for d in ["lvs1", "lvs2"] {
        lab.sh(d, "service keepalived start >/dev/null 2>&1");
    }
    wait_for("the VIP back on lvs1", Duration::from_secs(8), || (holder_of_vip(&lab) == ["lvs1"]).then_some(()));
    lab.sh("lvs1", "kill -9 $(cat /run/keepalived.pid)");
    let t = Instant::now();
    wait_for("the VIP to move to lvs2", Duration::from_secs(10), || (holder_of_vip(&lab).contains(&"lvs2")).then_some(()));
    eprintln!("VIP moved to the BACKUP {:.1} s after kill -9 of the MASTER's keepalived", t.elapsed().as_secs_f64());
    let lvs2_mac = mac_of(&lab, "lvs2");
    wait_for("ARP from lvs2", Duration::from_secs(5), || arp_repliers(&lab).iter().all(|m| *m == lvs2_mac).then_some(()));
}

#[test]
fn a_second_apply_changes_nothing_and_reloads_nothing() {
    if !root_or_skip("a_second_apply_changes_nothing_and_reloads_nothing") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    let pids: Vec<String> = ["lvs1", "lvs2"].iter().map(|h| lab.sh(h, "cat /run/keepalived.pid")).collect();
    vrrp_settled(&lab);
    let before = lab.snapshots();
    let sessions: Vec<usize> = LAB_HOSTS.iter().map(|(h, _)| lab.sshd_sessions(h)).collect();
    let o = apply(&[MAIN, "--detailed-exitcode"]);
    let execs: Vec<usize> = LAB_HOSTS.iter().enumerate().map(|(i, (h, _))| lab.sshd_sessions(h) - sessions[i]).collect();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("No changes: 5 host(s) match the topology.") && stdout(&o).contains("Nothing to do"), "{}", stdout(&o));
    // Only the probe ran on each host: one exec, no transaction.
    assert_eq!(execs, vec![1; LAB_HOSTS.len()], "execs per host during an unchanged apply");
    let after_pids: Vec<String> = ["lvs1", "lvs2"].iter().map(|h| lab.sh(h, "cat /run/keepalived.pid")).collect();
    assert_eq!(pids, after_pids, "keepalived was restarted");
    assert_eq!(before, lab.snapshots());
    // And a changed topology afterwards is applied with --detailed-exitcode = 2.
    assert_eq!(apply(&[MAIN, "--detailed-exitcode", "--limit", "web1"]).status.code(), Some(0));
    assert_eq!(apply(&[HTTP, "--detailed-exitcode"]).status.code(), Some(2));
}

#[test]
fn a_config_keepalived_rejects_is_rolled_back_and_stops_the_rollout() {
    if !root_or_skip("a_config_keepalived_rejects_is_rolled_back_and_stops_the_rollout") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    vrrp_settled(&lab);
    let before = lab.snapshots();
    // A site template with the typo of seed 004: `state SLAVE`.
    let dir = Scratch::new("badtmpl");
    let t = std::fs::read_to_string(repo().join("templates/keepalived.conf.j2")).unwrap().replace("state {{ i.state }}", "state {{ 'SLAVE' if i.state == 'BACKUP' else i.state }}\n   weight_typo_marker 1");
    std::fs::write(dir.path().join("keepalived.conf.j2"), t).unwrap();
    let o = apply(&[MAIN, "--templates", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let lvs2 = result_row(&out, "lvs2");
    assert!(lvs2.contains("FAILED at validate") && lvs2.contains("keepalived -t") && lvs2.contains("back at generation 1"), "{out}");
    let lvs1 = result_row(&out, "lvs1");
    assert!(lvs1.contains("skipped"), "the MASTER must not be touched after the BACKUP failed:\n{out}");
    assert!(result_row(&out, "gw").contains("skipped"));
    assert_eq!(before, lab.snapshots(), "a host is not exactly as it was");
    assert_eq!(lab.sh("lvs2", "cat /var/lib/lvsctl/generations/2/status").trim(), "rolled-back");
    // The good templates converge.
    assert_eq!(apply(&[MAIN, "--detailed-exitcode"]).status.code(), Some(0));
}

#[test]
fn a_failed_activation_restores_files_sysctls_and_addresses() {
    if !root_or_skip("a_failed_activation_restores_files_sysctls_and_addresses") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    let before = lab.snapshot("web1");
    // Switching web1 to the NAT example: its DR VIP and ifcfg-lo:0 go, a route file comes,
    // and the default route via 10.77.1.254 cannot be activated on the lab's eth0 (not
    // on-link): a real activation failure after files were already replaced.
    let o = apply(&["playbooks/nat-director.yml", "--limit", "web1"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("- addr 10.77.0.100/32 dev lo label lo:0"), "{out}");
    let line = result_row(&out, "web1");
    assert!(line.contains("FAILED at activate") && line.contains("ip route replace") && line.contains("back at generation 1"), "{line}");
    assert_eq!(before, lab.snapshot("web1"), "web1 is not exactly as it was");
    assert!(lab.sh("web1", "ip -o -4 addr show dev lo").contains("10.77.0.100/32"));
}

#[test]
fn a_full_etc_keepalived_is_rolled_back_and_a_rerun_converges() {
    if !root_or_skip("a_full_etc_keepalived_is_rolled_back_and_a_rerun_converges") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    // A tiny tmpfs on lvs2's /etc/keepalived, holding the current config, then filled up.
    lab.sh("lvs2", "cp -p /etc/keepalived/keepalived.conf /tmp/k && mount -t tmpfs -o size=12k tmpfs /etc/keepalived && cp -p /tmp/k /etc/keepalived/keepalived.conf && (dd if=/dev/zero of=/etc/keepalived/filler bs=1k count=64 2>/dev/null; true)");
    vrrp_settled(&lab);
    let before = lab.snapshots();
    let o = apply(&[HTTP]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let line = result_row(&stdout(&o), "lvs2");
    assert!(line.contains("FAILED at write") && line.contains("back at generation 1"), "{line}");
    // web1/web2 were applied in the earlier stage; compare the hosts that failed or were skipped.
    for (h, snap) in &before {
        if h == "lvs2" || h == "lvs1" || h == "gw" {
            assert_eq!(*snap, lab.snapshot(h), "{h} is not exactly as it was");
        }
    }
    lab.sh("lvs2", "rm -f /etc/keepalived/filler");
    let o = apply(&[HTTP]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(apply(&[HTTP, "--detailed-exitcode"]).status.code(), Some(0));
    lab.sh("lvs2", "cp -p /etc/keepalived/keepalived.conf /tmp/k; umount /etc/keepalived; cp -p /tmp/k /etc/keepalived/keepalived.conf");
}

#[test]
fn a_concurrent_apply_is_refused_by_the_lock() {
    if !root_or_skip("a_concurrent_apply_is_refused_by_the_lock") {
        return;
    }
    let lab = Lab::fresh();
    // Another apply holds web2 (its lock as lvsctl writes it).
    lab.sh("web2", "mkdir -p /var/lib/lvsctl/lock && echo 'lvsctl apply by ops@other pid 4242 since 2026-11-21T10:00:00Z' >/var/lib/lvsctl/lock/holder");
    let o = apply(&[MAIN]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let web2 = result_row(&out, "web2");
    assert!(web2.contains("LOCKED by lvsctl apply by ops@other pid 4242"), "{out}");
    assert!(result_row(&out, "lvs1").contains("skipped"), "{out}");
    assert!(lab.ssh("web2", "test -e /etc/sysctl.d/90-lvsctl.conf").status.code() == Some(1), "a locked host was written");
    // --break-lock takes a stale lock.
    let o = apply(&[MAIN, "--break-lock"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(lab.ssh("web2", "test -e /var/lib/lvsctl/lock").status.code() == Some(1), "lock not released");
}

#[test]
fn a_host_that_is_down_stops_the_rollout_before_the_directors() {
    if !root_or_skip("a_host_that_is_down_stops_the_rollout_before_the_directors") {
        return;
    }
    let lab = Lab::fresh();
    lab.sh("web2", "kill $(cat /run/sshd.pid) >/dev/null 2>&1 &");
    std::thread::sleep(Duration::from_millis(300));
    let o = apply(&[MAIN, "--connect-timeout", "3"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let row = |h: &str| result_row(&out, h);
    assert!(row("web2").contains("UNREACHABLE"), "{out}");
    assert!(row("web1").contains("applied"), "{out}");
    for h in ["lvs1", "lvs2", "gw"] {
        assert!(row(h).contains("skipped"), "{h} must not be touched:\n{out}");
        assert!(lab.ssh(h, "test -e /etc/sysctl.d/90-lvsctl.conf").status.code() == Some(1), "{h} was written");
    }
}

#[test]
fn a_connection_cut_mid_apply_leaves_no_half_configured_host_and_a_rerun_converges() {
    if !root_or_skip("a_connection_cut_mid_apply_leaves_no_half_configured_host_and_a_rerun_converges") {
        return;
    }
    let lab = Lab::fresh();
    // Kill lvsctl (SIGKILL: its connections drop) as soon as the BACKUP's transaction began.
    let mut child = lvsctl().args(["apply", MAIN, "--yes"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let child_err = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(child_err).lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.starts_with("lvs2: lock") {
            child.kill().unwrap();
            break;
        }
    }
    let _ = child.wait();
    assert!(seen.iter().any(|l| l.starts_with("lvs2: lock")), "never reached lvs2: {seen:?}");
    // The host finishes (or rolls back) on its own and releases its lock.
    wait_for("lvs2's lock to be released", Duration::from_secs(10), || (lab.ssh("lvs2", "test -e /var/lib/lvsctl/lock").status.code() == Some(1)).then_some(()));
    let status = lab.sh("lvs2", "cat /var/lib/lvsctl/generations/1/status");
    assert!(matches!(status.trim(), "applied" | "rolled-back"), "generation 1 is `{status}`: half-configured");
    // A re-run converges everything.
    let o = apply(&[MAIN]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(apply(&[MAIN, "--detailed-exitcode"]).status.code(), Some(0));
}

#[test]
fn rollback_restores_files_and_runtime_state() {
    if !root_or_skip("rollback_restores_files_and_runtime_state") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    vrrp_settled(&lab);
    let gen1: Vec<(String, String)> = lab.snapshots().into_iter().map(|(h, s)| (h, s.lines().filter(|l| !l.starts_with("keepalived=")).collect::<Vec<_>>().join("\n"))).collect();
    // Generation 2: a different cluster config (HTTP checks, other VRID and secret).
    assert_eq!(apply(&[HTTP]).status.code(), Some(0));
    assert!(lab.sh("lvs1", "cat /etc/keepalived/keepalived.conf").contains("HTTP_GET"));
    let o = run(&["history", "-i", "inventories/lab.yml", "--limit", "lvs1"]);
    assert!(stdout(&o).contains("*    2  applied"), "{}", stdout(&o));
    let o = run(&["rollback", "-i", "inventories/lab.yml", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("lvs1: generation 2 -> back to generation 1"), "{}", stdout(&o));
    assert!(stdout(&o).contains("gw: skipped"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("s3cret") && !stdout(&o).contains("123456"), "secret leaked");
    // Files and runtime state as after generation 1 (keepalived reloaded, so its pid may stay).
    vrrp_settled(&lab);
    let now: Vec<(String, String)> = lab.snapshots().into_iter().map(|(h, s)| (h, s.lines().filter(|l| !l.starts_with("keepalived=")).collect::<Vec<_>>().join("\n"))).collect();
    assert_eq!(gen1, now);
    assert_eq!(run(&["plan", MAIN, "--detailed-exitcode"]).status.code(), Some(0), "the hosts are not at the router topology again");
    let o = run(&["history", "-i", "inventories/lab.yml", "--limit", "lvs1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["current"], 3);
}

#[test]
fn a_saved_plan_is_applied_as_reviewed_and_refused_when_a_host_changed() {
    if !root_or_skip("a_saved_plan_is_applied_as_reviewed_and_refused_when_a_host_changed") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("saved");
    let file = dir.path().join("plan.json");
    let f = file.to_str().unwrap();
    let o = run(&["plan", MAIN, "--out", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(!saved.contains("s3cret") && !saved.contains("auth_pass"), "the saved plan holds content or secrets:\n{saved}");
    let o = apply(&[f]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("5 host(s) changed"), "{}", stdout(&o));
    // Save the next plan, then a host drifts before it is applied: refused, nothing touched.
    assert_eq!(apply(&[HTTP]).status.code(), Some(0));
    let o = run(&["plan", MAIN, "--out", f]);
    assert_eq!(o.status.code(), Some(0));
    lab.sh("web1", "sysctl -q -w net.ipv4.conf.lo.arp_ignore=0");
    vrrp_settled(&lab);
    let before = lab.snapshots();
    let o = apply(&[f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("web1 changed since the plan was saved"), "{}", stderr(&o));
    assert_eq!(before, lab.snapshots());
}

#[test]
fn ctrl_c_during_apply_finishes_hosts_in_flight_releases_locks_and_exits_130() {
    if !root_or_skip("ctrl_c_during_apply_finishes_hosts_in_flight_releases_locks_and_exits_130") {
        return;
    }
    let lab = Lab::fresh();
    let mut child = lvsctl().args(["apply", MAIN, "--yes"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let child_err = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(child_err).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("web1: lock") || line.starts_with("web2: lock") {
            let o = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).output().unwrap();
            assert!(o.status.success());
            break;
        }
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "stderr after SIGINT: {rest:?}\nstdout: {}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for h in ["web1", "web2"] {
        let row = result_row(&text, h);
        assert!(row.contains("applied") || row.contains("rolled back"), "{h} was left half-way: {row}");
    }
    for h in ["lvs1", "lvs2", "gw"] {
        assert!(result_row(&text, h).contains("not started: interrupted"), "{text}");
        assert!(lab.ssh(h, "test -e /etc/sysctl.d/90-lvsctl.conf").status.code() == Some(1), "{h} was written after Ctrl-C");
    }
    for (h, _) in LAB_HOSTS {
        assert!(lab.ssh(h, "test -e /var/lib/lvsctl/lock").status.code() == Some(1), "{h}: lock left held");
    }
    assert!(text.contains("Interrupted: hosts in flight finished or rolled back"), "{text}");
    // And the rest converges on the next run.
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
}

#[test]
fn a_host_whose_transaction_hangs_is_given_up_after_the_stall_timeout() {
    if !root_or_skip("a_host_whose_transaction_hangs_is_given_up_after_the_stall_timeout") {
        return;
    }
    let lab = Lab::fresh();
    // The BACKUP's transaction is frozen (SIGSTOP: as a command stuck on a dead disk would
    // hold it) right after it took its lock: lvsctl hears nothing more from lvs2.
    let mut child = lvsctl().args(["apply", MAIN, "--yes", "--stall-timeout", "3"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    let child_err = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(child_err).lines();
    let mut frozen = String::new();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("lvs2: lock") {
            let o = std::process::Command::new("sh")
                .args(["-c", "for p in $(pgrep -f '^sh -s$'); do [ \"$(ip netns identify $p)\" = lvslab-lvs2 ] && kill -STOP $p && echo $p; done"])
                .output()
                .unwrap();
            frozen = stdout(&o).trim().to_string();
            break;
        }
    }
    assert!(!frozen.is_empty(), "lvs2's transaction shell was not found to freeze");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let thaw = || std::process::Command::new("kill").args(["-CONT"]).args(frozen.split_whitespace()).status();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{text}{}", rest.join("\n"));
    thaw().unwrap();
    eprintln!("apply with lvs2 frozen returned after {took:?}, exit {:?}:\n{all}", out.status.code());
    assert!(took < Duration::from_secs(60), "lvsctl waited {took:?} for a host that sends nothing (stall timeout 3 s)");
    assert_ne!(out.status.code(), Some(0), "apply succeeded with lvs2 frozen:\n{all}");
    assert!(all.contains("lvs2 sent nothing for 3 s"), "the stall is not named:\n{all}");
    // The MASTER is not touched after its BACKUP failed.
    assert!(!result_row(&text, "lvs1").contains("applied"), "{text}");
    // Thawed, lvs2's transaction ends by itself and releases its lock; the next run converges.
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        lab.ssh("lvs2", "test -e /var/lib/lvsctl/lock").status.code() == Some(1)
    });
    assert!(gone, "lvs2's lock still held 10 s after its transaction was thawed");
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    let o = run(&["plan", MAIN, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "plan after the re-run:\n{}{}", stdout(&o), stderr(&o));
}

#[test]
fn directories_apply_creates_are_0755_and_state_is_0700() {
    if !root_or_skip("directories_apply_creates_are_0755_and_state_is_0700") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    assert_eq!(lab.sh("web1", "stat -c %a /etc/sysconfig /etc/sysconfig/network-scripts").split_whitespace().collect::<Vec<_>>(), ["755", "755"]);
    assert_eq!(lab.sh("gw", "stat -c %a /etc/lvsctl").trim(), "755");
    assert_eq!(lab.sh("gw", "stat -c %a /var/lib/lvsctl").trim(), "700");
}

/// `lvsctl drain` / `undrain` in the lab (VRRP-only keepalived: the weights are in
/// keepalived.conf, which keepalived -t checks; the VM lab proves IPVS follows): the mark and
/// weight 0 go to both directors, are no drift to `plan`, are kept by `apply` and named by
/// `status`; `undrain` takes both back and leaves no mark file.
#[test]
fn drain_is_kept_by_apply_and_undrain_takes_it_back() {
    if !root_or_skip("drain_is_kept_by_apply_and_undrain_takes_it_back") {
        return;
    }
    let lab = Lab::fresh();
    assert_eq!(apply(&[MAIN]).status.code(), Some(0));
    let web2 = |d: &str| lab.sh(d, "grep -A1 'real_server 10.77.0.22 ' /etc/keepalived/keepalived.conf");
    let o = run(&["drain", MAIN, "--real-server", "web2", "--yes"]);
    assert!(o.status.success() && stdout(&o).contains("web2 drained"), "{}{}", stdout(&o), stderr(&o));
    for d in ["lvs1", "lvs2"] {
        assert!(web2(d).lines().filter(|l| l.contains("weight")).all(|l| l.trim() == "weight 0") && web2(d).contains("weight 0"), "{d}: {}", web2(d));
        assert!(lab.sh(d, "cat /etc/lvsctl/drained").lines().any(|l| l.starts_with("web2 ")), "{d}: no mark");
    }
    let o = run(&["plan", MAIN, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "a drained real server is drift:\n{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("web2: drained (by "), "plan does not name the drained real server:\n{}", stdout(&o));
    let o = apply(&[MAIN, "--detailed-exitcode"]);
    assert!(o.status.code() == Some(0) && stdout(&o).contains("Nothing to do"), "apply undid the drain:\n{}{}", stdout(&o), stderr(&o));
    let o = run(&["status", MAIN]);
    assert!(stdout(&o).contains("web2: drained (by "), "{}{}", stdout(&o), stderr(&o));
    let o = run(&["drain", MAIN, "--real-server", "web2", "--yes"]);
    assert!(o.status.success() && stdout(&o).contains("drained already"), "{}{}", stdout(&o), stderr(&o));
    let o = run(&["drain", MAIN, "--real-server", "lvs1", "--yes"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("is no real server"), "{}", stderr(&o));

    let o = run(&["undrain", MAIN, "--real-server", "web2", "--yes"]);
    assert!(o.status.success() && stdout(&o).contains("web2 undrained"), "{}{}", stdout(&o), stderr(&o));
    for d in ["lvs1", "lvs2"] {
        assert!(!web2(d).contains("weight 0"), "{d}: {}", web2(d));
        assert_eq!(lab.sh(d, "test -e /etc/lvsctl/drained && echo left || echo gone").trim(), "gone", "{d}: the mark file is left");
    }
    let o = run(&["plan", MAIN, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let o = run(&["undrain", MAIN, "--real-server", "web2", "--yes"]);
    assert!(o.status.success() && stdout(&o).contains("is not drained"), "{}{}", stdout(&o), stderr(&o));
}

/// Issue "keepalived's LVS vocabulary": a director whose track script fails hands the VIPs
/// to the BACKUP and takes them back once the script passes again; keepalived calls the
/// notify scripts on each change. The example's scripts live under /etc/keepalived/scripts,
/// root-owned (keepalived's script security refuses anything else); the test writes them on
/// both directors: the check fails while /run/upstream-down exists, each notify script
/// appends its name to /run/lvsctl-notify.log. (The lab's hosts have no eth1: the example's
/// `track_interfaces` is left out here; keepalived -t checks it in the fixtures.)
#[test]
fn a_failing_track_script_hands_the_vips_to_the_backup() {
    if !root_or_skip("a_failing_track_script_hands_the_vips_to_the_backup") {
        return;
    }
    let lab = Lab::fresh();
    let dir = Scratch::new("track");
    let pb = dir.path().join("health.yml");
    let text = std::fs::read_to_string(repo().join("playbooks/dr-keepalived-director-health.yml"))
        .unwrap()
        .replace("inventory: ../inventories/lab.yml", &format!("inventory: {}", repo().join("inventories/lab.yml").display()))
        .replace("  track_interfaces: [eth1]   # the uplink: its failure faults the instance too\n", "");
    assert!(!text.contains("track_interfaces") && text.contains("fall: 2"), "the example changed shape:\n{text}");
    std::fs::write(&pb, text).unwrap();
    let pb = pb.to_str().unwrap();
    for d in ["lvs1", "lvs2"] {
        lab.sh(
            d,
            "set -e; umask 022; mkdir -p /etc/keepalived/scripts; cd /etc/keepalived/scripts; \
             printf '#!/bin/sh\\ntest ! -e /run/upstream-down\\n' >check-upstream.sh; \
             for s in master backup fault; do printf '#!/bin/sh\\necho %s >>/run/lvsctl-notify.log\\n' $s >notify-$s.sh; done; \
             chmod 0755 *.sh",
        );
    }
    let o = apply(&[pb]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    vrrp_settled(&lab);
    let notified = |d: &str| lab.sh(d, "cat /run/lvsctl-notify.log 2>/dev/null || true").split_whitespace().map(str::to_string).collect::<Vec<_>>();
    wait_for("lvs1's notify_master", Duration::from_secs(5), || notified("lvs1").contains(&"master".to_string()).then_some(()));
    // The check fails on the MASTER: after `fall` (2) failures 2 s apart it goes to FAULT.
    lab.sh("lvs1", "touch /run/upstream-down");
    let t = Instant::now();
    wait_for("the VIP to move to lvs2", Duration::from_secs(15), || (holder_of_vip(&lab) == ["lvs2"]).then_some(()));
    eprintln!("track script: VIP on the BACKUP {:.1} s after the MASTER's check started failing", t.elapsed().as_secs_f64());
    wait_for("lvs1's notify_fault and lvs2's notify_master", Duration::from_secs(5), || {
        (notified("lvs1").last().map(String::as_str) == Some("fault") && notified("lvs2").last().map(String::as_str) == Some("master")).then_some(())
    });
    // Passing again (`rise` 2), lvs1 preempts: the VIPs come back.
    lab.sh("lvs1", "rm /run/upstream-down");
    wait_for("the VIP back on lvs1", Duration::from_secs(15), || (holder_of_vip(&lab) == ["lvs1"]).then_some(()));
    wait_for("lvs2's notify_backup", Duration::from_secs(5), || (notified("lvs2").last().map(String::as_str) == Some("backup")).then_some(()));
    // A script keepalived refuses (writable by others) is caught on the director before
    // anything is activated: keepalived -t fails and the host stays as it was.
    let before = lab.sh("lvs2", "cat /etc/keepalived/keepalived.conf");
    lab.sh("lvs2", "chmod 0777 /etc/keepalived/scripts/check-upstream.sh");
    let changed = std::fs::read_to_string(pb).unwrap().replace("      fall: 2\n", "      fall: 3\n");
    std::fs::write(pb, changed).unwrap();
    let o = apply(&[pb]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("lvs2") && stderr(&o).contains("keepalived -t"), "{}", stderr(&o));
    assert_eq!(lab.sh("lvs2", "cat /etc/keepalived/keepalived.conf"), before, "lvs2's keepalived.conf changed");
}
