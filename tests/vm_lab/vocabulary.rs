//! keepalived's vocabulary with client traffic through real IPVS (issue 11's behaviour rows):
//! a sorry server, a quorum, inhibit_on_failure, and a director's failing track script. A DR
//! pair, two services on one VIP, both checked on port 8080 of the real servers, so that
//! stopping a real server's 8080 fails its checks while the services themselves (80: web,
//! 7: line echo) go on answering. The virtual-server steps are watched on the MASTER (lvs1).
//!
//! - `web` (80): quorum 3 with web1 weight 2 and web2 weight 1, and a sorry server: the
//!   director's own page (127.0.0.1, a busybox httpd the test starts on lvs1). keepalived takes
//!   every real server out and puts the sorry server in when the healthy weight falls below 3.
//! - `echo` (7): inhibit_on_failure: a real server whose check fails stays in the table at
//!   weight 0, so new connections avoid it and its established ones go on (without it
//!   keepalived removes it, and lvsctl's `expire_nodest_conn = 1` ends them).

use std::time::Duration;

use super::common::vmlab::{self, wait_until, VmLab, SOURCES};
use super::common::{self, stderr, stdout};

const TOPOLOGY: &str = "cluster: vocab
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  instance: VI_1
  virtual_router_id: 51
  auth_pass: vocab
  priorities: { lvs1: 150, lvs2: 100 }
  track_scripts: [ { name: upstream, script: /etc/keepalived/scripts/check-upstream.sh, interval: 1, fall: 2, rise: 2 } ]
  notify_master: /etc/keepalived/scripts/notify-master.sh
  notify_fault: /etc/keepalived/scripts/notify-fault.sh
  garp_master_delay: 1
  garp_master_repeat: 3
services:
  - name: web
    vip: 10.77.0.100
    port: 80
    scheduler: wrr
    delay_loop: 2
    quorum: 3
    sorry_server: { address: 127.0.0.1 }
    check: { type: tcp, connect_port: 8080, connect_timeout: 1, retry: 1, delay_before_retry: 1 }
    real_servers: [ { host: web1, weight: 2 }, { host: web2, weight: 1 } ]
  - name: echo
    vip: 10.77.0.100
    port: 7
    scheduler: rr
    delay_loop: 2
    inhibit_on_failure: true
    check: { type: tcp, connect_port: 8080, connect_timeout: 1, retry: 1, delay_before_retry: 1 }
    real_servers: [ { host: web1 }, { host: web2 } ]
";

/// The `web` service's entries in lvs1's table, and the `echo` service's.
fn tables(lab: &VmLab) -> (Vec<String>, Vec<String>) {
    let all = lab.ipvs("lvs1");
    let of = |port: &str| all.iter().filter(|l| l.starts_with(&format!("-a -t 10.77.0.100:{port} "))).map(|l| l.split(" -r ").nth(1).unwrap_or("").to_string()).collect();
    (of("80"), of("7"))
}

/// Who answers 40 new requests to the web service: server name -> count.
fn answers(lab: &VmLab, what: &str) -> serde_json::Value {
    let sources = SOURCES.join(",");
    let r = lab.traffic(&["--target", "10.77.0.100:80", "--count", "40", "--sources", &sources]);
    eprintln!("vmlab vocabulary: {what}: {r}");
    assert_eq!(r["failed"], 0, "{what}: requests failed: {r}");
    r["by_server"].clone()
}

/// Established echo connections on `host` (the server side of port 7).
fn echo_conns(lab: &VmLab, host: &str) -> usize {
    lab.sh(host, "ss -Htn state established '( sport = :7 )' | wc -l").trim().parse().unwrap_or(0)
}

