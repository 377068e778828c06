//! Helpers shared by the integration tests: run the built binary, make scratch directories,
//! and create network namespaces for the tests that need real validators (root only).
#![allow(dead_code)]

pub mod secrets;
pub mod vmlab;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The lvsctl binary, run from the repository root with a clean environment for output
/// comparisons (no backtraces, no colors).
pub fn lvsctl() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lvsctl"));
    c.current_dir(repo()).env_remove("RUST_BACKTRACE").env("NO_COLOR", "1").env("CLICOLOR", "0");
    c
}

pub fn run(args: &[&str]) -> Output {
    lvsctl().args(args).output().expect("run lvsctl")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("lvsctl-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Example playbooks shipped in playbooks/.
pub fn playbooks() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("playbooks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    v.sort();
    v
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

/// Tests that need root (network namespaces, real keepalived/iptables) call this first.
/// In CI (`CI` or `LVSCTL_REQUIRE_ROOT` set) a missing root is a failure, never a skip;
/// elsewhere the test is skipped with a loud message on stderr.
pub fn root_or_skip(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("LVSCTL_REQUIRE_ROOT").is_some() {
        panic!("{test} needs root (network namespaces); CI must run the suite as root");
    }
    eprintln!("\n*** SKIPPED {test}: needs root for network namespaces (run as root to include it) ***\n");
    false
}

/// A network namespace with the named interfaces (veth pairs: this kernel may lack `dummy`),
/// deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str, interfaces: &[&str]) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("lvsctl-t-{tag}-{}-{n}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        sh(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
        for (i, iface) in interfaces.iter().enumerate() {
            let peer = format!("peer{i}");
            sh(&["ip", "-n", &ns.name, "link", "add", iface, "type", "veth", "peer", "name", &peer]);
            sh(&["ip", "-n", &ns.name, "link", "set", iface, "up"]);
        }
        ns
    }

    /// Run a command inside the namespace.
    pub fn exec(&self, cmd: &[&str]) -> Output {
        Command::new("ip").args(["netns", "exec", &self.name]).args(cmd).output().expect("ip netns exec")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}

fn sh(cmd: &[&str]) {
    let o = Command::new(cmd[0]).args(&cmd[1..]).output().expect("spawn");
    assert!(o.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&o.stderr));
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The lab of SSH hosts (tests/lab/lab.sh), held exclusively by one test at a time across
/// test processes, reset to fresh hosts when taken.
pub struct Lab {
    _lock: std::fs::File,
}

pub const LAB_HOSTS: &[(&str, &str)] =
    &[("gw", "10.77.0.2"), ("lvs1", "10.77.0.11"), ("lvs2", "10.77.0.12"), ("web1", "10.77.0.21"), ("web2", "10.77.0.22")];

impl Lab {
    /// Take the lab (waiting for other tests) and reset it: every host fresh.
    pub fn fresh() -> Lab {
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(std::env::temp_dir().join("lvsctl-lab.lock")).unwrap();
        lock.lock().expect("lock the lab");
        let o = Command::new("bash").arg(repo().join("tests/lab/lab.sh")).arg("reset").env("LAB_REAL_SERVERS", "2").output().expect("run lab.sh");
        assert!(o.status.success(), "lab.sh reset failed:\n{}{}", stdout(&o), stderr(&o));
        Lab { _lock: lock }
    }

    pub fn ip(host: &str) -> &'static str {
        LAB_HOSTS.iter().find(|(h, _)| *h == host).map(|(_, ip)| *ip).expect("lab host")
    }

    /// Run a shell command on a lab host with OpenSSH (independent of lvsctl's own SSH).
    pub fn ssh(&self, host: &str, cmd: &str) -> Output {
        Command::new("ssh")
            .args(["-i", repo().join(".lab/id_ed25519").to_str().unwrap()])
            .args(["-o", &format!("UserKnownHostsFile={}", repo().join(".lab/known_hosts").display())])
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"])
            .arg(format!("root@{}", Lab::ip(host)))
            .arg(cmd)
            .output()
            .expect("ssh")
    }

    /// Like `ssh`, asserting success, returning stdout.
    pub fn sh(&self, host: &str, cmd: &str) -> String {
        let o = self.ssh(host, cmd);
        assert!(o.status.success(), "on {host}: `{cmd}` failed: {}", stderr(&o));
        stdout(&o)
    }

    /// Execs sshd has started on `host` so far ("Starting session" lines, LogLevel VERBOSE).
    pub fn sshd_sessions(&self, host: &str) -> usize {
        let log = std::fs::read_to_string(format!("/run/lvslab/hosts/{host}/sshd.log")).unwrap_or_default();
        log.lines().filter(|l| l.contains("Starting session:")).count()
    }

    /// The public host key line of `host` from the lab's known_hosts.
    pub fn host_key(&self, host: &str) -> String {
        let known = std::fs::read_to_string(repo().join(".lab/known_hosts")).unwrap();
        let ip = Lab::ip(host);
        let line = known.lines().find(|l| l.split_whitespace().next() == Some(ip)).expect("host in known_hosts");
        line.split_whitespace().skip(1).take(2).collect::<Vec<_>>().join(" ")
    }

    /// Put the rendered files of `playbook` on every host and set their runtime state by hand
    /// (what apply will do), so drift tests start from a converged cluster.
    pub fn converge_by_hand(&self, playbook: &str) {
        let dir = Scratch::new("converge");
        // Rendered as lvsctl persists on the lab's hosts (network-scripts: tests/lab/lab.sh).
        let inv = std::fs::read_to_string(repo().join("inventories/lab.yml"))
            .unwrap()
            .replace("ansible_user: root,", "ansible_user: root, lvsctl_persistence: network-scripts,")
            .replace("../.lab/", &format!("{}/.lab/", repo().display()));
        let inv_path = dir.path().join("inventory.yml");
        std::fs::write(&inv_path, inv).unwrap();
        let o = run(&["render", playbook, "-i", inv_path.to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap()]);
        let dir = Scratch(dir.path().join("out"));
        assert!(o.status.success(), "{}", stderr(&o));
        for (host, _) in LAB_HOSTS {
            let hostdir = dir.path().join(host);
            if !hostdir.is_dir() {
                continue;
            }
            let tar = Command::new("tar").args(["-C", hostdir.to_str().unwrap(), "-cf", "-", "etc"]).output().unwrap();
            let mut child = Command::new("ssh")
                .args(["-i", repo().join(".lab/id_ed25519").to_str().unwrap()])
                .args(["-o", &format!("UserKnownHostsFile={}", repo().join(".lab/known_hosts").display()), "-o", "BatchMode=yes"])
                .arg(format!("root@{}", Lab::ip(host)))
                .arg("tar -C / --no-same-owner -xf -")
                .stdin(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
            assert!(child.wait().unwrap().success(), "copy to {host}");
            let mut cmd = String::from("sysctl -q -p /etc/sysctl.d/90-lvsctl.conf");
            if host.starts_with("web") {
                cmd.push_str(" && ip addr replace 10.77.0.100/32 dev lo label lo:0");
            }
            if *host == "gw" {
                cmd.push_str(" && iptables-restore --noflush /etc/lvsctl/router-nat.rules");
            }
            self.sh(host, &cmd);
        }
    }
}

/// The shell command behind `Lab::snapshot` (and the VM lab's, which adds the IPVS table).
pub const SNAPSHOT: &str = "cd /etc && find keepalived sysctl.d sysconfig lvsctl modules-load.d -type f 2>/dev/null | sort | xargs -r sha256sum; \
             find keepalived sysctl.d sysconfig lvsctl modules-load.d -type f 2>/dev/null | sort | xargs -r stat -c '%a %U:%G %n'; \
             for k in all.arp_ignore all.arp_announce lo.arp_ignore lo.arp_announce all.send_redirects default.send_redirects eth0.send_redirects all.rp_filter; do \
               printf '%s=%s\\n' $k $(cat /proc/sys/net/ipv4/conf/${k%%.*}/${k#*.}); done; \
             echo ip_forward=$(cat /proc/sys/net/ipv4/ip_forward); \
             ip -o -4 addr show | awk '{print $2, $4, $NF}'; ip -4 route show; \
             iptables -t nat -S 2>/dev/null; \
             echo keepalived=$(cat /run/keepalived.pid 2>/dev/null || echo none); \
             ls -d /var/lib/lvsctl/lock 2>/dev/null || echo unlocked";

impl Lab {
    /// Everything lvsctl could change on a host, as text: files under its /etc overlay
    /// (path + SHA-256), the sysctls lvsctl manages, IPv4 addresses, routes, nat rules, the
    /// keepalived pid, lvsctl's lock. Two equal snapshots mean the host is exactly as it was.
    pub fn snapshot(&self, host: &str) -> String {
        self.sh(host, SNAPSHOT)
    }

    pub fn snapshots(&self) -> Vec<(String, String)> {
        LAB_HOSTS.iter().map(|(h, _)| (h.to_string(), self.snapshot(h))).collect()
    }
}
