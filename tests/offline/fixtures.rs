//! Every example playbook is a fixture: its rendered files are snapshot-tested against
//! tests/snapshots/<playbook>/ (the same check CI users run: `lvsctl render --check`), and
//! every rendered keepalived.conf and router rules file must pass the real validators,
//! `keepalived -t -e -f` and `iptables-restore --test`, inside a network namespace that has
//! the interfaces the config names.
//!
//! To accept intended changes: `UPDATE_SNAPSHOTS=1 cargo test --test offline fixtures::`,
//! then review the diff under tests/snapshots/ before committing.

use crate::common::*;

fn snapshot_dir(playbook: &std::path::Path) -> std::path::PathBuf {
    repo().join("tests/snapshots").join(playbook.file_stem().unwrap())
}

#[test]
fn every_seed_setup_has_an_example_playbook() {
    let names: Vec<String> = playbooks().iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    for expected in [
        "dr-ipvsadm-single",       // seeds 000 (first half) and 001
        "dr-keepalived-single",    // seed 000 (second half): TCP_CHECK
        "dr-keepalived-pair-sync", // seed 002: sync group + notification email
        "dr-keepalived-pair-http", // seed 003: HTTP_GET
        "nat-director",            // seed 004: LVS-NAT
        "dr-keepalived-router",    // seed 004: DR pair behind a DNAT/SNAT router
    ] {
        assert!(names.iter().any(|n| n == expected), "missing playbooks/{expected}.yml");
    }
}

#[test]
fn rendered_files_match_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for pb in playbooks() {
        let snap = snapshot_dir(&pb);
        let pb_s = pb.to_str().unwrap();
        if update {
            let o = run(&["render", pb_s, "--out", snap.to_str().unwrap()]);
            assert!(o.status.success(), "{}", stderr(&o));
            continue;
        }
        assert!(snap.is_dir(), "no snapshot for {pb_s}: run UPDATE_SNAPSHOTS=1 cargo test --test offline fixtures::");
        let o = run(&["render", pb_s, "--check", snap.to_str().unwrap()]);
        if o.status.code() != Some(0) {
            failures.push(format!("{pb_s} (exit {:?}):\n{}{}", o.status.code(), stdout(&o), stderr(&o)));
        }
    }
    assert!(failures.is_empty(), "rendered files differ from snapshots (UPDATE_SNAPSHOTS=1 to accept):\n{}", failures.join("\n"));
}

