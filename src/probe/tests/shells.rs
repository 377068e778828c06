//! The script itself, for real: run by dash and by busybox sh (with busybox's own tools first
//! on the PATH, an Alpine host's) on this machine, against a tree of files, sysctl files, a
//! pretend keepalived and a pretend kernel with IPVS, and every fact checked against what was
//! set up.

use std::collections::BTreeMap;

use super::super::{ipvs_table, parse, script_at, ProbeRequest};
use super::{addr, request, sysctls};
use crate::facts::{Facts, FileFact, IpvsFact, Manifest, SysctlOverride};
use crate::remote::{sq, Root};

struct Tree {
    dir: std::path::PathBuf,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write(path: &std::path::Path, content: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The script's root: the fixture tree, and the test's tools first on the PATH.
fn tree_root(dir: &std::path::Path, fake_bin: Option<&std::path::Path>) -> Root {
    Root { dir: dir.to_string_lossy().into_owned(), fake_bin: fake_bin.map(|b| b.to_string_lossy().into_owned()) }
}

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Run `script_at` with `shell` on this machine against a tree of files, sysctls that exist
/// and not, and a pretend keepalived (a copy of sh named keepalived, with a child), and
/// check every fact against what was set up.
fn run_here(tag: &str, shell: &[&str], path_prefix: Option<&std::path::Path>) {
    use std::os::unix::process::CommandExt;
    let dir = std::env::temp_dir().join(format!("lvsctl-probe-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tree = Tree { dir: dir.clone() };
    let d = |p: &str| dir.join(p).to_string_lossy().into_owned();
    let root = dir.join("root");

    write(&dir.join("plain.conf"), b"hello\n", 0o640);
    write(&dir.join("it's a $file `x` *.conf"), b"quoted\n", 0o600);
    write(&dir.join("empty"), b"", 0o644);
    write(&dir.join("listed-only.conf"), b"applied last time\n", 0o644);
    write(&dir.join("latin1"), b"caf\xe9\n", 0o644);
    let big: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    write(&dir.join("big.conf"), big.as_bytes(), 0o644);
    std::fs::create_dir_all(dir.join("a-directory")).unwrap();
    let list = [d("plain.conf"), d("listed-only.conf"), "relative/ignored".into(), String::new(), d("latin1"), d("gone.conf")].join("\n");
    write(&root.join("var/lib/lvsctl/managed-files"), list.as_bytes(), 0o644);
    let manifest = Manifest { cluster: "here".into(), files: vec![d("plain.conf"), d("listed-only.conf"), "/nowhere/old.conf".into()], ..Manifest::default() };
    write(&root.join("var/lib/lvsctl/manifest.json"), &serde_json::to_vec(&manifest).unwrap(), 0o644);
    write(&root.join("etc/os-release"), b"NAME=\"Test OS\"\nID=testos\nID_LIKE=\"debian\"\n", 0o644);
    write(&root.join("etc/sysctl.conf"), b"# ours is 1\nnet.ipv4.ip_forward = 7\n", 0o644);
    std::fs::create_dir_all(root.join("etc/sysctl.d")).unwrap();
    std::os::unix::fs::symlink("../sysctl.conf", root.join("etc/sysctl.d/99-sysctl.conf")).unwrap();

    // A keepalived parent with a keepalived child, like the real one's VRRP process.
    let fake = dir.join("bin/keepalived");
    std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
    // A symlink, not a copy: executing a file this process just wrote races with other test
    // threads' forks (ETXTBSY); `comm` is the executed path's name either way.
    std::os::unix::fs::symlink("/bin/sh", &fake).unwrap();
    let inner = format!("{} -c 'sleep 20; :' & wait", fake.display());
    let mut parent = std::process::Command::new(&fake).args(["-c", &inner]).process_group(0).spawn().unwrap();
    let parent_pid = parent.id();
    write(&root.join("run/keepalived.pid"), format!("{parent_pid}\n").as_bytes(), 0o644);

    let req = request(
        &[&d("plain.conf"), &d("it's a $file `x` *.conf"), &d("empty"), &d("missing.conf"), &d("a-directory"), &d("big.conf")],
        // kernel.pid_max: several digits, which dash's byte-at-a-time `read` cut to the first
        // (the kernel gives end-of-file to an integer sysctl read at a nonzero offset).
        &[("net.ipv4.ip_forward", "1"), ("net.ipv4.conf.lo.arp_ignore", "0"), ("net.ipv4.conf.nosuch0/100.arp_ignore", "1"), ("kernel.pid_max", "4194304")],
        &["keepalived"],
    );
    let script = script_at(&req, &tree_root(&root, path_prefix));
    let mut cmd = std::process::Command::new(shell[0]);
    cmd.args(&shell[1..]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let started = std::time::Instant::now();
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let _ = std::process::Command::new("kill").args(["--", &format!("-{parent_pid}")]).status();
    let _ = parent.wait();

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{tag}: exit {:?}, stderr:\n{stderr}", out.status);
    assert!(stderr.is_empty(), "{tag}: the script wrote to stderr:\n{stderr}");
    let (facts, warnings) = parse(&stdout, &req).unwrap_or_else(|e| panic!("{tag}: {e}\n{stdout}"));
    eprintln!("{tag}: the probe ran in {} ms ({} bytes of output)", elapsed.as_millis(), stdout.len());

    let user = command_output("id", &["-un"]).unwrap();
    let group = command_output("id", &["-gn"]).unwrap();
    let mine = |content: &str, mode: u32| FileFact { content: content.into(), mode, owner: user.clone(), group: group.clone() };
    let want: BTreeMap<String, FileFact> = [
        (d("plain.conf"), mine("hello\n", 0o640)),
        (d("it's a $file `x` *.conf"), mine("quoted\n", 0o600)),
        (d("empty"), mine("", 0o644)),
        (d("big.conf"), mine(&big, 0o644)),
        (d("listed-only.conf"), mine("applied last time\n", 0o644)),
        (d("latin1"), mine("caf\u{fffd}\n", 0o644)),
    ]
    .into();
    assert_eq!(facts.files, want, "{tag}: files");
    assert_eq!(facts.manifest, manifest, "{tag}: manifest");
    let proc_value = |p: &str| std::fs::read_to_string(p).unwrap().trim().to_string();
    assert_eq!(
        facts.sysctls,
        sysctls(&[
            ("net.ipv4.ip_forward", &proc_value("/proc/sys/net/ipv4/ip_forward")),
            ("net.ipv4.conf.lo.arp_ignore", &proc_value("/proc/sys/net/ipv4/conf/lo/arp_ignore")),
            ("kernel.pid_max", &proc_value("/proc/sys/kernel/pid_max")),
        ]),
        "{tag}: sysctls"
    );
    if command_output("ip", &["-V"]).is_some() {
        assert!(facts.addresses.contains(&addr("127.0.0.1", 8, "lo", None)), "{tag}: {:?}", facts.addresses);
    }
    assert_eq!(facts.os_family.as_deref(), Some("testos debian"), "{tag}");
    assert_eq!(facts.sysctl_overrides, vec![SysctlOverride { key: "net.ipv4.ip_forward".into(), value: "7".into(), file: "/etc/sysctl.conf".into() }], "{tag}");
    assert!(facts.keepalived.running, "{tag}: the pretend keepalived was not found");
    assert_eq!(facts.keepalived.pid, Some(parent_pid), "{tag}");
    assert_eq!(facts.services.get("keepalived"), Some(&true), "{tag}");
    assert_eq!(facts.keepalived.installed, facts.keepalived.version.is_some(), "{tag}: {:?}", facts.keepalived);
    assert_eq!(
        warnings,
        vec![
            format!("{} exists but is not a regular file (a directory?): lvsctl cannot write it until it is removed", d("a-directory")),
            format!("{} is not UTF-8 text: compared with invalid bytes replaced", d("latin1")),
            "/nowhere/old.conf is in /var/lib/lvsctl/manifest.json but not in /var/lib/lvsctl/managed-files, so it was not probed: its state on the host is unknown".to_string(),
        ],
        "{tag}"
    );
    drop(tree);
}

/// The IPVS section run by `shell` against a pretend kernel: none (no /proc/net/ip_vs),
/// one read through `ipvsadm -Ln`, one read from /proc/net/ip_vs after ipvsadm failed.
/// ipvsadm is a shell function here (`command -v` finds functions too): the real one
/// would try to load the ip_vs module.
fn run_ipvs_here(tag: &str, shell: &[&str], path_prefix: Option<&std::path::Path>) {
    let dir = std::env::temp_dir().join(format!("lvsctl-probe-ipvs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let tree = Tree { dir: dir.clone() };
    let recorded_adm = include_str!("../../../tests/probe/ipvs/ipvsadm-Ln.txt");
    let recorded_proc = include_str!("../../../tests/probe/ipvs/proc-net-ip_vs.txt");
    let req = ProbeRequest { ipvs: true, ..ProbeRequest::default() };
    let run = |root: &std::path::Path, ipvsadm: &str| -> (Facts, Vec<String>) {
        let script = format!("ipvsadm() {{ {ipvsadm}; }}\n{}", script_at(&req, &tree_root(root, path_prefix)));
        let mut cmd = std::process::Command::new(shell[0]);
        cmd.args(&shell[1..]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success() && out.stderr.is_empty(), "{tag}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        parse(&stdout, &req).unwrap_or_else(|e| panic!("{tag}: {e}\n{stdout}"))
    };
    let table = |text: &str, source| {
        let lines: Vec<(usize, &str)> = text.lines().enumerate().collect();
        IpvsFact::Table(match source {
            crate::ipvs::Source::Ipvsadm => ipvs_table::parse_ipvsadm(0, &lines).unwrap(),
            crate::ipvs::Source::Proc => ipvs_table::parse_proc(0, &lines, Some(250)).unwrap(),
        })
    };

    let none = dir.join("no-ipvs");
    std::fs::create_dir_all(&none).unwrap();
    let (facts, warnings) = run(&none, "echo 'ipvsadm must not run without IPVS'; return 1");
    assert_eq!((facts.ipvs, warnings.len()), (IpvsFact::NoIpvs, 0), "{tag}");

    let root = dir.join("ipvs");
    write(&root.join("proc/net/ip_vs"), recorded_proc.as_bytes(), 0o444);
    let release = command_output("uname", &["-r"]).unwrap();
    write(&root.join(format!("boot/config-{release}")), b"CONFIG_HZ_250=y\nCONFIG_HZ=250\n", 0o644);
    let fake = dir.join("ipvsadm-Ln.txt");
    write(&fake, recorded_adm.as_bytes(), 0o644);
    let (facts, warnings) = run(&root, &format!("[ \"$*\" = -Ln ] && cat {}", sq(&fake.to_string_lossy())));
    assert_eq!(facts.ipvs, table(recorded_adm, crate::ipvs::Source::Ipvsadm), "{tag}: through ipvsadm");
    assert!(warnings.is_empty(), "{tag}: {warnings:?}");

    let (facts, warnings) = run(&root, "echo 'Can'\\''t initialize ipvs: Permission denied' >&2; return 2");
    assert_eq!(facts.ipvs, table(recorded_proc, crate::ipvs::Source::Proc), "{tag}: from /proc with HZ 250");
    assert_eq!(warnings, vec!["`ipvsadm -Ln` failed on the host (not root?): the IPVS table was read from /proc/net/ip_vs instead"], "{tag}");
    drop(tree);
}

#[test]
fn the_ipvs_section_runs_under_dash_and_busybox() {
    if let Some(dash) = ["/usr/bin/dash", "/bin/dash"].into_iter().find(|p| std::path::Path::new(p).exists()) {
        run_ipvs_here("dash", &[dash, "-s"], None);
    } else {
        run_ipvs_here("sh", &["sh", "-s"], None);
    }
    let Some(busybox) = ["/usr/bin/busybox", "/bin/busybox"].into_iter().find(|p| std::path::Path::new(p).exists()) else {
        eprintln!("busybox skipped: not installed (apt-get install busybox)");
        return;
    };
    let bin = std::env::temp_dir().join(format!("lvsctl-probe-ipvs-busybox-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    let _cleanup = Tree { dir: bin.clone() };
    for tool in ["sh", "cat", "grep", "uname"] {
        let _ = std::os::unix::fs::symlink(busybox, bin.join(tool));
    }
    run_ipvs_here("busybox", &[busybox, "sh", "-s"], Some(&bin));
}

#[test]
fn the_script_runs_under_dash_on_this_machine() {
    let dash = ["/usr/bin/dash", "/bin/dash"].into_iter().find(|p| std::path::Path::new(p).exists());
    match dash {
        Some(dash) => run_here("dash", &[dash, "-s"], None),
        None => run_here("sh", &["sh", "-s"], None),
    }
}

/// busybox sh with busybox's own stat, base64 (which wraps), grep, ip, readlink and head
/// first on the PATH: an Alpine host's tools. Skipped where busybox is not installed.
#[test]
fn the_script_runs_under_busybox_with_busybox_tools() {
    let Some(busybox) = ["/usr/bin/busybox", "/bin/busybox"].into_iter().find(|p| std::path::Path::new(p).exists()) else {
        eprintln!("skipped: busybox is not installed (apt-get install busybox)");
        return;
    };
    let bin = std::env::temp_dir().join(format!("lvsctl-probe-busybox-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).unwrap();
    let _cleanup = Tree { dir: bin.clone() };
    for tool in ["sh", "stat", "base64", "grep", "ip", "readlink", "head", "sleep"] {
        let _ = std::os::unix::fs::symlink(busybox, bin.join(tool));
    }
    run_here("busybox", &[busybox, "sh", "-s"], Some(&bin));
}
