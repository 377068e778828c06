//! `lvsctl import` as a table: each row is a cluster's keepalived.conf files (a seed
//! document's hand-written pair, or an example playbook as lvsctl renders it) and an
//! inventory. The row runs `import`, checks its exit code and what it reported at
//! file:line:column, renders the imported topology, and compares each director's original
//! file with the re-rendered one **structurally** (`lvsctl::import::conf::Conf`: keepalived's
//! meaning with its defaults, not the text). Two things differ on purpose everywhere:
//! `router_id` (lvsctl writes the host's name) and the file's path; a row lists any other
//! difference lvsctl makes on purpose, with the reason, as an edit of the original's `Conf`.

use std::path::{Path, PathBuf};

use lvsctl::diagnostic::Diagnostics;
use lvsctl::import::conf::{self, Conf};
use lvsctl::import::syntax;

use crate::common::*;

/// Where the files come from.
enum Files {
    /// tests/import/DIR/{lvs1,lvs2}.conf + inventory.yml, each file named HOST=FILE.
    Seed { dir: &'static str, hosts: [&'static str; 2] },
    /// playbooks/NAME.yml rendered by lvsctl; the files found by their path (no HOST=).
    Rendered(&'static str),
}

struct Row {
    name: &'static str,
    files: Files,
    exit: i32,
    /// (file name:line:column, a fragment of the message) that import must print.
    reported: &'static [(&'static str, &'static str)],
    /// What lvsctl renders differently on purpose, applied to the original's `Conf` (host, conf).
    on_purpose: fn(&str, &mut Conf),
}