#[test]
fn sorry_server_quorum_inhibit_and_track_script_under_traffic() {
    if !vmlab::vm_lab_or_skip("sorry_server_quorum_inhibit_and_track_script_under_traffic") {
        return;
    }
    let lab = VmLab::fresh();
    let dir = common::Scratch::new("vm-vocabulary");
    let pb = dir.path().join("vocabulary.yml");
    std::fs::write(&pb, TOPOLOGY).unwrap();
    // The sorry page, served by the MASTER director itself; the track and notify scripts on
    // both (root's, 0755: keepalived's script security and `keepalived -t` refuse others).
    lab.sh("lvs1", "mkdir -p /run/sorry && echo sorry >/run/sorry/index.html && systemd-run --unit vmlab-sorry /bin/busybox httpd -f -p 80 -h /run/sorry");
    for d in ["lvs1", "lvs2"] {
        lab.sh(d, "mkdir -p /etc/keepalived/scripts && cd /etc/keepalived/scripts && \
            printf '#!/bin/sh\\n[ ! -e /run/vmlab-fail-upstream ]\\n' >check-upstream.sh && \
            printf '#!/bin/sh\\necho MASTER >>/run/vmlab-notify.log\\n' >notify-master.sh && \
            printf '#!/bin/sh\\necho FAULT >>/run/vmlab-notify.log\\n' >notify-fault.sh && chmod 0755 check-upstream.sh notify-*.sh");
    }
    let o = lab.lvsctl(&["apply", pb.to_str().unwrap(), "-i", super::INV, "--yes"]);
    assert!(o.status.success(), "apply:\n{}{}", stdout(&o), stderr(&o));
    let settle = |what: &str, want: &dyn Fn(&[String], &[String]) -> bool| {
        let ok = wait_until(Duration::from_secs(20), || {
            let (web, echo) = tables(&lab);
            want(&web, &echo)
        });
        let (web, echo) = tables(&lab);
        assert!(ok.is_some(), "{what}: lvs1's table did not get there in 20 s: web {web:?}, echo {echo:?}");
        eprintln!("vmlab vocabulary: {what}: web {web:?}, echo {echo:?}");
    };

    // 1. Everything healthy: the real servers serve, 2:1; no sorry server. (The pair settles
    // first: lvs2, applied first, held the VIP until lvs1 came up and took it back.)
    let settled = wait_until(Duration::from_secs(20), || lab.holds("lvs1", "10.77.0.100") && !lab.holds("lvs2", "10.77.0.100"));
    assert!(settled.is_some(), "lvs1 does not hold the VIP alone after apply");
    std::thread::sleep(Duration::from_secs(3));
    settle("all healthy", &|web, echo| web.len() == 2 && web.iter().all(|l| !l.contains("127.0.0.1")) && echo.len() == 2);
    let by = answers(&lab, "all healthy");
    let (w1, w2) = (by["web1"].as_u64().unwrap_or(0), by["web2"].as_u64().unwrap_or(0));
    assert!(w1 > w2 && w2 > 0 && by.get("sorry").is_none(), "all healthy: want web1 2:1 web2, no sorry page: {by}");

    // Four long-lived echo connections, rr: two of them on web2 (the loop's own web requests
    // are few and not counted: one in flight when keepalived swaps the real servers for the
    // sorry server may be cut, as with any removal; the 40 fresh ones after each step count).
    let hold = |sources: &[&str]| {
        let sources = sources.join(",");
        lab.start_loop(&["--target", "10.77.0.100:80", "--rate", "0.5", "--concurrency", "1", "--sources", &sources, "--hold", "4", "--hold-target", "10.77.0.100:7", "--timeout", "2"])
    };
    let lp = hold(&SOURCES[..4]);
    assert!(wait_until(Duration::from_secs(10), || echo_conns(&lab, "web2") >= 1).is_some(), "no long-lived echo connection reached web2");
    let on_web2 = echo_conns(&lab, "web2");

    // 2. web2's check fails (its 8080 stops; its 80 and 7 still answer).
    lab.sh("web2", "systemctl stop vmlab-web@8080");
    // quorum: 2 of 3 healthy is below it: keepalived takes web1 out too, the sorry page serves.
    // inhibit_on_failure: web2 stays in the echo service with weight 0.
    settle("web2's check failing", &|web, echo| {
        web.len() == 1 && web[0].starts_with("127.0.0.1:80") && echo.iter().any(|l| l.starts_with("10.77.0.22:7") && l.ends_with(" -w 0"))
    });
    let by = answers(&lab, "web2's check failing (quorum lost)");
    assert_eq!(by.as_object().unwrap().keys().collect::<Vec<_>>(), ["sorry"], "quorum lost: only the sorry page may answer: {by}");
    // Four new echo connections go to web1 only; web2 keeps its established ones.
    let on_web1 = echo_conns(&lab, "web1");
    let more = hold(&SOURCES[4..]);
    let ok = wait_until(Duration::from_secs(10), || echo_conns(&lab, "web1") >= on_web1 + 4);
    let (now1, now2) = (echo_conns(&lab, "web1"), echo_conns(&lab, "web2"));
    let h = more.stop().summary["held"].clone();
    eprintln!("vmlab vocabulary: while web2 is inhibited: echo connections web1 {on_web1} -> {now1}, web2 {on_web2} -> {now2}; the new ones {h}");
    assert!(ok.is_some() && now2 == on_web2, "an inhibited real server got new connections or lost its established ones: web1 {on_web1} -> {now1}, web2 {on_web2} -> {now2}");

    // 3. web1's check fails too: every real server down, the sorry page still serves.
    lab.sh("web1", "systemctl stop vmlab-web@8080");
    settle("both checks failing", &|web, echo| web.len() == 1 && web[0].starts_with("127.0.0.1:80") && echo.iter().all(|l| l.ends_with(" -w 0")));
    let by = answers(&lab, "both checks failing");
    assert_eq!(by.as_object().unwrap().keys().collect::<Vec<_>>(), ["sorry"], "every real server down: {by}");

    // 4. web1 back: weight 2 is still below the quorum of 3: the sorry page stays.
    lab.sh("web1", "systemctl start vmlab-web@8080");
    settle("web1 back", &|_, echo| echo.iter().any(|l| l.starts_with("10.77.0.21:7") && !l.ends_with(" -w 0")));
    std::thread::sleep(Duration::from_secs(3));
    let (web, _) = tables(&lab);
    assert!(web.len() == 1 && web[0].starts_with("127.0.0.1:80"), "web1 alone (weight 2 < quorum 3) brought the service back: {web:?}");

    // 5. web2 back: quorum 3 reached: the real servers serve again, the sorry page is gone.
    lab.sh("web2", "systemctl start vmlab-web@8080");
    settle("both back", &|web, echo| web.len() == 2 && web.iter().all(|l| !l.contains("127.0.0.1")) && echo.iter().all(|l| !l.ends_with(" -w 0")));
    let by = answers(&lab, "both back");
    assert!(by.get("sorry").is_none() && by["web1"].as_u64().unwrap_or(0) > 0, "quorum back: {by}");

    // The long-lived echo connections lived through all of it (web2's at weight 0 included).
    let res = lp.stop();
    let h = &res.summary["held"];
    eprintln!("vmlab vocabulary: long-lived echo connections: {h}; web requests {}", res.summary);
    assert!(h["opened"] == 4 && h["broken"].as_array().unwrap().is_empty(), "a long-lived connection broke: {h}");

    track_script_moves_the_vip(&lab);
}

