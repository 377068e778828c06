//! The commands as a user runs them: output, exit codes, secrets kept out of every output.

use crate::common::*;

const MAIN: &str = "playbooks/dr-keepalived-router.yml";
const SECRET: &str = "s3cret";

fn assert_no_secret(o: &std::process::Output, what: &str) {
    let (out, err) = (stdout(o), stderr(o));
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{what} printed the VRRP secret:\n{out}\n{err}");
}

#[test]
fn validate_accepts_every_example() {
    for pb in playbooks() {
        let o = run(&["validate", pb.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", pb.display(), stderr(&o));
        assert!(stdout(&o).contains(": ok: cluster"), "{}", stdout(&o));
        assert_no_secret(&o, "validate");
    }
}

#[test]
fn offline_plan_lists_every_file_and_runtime_change_of_all_hosts() {
    let o = run(&["plan", MAIN, "--offline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        "gw (router): 11 change(s)",
        "lvs1 (master director): 10 change(s)",
        "lvs2 (backup director): 10 change(s)",
        "web1 (real server): 9 change(s)",
        // Offline, every host persists with systemd units (no facts to choose from).
        "  persistence: systemd units (lvsctl-boot.service and its kin); default (no facts: set lvsctl_persistence to choose)",
        "+ file create /etc/keepalived/keepalived.conf (mode 0640",
        "+ file create /etc/lvsctl/boot.sh (mode 0755",
        "+ file create /etc/systemd/system/lvsctl-boot.service (mode 0644",
        "+ file create /etc/systemd/system/lvsctl-nat.service (mode 0644",
        "+ file create /etc/lvsctl/router-nat.rules",
        "+  try ip addr replace 10.77.0.100/32 dev lo label lo:0",
        "~ sysctl net.ipv4.conf.all.arp_ignore = 1",
        "~ sysctl net.ipv4.conf.eth0.send_redirects = 0",
        "~ sysctl net.ipv4.ip_forward = 1",
        "+ addr 10.77.0.100/32 dev lo label lo:0",
        "~ iptables nat: load chains LVSCTL-PREROUTING, LVSCTL-POSTROUTING",
        "~ service keepalived start",
        "+ boot: enable keepalived",
        "+ boot: enable lvsctl-boot.service",
        "+ boot: enable lvsctl-nat.service",
        "+virtual_server 10.77.0.100 80 {",
        "+      auth_pass ********",
        "Plan: 5 of 5 host(s) to change: 20 file(s) to create, 0 to update, 0 to delete; 29 runtime change(s).",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    // The VIPs persist through the boot script, not network-scripts files.
    assert!(!out.contains("network-scripts"), "{out}");
    // ARP sysctls come before the VIP is bound.
    let web1 = &out[out.find("web1 (").unwrap()..];
    assert!(web1.find("arp_ignore").unwrap() < web1.find("+ addr").unwrap());
    assert_no_secret(&o, "plan");
}

/// Directors get IPVS's sysctls for hitless changes, with the module loaded before them (at
/// apply time and at boot); an inventory whose kernel has no IPVS (`lvsctl_ipvs_sysctls:
/// false`, the netns lab) gets neither.
#[test]
fn directors_get_the_ipvs_sysctls_unless_the_inventory_says_the_kernel_has_no_ipvs() {
    let o = run(&["plan", MAIN, "-i", "inventories/vmlab.yml", "--offline"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lvs1 = &out[out.find("lvs1 (master director)").unwrap()..out.find("lvs2 (backup director)").unwrap()];
    for expected in [
        "~ sysctl net.ipv4.vs.expire_nodest_conn = 1",
        "~ sysctl net.ipv4.vs.expire_quiescent_template = 1",
        "+ file create /etc/modules-load.d/lvsctl.conf",
        "+ip_vs",
        "+  [ -d /sys/module/ip_vs ] || try modprobe ip_vs",
    ] {
        assert!(lvs1.contains(expected), "missing `{expected}` in:\n{lvs1}");
    }
    let web1 = &out[out.find("web1 (real server)").unwrap()..];
    assert!(!web1.contains("net.ipv4.vs."), "a real server got IPVS sysctls:\n{web1}");
    let o = run(&["plan", MAIN, "--offline"]);
    assert!(!stdout(&o).contains("net.ipv4.vs.") && !stdout(&o).contains("ip_vs"), "inventories/lab.yml says the kernel has no IPVS:\n{}", stdout(&o));
}

#[test]
fn detailed_exitcode_is_2_with_changes_and_0_without() {
    let o = run(&["plan", MAIN, "--offline", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2));
    let dir = Scratch::new("against");
    let d = dir.path().to_str().unwrap();
    assert!(run(&["render", MAIN, "--out", d]).status.success());
    let o = run(&["plan", MAIN, "--offline", "--against", d, "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("No changes: 5 host(s) match the topology."), "{}", stdout(&o));
}

#[test]
fn json_plan_parses_and_matches_the_text_plan() {
    let o = run(&["plan", MAIN, "--offline", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_no_secret(&o, "plan --json");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON on stdout");
    let hosts = v["hosts"].as_array().unwrap();
    let names: Vec<&str> = hosts.iter().map(|h| h["host"].as_str().unwrap()).collect();
    assert_eq!(names, ["gw", "lvs1", "lvs2", "web1", "web2"]);
    let total: usize = hosts.iter().map(|h| h["changes"].as_array().unwrap().len()).sum();
    assert_eq!(total, 49);
    assert_eq!(v["summary"]["files_create"], 20);
    assert_eq!(v["summary"]["runtime"], 29);
    let web1 = &hosts[3]["changes"];
    assert_eq!(web1[0]["kind"], "file");
    assert_eq!(web1[0]["action"], "create");
    assert!(web1.as_array().unwrap().iter().any(|c| c["kind"] == "address_add" && c["address"]["label"] == "lo:0"));
    assert!(web1.as_array().unwrap().iter().any(|c| c["kind"] == "boot" && c["unit"] == "lvsctl-boot.service" && c["enable"] == true), "{web1}");
    // The text plan shows the same number of changes per host, in its header and as change
    // lines (its `persistence:` line is not one).
    let text = stdout(&run(&["plan", MAIN, "--offline"]));
    for h in hosts {
        let line = format!("{} (", h["host"].as_str().unwrap());
        let n = h["changes"].as_array().unwrap().len();
        assert!(text.lines().any(|l| l.starts_with(&line) && l.ends_with(&format!("{n} change(s)"))), "{line} {n}\n{text}");
        let block: Vec<&str> = text.lines().skip_while(|l| !l.starts_with(&line)).skip(1).take_while(|l| !l.is_empty()).collect();
        let changes = block.iter().filter(|l| ["  + ", "  ~ ", "  - "].iter().any(|s| l.starts_with(s))).count();
        assert_eq!(changes, n, "{line}\n{}", block.join("\n"));
        assert_eq!(block.iter().filter(|l| l.starts_with("  persistence: ")).count(), 1, "{line}\n{}", block.join("\n"));
    }
}

#[test]
fn render_check_reports_drift_with_a_masked_diff() {
    let dir = Scratch::new("check");
    let d = dir.path().to_str().unwrap();
    assert!(run(&["render", MAIN, "--out", d]).status.success());
    let o = run(&["render", MAIN, "--check", d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Hand edits: a changed secret and a changed weight, and a stray host directory.
    let conf = dir.path().join("lvs1/etc/keepalived/keepalived.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("auth_pass s3cret", "auth_pass other").replace("weight 1", "weight 5")).unwrap();
    std::fs::create_dir_all(dir.path().join("oldhost/etc")).unwrap();
    let o = run(&["render", MAIN, "--check", d]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("--- a/lvs1/etc/keepalived/keepalived.conf"), "{out}");
    assert!(out.contains("-      weight 5") && out.contains("+      weight 1"), "{out}");
    assert!(out.contains("Only in") && out.contains("oldhost"), "{out}");
    assert!(!out.contains("other") && !out.contains(SECRET), "secret leaked:\n{out}");
    // --out converges the directory again, removing what the topology does not produce.
    assert!(run(&["render", MAIN, "--out", d]).status.success());
    assert_eq!(run(&["render", MAIN, "--check", d]).status.code(), Some(0));
    assert!(!dir.path().join("oldhost").exists());
}

#[test]
fn a_changed_secret_alone_is_reported_without_showing_it() {
    let dir = Scratch::new("secret");
    let d = dir.path().to_str().unwrap();
    assert!(run(&["render", MAIN, "--out", d]).status.success());
    let conf = dir.path().join("lvs2/etc/keepalived/keepalived.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&conf, text.replace("auth_pass s3cret", "auth_pass oldpass")).unwrap();
    let o = run(&["plan", MAIN, "--offline", "--against", d, "--json"]);
    assert!(!stdout(&o).contains("oldpass"));
    assert_no_secret(&o, "plan --against");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lvs2 = v["hosts"].as_array().unwrap().iter().find(|h| h["host"] == "lvs2").unwrap();
    let diff = lvs2["changes"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("secret value changed (masked)"), "{diff}");
    assert_eq!(lvs2["changes"][1]["kind"], "service");
    assert_eq!(lvs2["changes"][1]["action"], "reload");
}

#[test]
fn plan_against_a_render_of_a_larger_topology_removes_what_is_gone() {
    // Render the DR pair + router, then plan the pair without the router and with only web1:
    // the router's and web2's files are to be deleted and web2's VIP taken off lo.
    let dir = Scratch::new("gone");
    let d = dir.path().to_str().unwrap();
    assert!(run(&["render", MAIN, "--out", d]).status.success());
    let smaller = dir.path().join("smaller.yml");
    let text = std::fs::read_to_string(repo().join(MAIN)).unwrap();
    let text = text.split("router:").next().unwrap().replace("      - { host: web2, weight: 1 }\n", "");
    std::fs::write(&smaller, text.replace("../inventories/lab.yml", repo().join("inventories/lab.yml").to_str().unwrap())).unwrap();
    let o = run(&["plan", smaller.to_str().unwrap(), "--offline", "--against", d, "--limit", "lvs1,web1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("web1 (real server): no changes"), "{out}");
    assert!(out.contains("-   real_server 10.77.0.22 80 {"), "{out}");
    assert!(!out.contains("gw ("), "--limit must hide other hosts:\n{out}");
}

#[test]
fn render_out_refuses_a_foreign_non_empty_directory() {
    let dir = Scratch::new("foreign");
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let o = run(&["render", MAIN, "--out", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("was not written by `lvsctl render`"), "{}", stderr(&o));
    assert!(dir.path().join("precious.txt").exists());
}

#[test]
fn usage_errors_exit_1_not_2() {
    assert_eq!(run(&["plan"]).status.code(), Some(1));
    assert_eq!(run(&["render", MAIN]).status.code(), Some(1));
    assert_eq!(run(&["bogus"]).status.code(), Some(1));
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    let o = run(&["plan", MAIN, "--offline", "--limit", "nosuchhost"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("`nosuchhost` is not a host of this cluster"));
}

#[test]
fn templates_can_be_overridden_and_stay_strict() {
    let dir = Scratch::new("tmpl");
    std::fs::write(dir.path().join("sysctl.conf.j2"), "# site format\n{% for s in sysctls %}{{ s.key }}={{ s.value }}\n{% endfor %}").unwrap();
    let out = Scratch::new("tmpl-out");
    let o = run(&["render", MAIN, "--templates", dir.path().to_str().unwrap(), "--out", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sysctl = std::fs::read_to_string(out.path().join("web1/etc/sysctl.d/90-lvsctl.conf")).unwrap();
    assert!(sysctl.starts_with("# site format\nnet.ipv4.conf.all.arp_ignore=1\n"), "{sysctl}");
    // Other templates stay embedded.
    assert!(out.path().join("lvs1/etc/keepalived/keepalived.conf").exists());
    // A typo in an override is an error, not an empty value.
    std::fs::write(dir.path().join("sysctl.conf.j2"), "{{ sysctl_typo }}").unwrap();
    let o = run(&["validate", MAIN, "--templates", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("template `sysctl.conf.j2`") && stderr(&o).contains("undefined"), "{}", stderr(&o));
}

#[test]
fn warnings_do_not_fail_validation_but_are_shown_with_location() {
    let o = run(&["validate", "playbooks/dr-ipvsadm-single.yml"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("playbooks/dr-ipvsadm-single.yml:8:11: warning: `engine: ipvsadm` has no health checks"), "{}", stderr(&o));
    let o = run(&["validate", "playbooks/dr-keepalived-pair-sync.yml"]);
    assert!(stderr(&o).contains("sync group `VGM` would hold only one VRRP instance"), "{}", stderr(&o));
    // A track script whose weight cannot hand the VIPs over (150 - 30 is still above 100).
    let dir = Scratch::new("weak-weight");
    let text = std::fs::read_to_string(repo().join("playbooks/dr-keepalived-director-health.yml"))
        .unwrap()
        .replace("inventory: ../inventories/lab.yml", &format!("inventory: {}", repo().join("inventories/lab.yml").display()))
        .replace("      weight: 0 ", "      weight: -30 ");
    assert!(text.contains("weight: -30 "), "the example changed shape");
    std::fs::write(dir.path().join("t.yml"), &text).unwrap();
    let o = run(&["validate", dir.path().join("t.yml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("t.yml:25:15: warning: when `upstream` fails, `lvs1` drops to priority 120, not below the BACKUP's 100: the VIPs stay on it"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("use a weight of -51 or less"), "{}", stderr(&o));
}

#[test]
fn an_ini_inventory_gives_the_same_plan_as_its_yaml_twin() {
    let dir = Scratch::new("ini");
    let ini = dir.path().join("lab.ini");
    std::fs::write(
        &ini,
        "[all:vars]\nansible_user=root\n\n[directors]\nlvs[1:2] interface=eth0 lvsctl_ipvs_sysctls=false\n\n[real_servers]\nweb1 ansible_host=10.77.0.21\nweb2 ansible_host=10.77.0.22\n\n[routers]\ngw ansible_host=10.77.0.2\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("host_vars")).unwrap();
    std::fs::write(dir.path().join("host_vars/lvs1.yml"), "ansible_host: 10.77.0.11\n").unwrap();
    std::fs::write(dir.path().join("host_vars/lvs2.yml"), "ansible_host: 10.77.0.12\n").unwrap();
    let yaml = run(&["plan", MAIN, "--offline", "--json"]);
    let from_ini = run(&["plan", MAIN, "-i", ini.to_str().unwrap(), "--offline", "--json"]);
    assert!(from_ini.status.success(), "{}", stderr(&from_ini));
    assert_eq!(stdout(&yaml), stdout(&from_ini));
}

#[test]
fn inventory_shows_each_host_and_where_its_variables_come_from() {
    let o = run(&["inventory", "-i", "tests/inventories/ini-children/hosts.ini", "--limit", "lvs2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        // group_vars/lb.yml beats [all:vars]; the host's own interface beats group_vars/all.
        "lvs2  lbadmin@10.77.0.12:2222  become root (sudo)  groups: directors, lb, site",
        "ansible_user                  \"lbadmin\"                tests/inventories/ini-children/group_vars/lb.yml:1:15",
        "interface                     \"ens4\"                   tests/inventories/ini-children/hosts.ini:14:58",
        "1 host(s) in tests/inventories/ini-children/hosts.ini (INI).",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    let o = run(&["inventory", "-i", "tests/inventories/ini-children/hosts.ini", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "ini");
    assert_eq!(v["hosts"][0]["name"], "bastion");
    assert_eq!(v["hosts"][0]["ssh"]["user"], "jump");
    let o = run(&["inventory", "-i", "tests/inventories/ini-children/hosts.ini", "--limit", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn version_completions_and_man_page_come_from_the_cli_definition() {
    let o = run(&["--version"]);
    assert!(o.status.success());
    let version = stdout(&o);
    assert!(version.starts_with(&format!("lvsctl {} (commit ", env!("CARGO_PKG_VERSION"))), "{version}");
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for word in ["lvsctl", "inventory", "rollback", "detailed-exitcode"] {
            assert!(script.contains(word), "{shell} completions lack `{word}`");
        }
    }
    let o = run(&["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH lvsctl 1") && page.contains("(commit "), "{page}");
    assert!(page.contains("lvsctl\\-inventory(1)"), "the page lists the subcommands:\n{page}");
    let dir = Scratch::new("man");
    let o = run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for page in ["lvsctl.1", "lvsctl-plan.1", "lvsctl-inventory.1", "lvsctl-completions.1"] {
        assert!(dir.path().join(page).exists(), "{page} not written");
    }
}