fn nothing(_: &str, _: &mut Conf) {}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "seed 000: one director's file and its backup (TCP_CHECK, persistence)",
            files: Files::Seed { dir: "seed-000", hosts: ["lvs1", "lvs2"] },
            exit: 0,
            reported: &[],
            on_purpose: nothing,
        },
        Row {
            name: "seed 002: sync group of one, e-mail alerts, a typo and nat_mask",
            files: Files::Seed { dir: "seed-002", hosts: ["lvs191", "lvs192"] },
            exit: 0,
            reported: &[
                ("lvs1.conf:19:1", "`lync_sync_daemon_interface` (vrrp_instance vip_apache) is not a keepalived 2.2.7 keyword"),
                ("lvs1.conf:35:1", "`nat_mask` (virtual_server 192.168.0.100 80) is not a keepalived 2.2.7 keyword"),
                ("lvs1.conf:10:1", "vrrp_sync_group VGM has one member"),
            ],
            on_purpose: |_, c| {
                // keepalived 2.x refuses a sync group of one instance; lvsctl leaves it out...
                c.sync_groups.clear();
                // ...and alerts by e-mail whenever notification_email is set.
                c.instances[0].smtp_alert = true;
            },
        },
        Row {
            name: "seed 003: HTTP_GET, a /24 VIP, garp refresh settings",
            files: Files::Seed { dir: "seed-003", hosts: ["keepalived", "keepalived-backup"] },
            exit: 0,
            reported: &[
                ("lvs1.conf:5:1", "VIP 192.168.88.100/24: lvsctl adds VIPs as /32"),
                ("lvs2.conf:5:1", "`keepalived-backup` starts as MASTER"),
            ],
            on_purpose: |host, c| {
                // VIPs are /32 (the directors' own addresses route the /24).
                c.instances[0].addresses[0].prefix = 32;
                // Both files say MASTER (the document changed only the priority): lvsctl
                // starts the lower priority as BACKUP.
                if host == "keepalived-backup" {
                    c.instances[0].state = "BACKUP".into();
                }
            },
        },
        Row {
            name: "seed 004: state SLAVE, persistence_timeout 0, timings without a check",
            files: Files::Seed { dir: "seed-004", hosts: ["lb72", "lb76"] },
            exit: 0,
            reported: &[
                ("lvs2.conf:8:11", "state `SLAVE` is not MASTER or BACKUP: keepalived starts the instance as BACKUP"),
                ("lvs1.conf:26:25", "persistence_timeout 0 is outside 1..2678400: keepalived ignores the line"),
                ("lvs1.conf:29:5", "has check timings but no check"),
            ],
            on_purpose: nothing,
        },
        Row { name: "dr-keepalived-active-active", files: Files::Rendered("dr-keepalived-active-active"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "dr-keepalived-director-health", files: Files::Rendered("dr-keepalived-director-health"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "dr-keepalived-pair-http", files: Files::Rendered("dr-keepalived-pair-http"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "dr-keepalived-pair-sync", files: Files::Rendered("dr-keepalived-pair-sync"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "dr-keepalived-router", files: Files::Rendered("dr-keepalived-router"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "dr-keepalived-single", files: Files::Rendered("dr-keepalived-single"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "dr-keepalived-sorry-quorum", files: Files::Rendered("dr-keepalived-sorry-quorum"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "nat-keepalived-pair", files: Files::Rendered("nat-keepalived-pair"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "nat-keepalived-pair-unicast", files: Files::Rendered("nat-keepalived-pair-unicast"), exit: 0, reported: &[], on_purpose: nothing },
        Row { name: "tun-keepalived", files: Files::Rendered("tun-keepalived"), exit: 0, reported: &[], on_purpose: nothing },
    ]
}

/// A file's `Conf`, without what differs on purpose everywhere. An original may hold what
/// lvsctl cannot express (reported by import, checked by the row); what lvsctl rendered
/// (`rendered`) must read without an error.
fn meaning(file: &Path, rendered: bool) -> Conf {
    let mut d = Diagnostics::default();
    let stmts = syntax::read(file, &mut d);
    let mut c = conf::read(PathBuf::new(), &stmts, &mut d);
    assert!(!rendered || !d.has_errors(), "{}: {d:?}", file.display());
    c.router_id = None;
    c
}

#[test]
fn import_then_render_gives_an_equivalent_keepalived_conf() {
    let mut failures = Vec::new();
    for r in rows() {
        let dir = Scratch::new("import");
        let (sources, inventory, args): (Vec<(String, PathBuf)>, PathBuf, Vec<String>) = match &r.files {
            Files::Seed { dir: d, hosts } => {
                let base = repo().join("tests/import").join(d);
                let sources: Vec<(String, PathBuf)> = hosts.iter().zip(["lvs1.conf", "lvs2.conf"]).map(|(h, f)| (h.to_string(), base.join(f))).collect();
                let args = sources.iter().map(|(h, f)| format!("{h}={}", f.display())).collect();
                (sources, base.join("inventory.yml"), args)
            }
            Files::Rendered(pb) => {
                let out = dir.path().join("original");
                let o = run(&["render", &format!("playbooks/{pb}.yml"), "--out", out.to_str().unwrap()]);
                assert_eq!(o.status.code(), Some(0), "{pb}: {}", stderr(&o));
                let mut sources = Vec::new();
                for host in ["lvs1", "lvs2"] {
                    let f = out.join(host).join("etc/keepalived/keepalived.conf");
                    if f.exists() {
                        sources.push((host.to_string(), f));
                    }
                }
                let text = std::fs::read_to_string(repo().join(format!("playbooks/{pb}.yml"))).unwrap();
                let inv = text.lines().find_map(|l| l.strip_prefix("inventory: ")).unwrap().trim().to_string();
                let args = sources.iter().map(|(_, f)| f.display().to_string()).collect();
                (sources, repo().join("playbooks").join(inv), args)
            }
        };
        let topology = dir.path().join("imported.yml");
        let mut cmd: Vec<&str> = vec!["import"];
        cmd.extend(args.iter().map(String::as_str));
        cmd.extend(["-i", inventory.to_str().unwrap(), "--out", topology.to_str().unwrap()]);
        let o = run(&cmd);
        let err = stderr(&o);
        if o.status.code() != Some(r.exit) {
            failures.push(format!("{}: import exit {:?}, want {}:\n{err}", r.name, o.status.code(), r.exit));
            continue;
        }
        for (at, what) in r.reported {
            if !err.lines().any(|l| l.contains(&format!("/{at}: ")) && l.contains(what)) {
                failures.push(format!("{}: want `{what}` at {at}:\n{err}", r.name));
            }
        }
        if !err.contains("it validates") {
            failures.push(format!("{}: the imported topology does not validate:\n{err}", r.name));
            continue;
        }
        let rendered = dir.path().join("rendered");
        let o = run(&["render", topology.to_str().unwrap(), "--out", rendered.to_str().unwrap()]);
        if o.status.code() != Some(0) {
            failures.push(format!("{}: render of the imported topology: {}", r.name, stderr(&o)));
            continue;
        }
        for (host, original) in &sources {
            let mut want = meaning(original, false);
            (r.on_purpose)(host, &mut want);
            let got = meaning(&rendered.join(host).join("etc/keepalived/keepalived.conf"), true);
            if want != got {
                let (a, b) = (format!("{want:#?}\n"), format!("{got:#?}\n"));
                let diff = similar::TextDiff::from_lines(&a, &b).unified_diff().header("original", "imported and rendered").to_string();
                failures.push(format!("{}: {host}'s keepalived.conf means something else after import + render:\n{diff}", r.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} problem(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

/// The control: the comparison sees a real difference (a weight changed in the original).
#[test]
fn the_structural_comparison_sees_a_changed_weight() {
    let dir = Scratch::new("import-control");
    let f = repo().join("tests/import/seed-000/lvs1.conf");
    let changed = dir.path().join("lvs1.conf");
    std::fs::write(&changed, std::fs::read_to_string(&f).unwrap().replacen("weight 100", "weight 99", 1)).unwrap();
    assert_ne!(meaning(&f, false), meaning(&changed, false));
    // And spelling is not meaning: lb_algo/lvs_sched, nb_get_retry/retry, a default written out.
    let respelled = dir.path().join("respelled.conf");
    let text = std::fs::read_to_string(&f).unwrap().replace("lb_algo", "lvs_sched").replace("nb_get_retry", "retry").replace("protocol TCP", "protocol TCP\n    quorum 1");
    std::fs::write(&respelled, text).unwrap();
    assert_eq!(meaning(&f, false), meaning(&respelled, false));
}

/// What the directors' files disagree on (besides router_id, state, priority) is reported at
/// the second file's place, naming the first's; the topology takes the MASTER's side.
#[test]
fn drift_between_the_directors_is_reported() {
    let dir = Scratch::new("import-drift");
    let base = repo().join("tests/import/seed-000");
    let backup = std::fs::read_to_string(base.join("lvs2.conf")).unwrap();
    let drifted = dir.path().join("lvs2.conf");
    // The BACKUP's second real server weighs 50 there, and its VRRP advert interval is 2.
    let text = backup.replacen("weight 100", "weight 50", 2).replacen("weight 50", "weight 100", 1).replace("advert_int 1", "advert_int 2");
    std::fs::write(&drifted, text).unwrap();
    let out = dir.path().join("t.yml");
    let o = run(&[
        "import",
        &format!("lvs1={}", base.join("lvs1.conf").display()),
        &format!("lvs2={}", drifted.display()),
        "-i",
        base.join("inventory.yml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("lvs2.conf:1:1: warning: vrrp_instance VI_1: advert_int differs between `lvs1` and `lvs2`"), "{err}");
    assert!(err.contains("lvs2.conf:18:1: warning: virtual_server 192.168.67.100 80 differs between `lvs1` and `lvs2`"), "{err}");
    let topology = std::fs::read_to_string(&out).unwrap();
    assert!(topology.contains("advert_int: 1") && !topology.contains("weight: 50"), "the MASTER's side:\n{topology}");
}