#[test]
fn rendering_is_deterministic() {
    for pb in playbooks() {
        let (a, b) = (Scratch::new("det-a"), Scratch::new("det-b"));
        for dir in [&a, &b] {
            let o = run(&["render", pb.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let fa: Vec<_> = files_under(a.path()).iter().map(|p| (p.strip_prefix(a.path()).unwrap().to_path_buf(), std::fs::read(p).unwrap())).collect();
        let fb: Vec<_> = files_under(b.path()).iter().map(|p| (p.strip_prefix(b.path()).unwrap().to_path_buf(), std::fs::read(p).unwrap())).collect();
        assert_eq!(fa, fb, "{} renders differently twice", pb.display());
    }
}

/// Render a playbook into a scratch dir and return (dir, rendered file paths).
fn render(pb: &std::path::Path) -> (Scratch, Vec<std::path::PathBuf>) {
    let dir = Scratch::new("validators");
    let o = run(&["render", pb.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = files_under(dir.path());
    (dir, files)
}

/// `keepalived -t` on $1 with the scripts it names present: keepalived -t refuses a track
/// script it cannot find. The examples keep their scripts under /etc/keepalived/scripts, which
/// the runner does not have: a root-owned tmpfs over /etc/keepalived, private to this `ip
/// netns exec` (its own mount namespace), holds a root-owned 0755 stub of each. Any other
/// missing path fails the test, so an example cannot name a script this cannot provide.
const WITH_SCRIPTS: &str = r#"set -e
conf=$1
missing=$(awk '$1 == "script" || $1 == "misc_path" || $1 ~ /^notify(_master|_backup|_fault)?$/ || $1 ~ /^quorum_(up|down)$/ { p = $2; gsub(/"/, "", p); print p }' "$conf" | sort -u | while read -r p; do [ -e "$p" ] || echo "$p"; done)
if [ -n "$missing" ]; then
  mount -t tmpfs -o mode=0755 lvsctl-test /etc/keepalived
  for p in $missing; do
    case $p in /etc/keepalived/*) ;; *) echo "script $p is outside /etc/keepalived: the test cannot provide it" >&2; exit 3 ;; esac
    mkdir -p "${p%/*}"
    printf '#!/bin/sh
exit 0
' >"$p"
    chmod 0755 "$p"
  done
fi
exec keepalived -t -e -f "$conf""#;

#[test]
fn every_keepalived_conf_passes_keepalived_t() {
    if !root_or_skip("every_keepalived_conf_passes_keepalived_t") {
        return;
    }
    let mut checked = 0;
    for pb in playbooks() {
        let (_dir, files) = render(&pb);
        for conf in files.iter().filter(|f| f.ends_with("etc/keepalived/keepalived.conf")) {
            // The interfaces every example names; keepalived -t checks they exist.
            let ns = Netns::new("ka", &["eth0", "eth1"]);
            let o = ns.exec(&["sh", "-c", WITH_SCRIPTS, "sh", conf.to_str().unwrap()]);
            assert!(
                o.status.success(),
                "keepalived -t rejected {} (exit {:?}):\n{}{}",
                conf.display(),
                o.status.code(),
                stdout(&o),
                stderr(&o)
            );
            checked += 1;
        }
    }
    assert!(checked >= 11, "expected at least 11 keepalived.conf files, checked {checked}");
}

#[test]
fn keepalived_t_really_rejects_broken_configs() {
    // The validator must be able to fail: a config with `state SLAVE` (seed 004's typo) and
    // a missing brace are rejected, so a passing check above means something.
    if !root_or_skip("keepalived_t_really_rejects_broken_configs") {
        return;
    }
    let (dir, files) = render(&repo().join("playbooks/dr-keepalived-router.yml"));
    let conf = files.iter().find(|f| f.ends_with("lvs2/etc/keepalived/keepalived.conf")).unwrap();
    let good = std::fs::read_to_string(conf).unwrap();
    for (name, bad) in [("state SLAVE", good.replace("state BACKUP", "state SLAVE")), ("missing brace", good.replacen("}\n", "\n", 1))] {
        let path = dir.path().join("broken.conf");
        std::fs::write(&path, bad).unwrap();
        let ns = Netns::new("kb", &["eth0"]);
        let o = ns.exec(&["keepalived", "-t", "-e", "-f", path.to_str().unwrap()]);
        assert!(!o.status.success(), "keepalived -t accepted a config with {name}");
    }
}

#[test]
fn router_rules_pass_iptables_restore_test() {
    if !root_or_skip("router_rules_pass_iptables_restore_test") {
        return;
    }
    let mut checked = 0;
    for pb in playbooks() {
        let (_dir, files) = render(&pb);
        for rules in files.iter().filter(|f| f.ends_with("etc/lvsctl/router-nat.rules")) {
            let ns = Netns::new("ipt", &["eth0", "eth1"]);
            let o = ns.exec(&["iptables-restore", "--test", rules.to_str().unwrap()]);
            assert!(o.status.success(), "iptables-restore --test rejected {}:\n{}", rules.display(), stderr(&o));
            // --test does not catch jumps to undefined chains (nf_tables backend): check that
            // every chain we jump to is declared in the same file.
            let text = std::fs::read_to_string(rules).unwrap();
            let declared: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix(':')).filter_map(|l| l.split_whitespace().next()).collect();
            for l in text.lines().filter(|l| l.starts_with("-A ")) {
                let target = l.split_whitespace().skip_while(|w| *w != "-j").nth(1).unwrap();
                let builtin = ["DNAT", "SNAT", "MASQUERADE", "ACCEPT", "RETURN"].contains(&target);
                assert!(builtin || declared.contains(&target), "{} jumps to undeclared chain {target}", rules.display());
            }
            // And really load it (no --test) into the namespace: the rules must apply.
            let o = ns.exec(&["iptables-restore", "--noflush", rules.to_str().unwrap()]);
            assert!(o.status.success(), "iptables-restore failed: {}", stderr(&o));
            let saved = stdout(&ns.exec(&["iptables-save", "-t", "nat"]));
            assert!(saved.contains("-A PREROUTING -j LVSCTL-PREROUTING"), "{saved}");
            assert!(saved.contains("--to-destination 10.77.0.100:80"), "{saved}");
            checked += 1;
        }
    }
    assert!(checked >= 1, "no router rules were checked");
}

/// A director's firewall marks load into a real mangle table beside the host's own rule, with
/// one jump to lvsctl's chain and the mark rule as written.
#[test]
fn director_mark_rules_load_and_mark_packets() {
    if !root_or_skip("director_mark_rules_load_and_mark_packets") {
        return;
    }
    let mut checked = 0;
    for pb in playbooks() {
        let (_dir, files) = render(&pb);
        for rules in files.iter().filter(|f| f.ends_with("etc/lvsctl/director-fwmark.rules")) {
            let ns = Netns::new("fwm", &["eth0"]);
            let r = rules.to_str().unwrap();
            assert!(ns.exec(&["iptables", "-t", "mangle", "-A", "PREROUTING", "-p", "icmp", "-j", "ACCEPT"]).status.success());
            let o = ns.exec(&["iptables-restore", "--test", r]);
            assert!(o.status.success(), "iptables-restore --test rejected {r}:\n{}", stderr(&o));
            let o = ns.exec(&["iptables-restore", "--noflush", r]);
            assert!(o.status.success(), "iptables-restore failed: {}", stderr(&o));
            let saved = stdout(&ns.exec(&["iptables-save", "-t", "mangle"]));
            assert!(saved.contains("-A PREROUTING -p icmp -j ACCEPT"), "the host's own rule is gone:\n{saved}");
            assert_eq!(saved.matches("-A PREROUTING -j LVSCTL-FWMARK").count(), 1, "{saved}");
            assert!(saved.contains("--dports 80,8080") && saved.contains("-j MARK --set-xmark 0x1/0xffffffff"), "{saved}");
            // The kernel holds the rule as the file says it (`iptables -C`). That the marked
            // packets reach the IPVS service is the VM lab's part (the dr-keepalived-fwmark row).
            let o = ns.exec(&["iptables", "-t", "mangle", "-C", "LVSCTL-FWMARK", "-d", "10.77.0.100/32", "-p", "tcp", "-m", "multiport", "--dports", "80,8080", "-m", "comment", "--comment", "lvsctl:web", "-j", "MARK", "--set-mark", "1"]);
            assert!(o.status.success(), "the mark rule is not as written: {}", stderr(&o));
            checked += 1;
        }
    }
    assert!(checked >= 2, "no director mark rules were checked");
}

#[test]
fn sysctl_files_load_in_a_namespace() {
    // Every net.* key we write exists in a real kernel (per network namespace): `sysctl -p`
    // fails on an unknown key or a wrong interface name.
    if !root_or_skip("sysctl_files_load_in_a_namespace") {
        return;
    }
    for pb in playbooks() {
        let (_dir, files) = render(&pb);
        for f in files.iter().filter(|f| f.ends_with("etc/sysctl.d/90-lvsctl.conf")) {
            let text = std::fs::read_to_string(f).unwrap();
            if text.contains("tunl0") {
                continue; // needs the ipip module, loaded on real TUN real servers only
            }
            let ns = Netns::new("sysctl", &["eth0", "eth1"]);
            let o = ns.exec(&["sysctl", "-p", f.to_str().unwrap()]);
            assert!(o.status.success(), "sysctl -p {} failed:\n{}", f.display(), stderr(&o));
        }
    }
}

/// A generated keepalived pair with `services` DR services, each on its own VIP (the shape of
/// benches/gen_topology.py): returns (topology, inventory).
fn generated_topology(services: usize) -> (String, String) {
    let inventory = "all:\n  hosts:\n    lvs1: { ansible_host: 10.0.0.11 }\n    lvs2: { ansible_host: 10.0.0.12 }\n    \
                     web1: { ansible_host: 10.1.0.1 }\n    web2: { ansible_host: 10.1.0.2 }\n";
    let mut t = String::from(
        "cluster: big\ninventory: inventory.yml\ndirectors: { hosts: [lvs1, lvs2], interface: eth0 }\n\
         vrrp: { virtual_router_id: 51, auth_pass: s3cret }\nservices:\n",
    );
    for i in 0..services {
        let vip = format!("10.2.{}.{}", i / 250, i % 250 + 1);
        t.push_str(&format!("  - {{ name: svc{i:04}, vip: {vip}, port: 80, real_servers: [ {{ host: web1 }}, {{ host: web2 }} ] }}\n"));
    }
    (t, inventory.to_string())
}

#[test]
fn a_thousand_vips_render_validly() {
    // keepalived carries at most 255 VIPs in an instance's adverts (fewer on a small MTU) and
    // fails `keepalived -t` when there are more; lvsctl advertises the first service's VIP
    // only (see plan::director::ADVERTISED_VIPS) and lists the rest as excluded.
    let dir = Scratch::new("vips");
    let (topology, inventory) = generated_topology(1000);
    std::fs::write(dir.path().join("topology.yml"), topology).unwrap();
    std::fs::write(dir.path().join("inventory.yml"), inventory).unwrap();
    let out = dir.path().join("out");
    let o = run(&["render", dir.path().join("topology.yml").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let confs: Vec<_> = files_under(&out).into_iter().filter(|f| f.ends_with("etc/keepalived/keepalived.conf")).collect();
    assert_eq!(confs.len(), 2);
    for conf in &confs {
        let text = std::fs::read_to_string(conf).unwrap();
        let block = |name: &str| -> Vec<String> {
            let start = text.find(&format!("   {name} {{\n")).unwrap_or_else(|| panic!("no {name} in {}", conf.display()));
            let body = &text[start..];
            body.lines().skip(1).take_while(|l| l.trim() != "}").map(|l| l.trim().to_string()).collect()
        };
        let (advertised, excluded) = (block("virtual_ipaddress"), block("virtual_ipaddress_excluded"));
        assert_eq!(advertised.len(), 1, "{}", conf.display());
        assert_eq!(excluded.len(), 999, "{}", conf.display());
        assert_eq!(advertised[0], "10.2.0.1/32 dev eth0");
        assert_eq!(excluded[0], "10.2.0.2/32 dev eth0");
        assert_eq!(excluded.last().unwrap(), "10.2.3.250/32 dev eth0");
    }
    // One service fewer: the adverts (virtual_ipaddress) are the same, only the excluded list
    // shrinks, so the directors roll BACKUP then MASTER without dropping each other's adverts.
    let fewer = Scratch::new("vips-fewer");
    let (topology, inventory) = generated_topology(999);
    std::fs::write(fewer.path().join("topology.yml"), topology).unwrap();
    std::fs::write(fewer.path().join("inventory.yml"), inventory).unwrap();
    let o = run(&["render", fewer.path().join("topology.yml").to_str().unwrap(), "--out", fewer.path().join("out").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for conf in &confs {
        let other = fewer.path().join("out").join(conf.strip_prefix(&out).unwrap());
        let (a, b) = (std::fs::read_to_string(conf).unwrap(), std::fs::read_to_string(&other).unwrap());
        let advertised = |t: &str| t[t.find("   virtual_ipaddress {").unwrap()..t.find("   virtual_ipaddress_excluded {").unwrap()].to_string();
        assert_eq!(advertised(&a), advertised(&b), "{}", conf.display());
        assert_ne!(a, b);
    }
    if !root_or_skip("a_thousand_vips_render_validly") {
        return;
    }
    for conf in &confs {
        let ns = Netns::new("vips", &["eth0"]);
        let o = ns.exec(&["keepalived", "-t", "-e", "-f", conf.to_str().unwrap()]);
        assert!(o.status.success(), "keepalived -t rejected {} (exit {:?}):\n{}{}", conf.display(), o.status.code(), stdout(&o), stderr(&o));
    }
}