/// The MASTER's track script starts failing (interval 1, fall 2): it goes to FAULT, the
/// BACKUP takes the VIP (gratuitous ARPs tell the router) and serves; notify scripts are
/// called; passing again (rise 2) the MASTER takes the VIP back.
fn track_script_moves_the_vip(lab: &VmLab) {
    let sources = SOURCES[..4].join(",");
    let lp = lab.start_loop(&["--target", "10.77.0.100:80", "--rate", "20", "--concurrency", "2", "--sources", &sources]);
    std::thread::sleep(Duration::from_secs(2));
    let t = vmlab::now_ms();
    lab.sh("lvs1", "touch /run/vmlab-fail-upstream");
    let moved = wait_until(Duration::from_secs(15), || lab.holds("lvs2", "10.77.0.100") && !lab.holds("lvs1", "10.77.0.100"));
    assert!(moved.is_some(), "lvs1's track script failed but the VIP did not move to lvs2 in 15 s");
    let moved_s = (vmlab::now_ms() - t) / 1000.0;
    let by = answers(lab, "lvs1 in FAULT (track script failing), lvs2 MASTER");
    assert!(by.get("web1").is_some() && by.get("sorry").is_none(), "served by lvs2: {by}");
    let log = |d: &str| lab.sh(d, "cat /run/vmlab-notify.log 2>/dev/null");
    assert!(log("lvs1").contains("FAULT"), "notify_fault not called on lvs1: {}", log("lvs1"));
    assert!(log("lvs2").contains("MASTER"), "notify_master not called on lvs2: {}", log("lvs2"));
    lab.sh("lvs1", "rm -f /run/vmlab-fail-upstream");
    let back = wait_until(Duration::from_secs(15), || lab.holds("lvs1", "10.77.0.100") && !lab.holds("lvs2", "10.77.0.100"));
    assert!(back.is_some(), "lvs1's track script passes again but it did not take the VIP back in 15 s");
    std::thread::sleep(Duration::from_secs(2));
    let res = lp.stop();
    eprintln!("vmlab vocabulary: track script: the VIP on lvs2 {moved_s:.1} s after lvs1's script started failing; requests through both moves: {}", res.summary);
    eprintln!("vmlab-figure vocabulary track_script_vip_moved_s {moved_s:.2}");
    eprintln!("vmlab-figure vocabulary track_script_failed {}", res.failed());
    eprintln!("vmlab-figure vocabulary track_script_outage_s {:.2}", res.outage_s());
    // Each move is a VRRP handover (the new MASTER's gratuitous ARPs redirect the router): a
    // gap of about a second, never longer than a few.
    assert!(res.outage_s() < 5.0, "requests failed for {:.1} s around the moves: {}", res.outage_s(), res.summary);
}
