//! The VM lab (tests/vmlab/vmlab.sh) from the tests: take one (exclusively, across test
//! processes), reset it to fresh VMs, run commands in them, send client traffic from outside
//! the cluster (the lab's client namespace, through tests/vmlab/traffic.py) and wait for
//! conditions with deadlines.
//!
//! Several labs can run side by side (`VMLAB_SLOTS`, default 1; tests/run.sh runs two): a test
//! takes the first free slot. Slot 0's runner side is the runner itself, so it shares the netns
//! lab's lock (both use the same addresses there); slot N's runner side is the namespace
//! vmlabN-run, where lvsctl, ssh and arping run for it. A case spends about half its time
//! waiting on keepalived's and VRRP's clocks, which is what two labs on two cores share.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{repo, stderr, stdout};

/// The client's source addresses (persistence and source hashing see eight clients).
pub const SOURCES: [&str; 8] =
    ["10.77.9.100", "10.77.9.101", "10.77.9.102", "10.77.9.103", "10.77.9.104", "10.77.9.105", "10.77.9.106", "10.77.9.107"];

pub fn ip(host: &str) -> &'static str {
    match host {
        "gw" => "10.77.0.2",
        "lvs1" => "10.77.0.11",
        "lvs2" => "10.77.0.12",
        "web1" => "10.77.0.21",
        "web2" => "10.77.0.22",
        _ => panic!("no VM lab host {host}"),
    }
}

/// eth0's fixed MAC (tests/vmlab/vmlab.sh `mac`), as arping prints it.
pub fn mac(host: &str) -> String {
    let last: u8 = ip(host).rsplit('.').next().unwrap().parse().unwrap();
    format!("02:1A:77:00:00:{last:02X}")
}

pub fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0
}

/// True when the VM lab can run here; in CI a missing piece is a failure, elsewhere a loud skip.
pub fn vm_lab_or_skip(test: &str) -> bool {
    if !super::root_or_skip(test) {
        return false;
    }
    if std::path::Path::new("/usr/bin/linux.uml").exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("LVSCTL_REQUIRE_ROOT").is_some() {
        panic!("{test} needs User-Mode Linux for the VM lab: apt-get install -y user-mode-linux uml-utilities");
    }
    eprintln!("\n*** SKIPPED {test}: the VM lab needs User-Mode Linux (apt-get install -y user-mode-linux uml-utilities) ***\n");
    false
}

pub struct VmLab {
    _lock: std::fs::File,
    slot: u8,
}

/// The lock file of a lab slot: slot 0 shares the netns lab's (the same addresses in the
/// runner's own namespace).
fn slot_lock(slot: u8) -> PathBuf {
    std::env::temp_dir().join(if slot == 0 { "lvsctl-lab.lock".to_string() } else { format!("lvsctl-vmlab{slot}.lock") })
}

/// Take the first free lab slot, waiting while all are taken.
fn take_slot() -> (std::fs::File, u8) {
    let slots: u8 = std::env::var("VMLAB_SLOTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1).clamp(1, 9);
    let open = |slot| std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(slot_lock(slot)).unwrap();
    if slots == 1 {
        let lock = open(0);
        lock.lock().expect("lock the lab");
        return (lock, 0);
    }
    loop {
        for slot in 0..slots {
            let lock = open(slot);
            if lock.try_lock().is_ok() {
                return (lock, slot);
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn script() -> PathBuf {
    repo().join("tests/vmlab/vmlab.sh")
}

impl VmLab {
    /// Take the lab (waiting for other lab tests) and reset it: every VM on a fresh disk.
    pub fn fresh() -> VmLab {
        VmLab::fresh_with(&[])
    }

    /// `fresh`, with only `hosts` started (all when empty): the others wait, stopped, on
    /// fresh disks. VM boots are CPU-bound on the runner; a test spares those it has no use for.
    pub fn fresh_with(hosts: &[&str]) -> VmLab {
        let (lock, slot) = take_slot();
        let lab = VmLab { _lock: lock, slot };
        let t = Instant::now();
        let o = lab.script().arg("reset").args(hosts).output().expect("run vmlab.sh");
        assert!(o.status.success(), "vmlab.sh reset failed:\n{}{}", stdout(&o), stderr(&o));
        eprintln!("vmlab: fresh lab (slot {slot}) in {:.1} s", t.elapsed().as_secs_f64());
        lab
    }

    /// vmlab.sh for this lab's slot.
    fn script(&self) -> Command {
        let mut c = Command::new("bash");
        c.arg(script()).env("VMLAB_SLOT", self.slot.to_string());
        c
    }

    /// `program` on the lab's runner side (slot 0: the runner itself), where the VMs'
    /// addresses are reachable.
    pub fn on_runner(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        if self.slot == 0 {
            return Command::new(program);
        }
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &format!("vmlab{}-run", self.slot)]).arg(program);
        c
    }

    /// lvsctl on the lab's runner side, in the repository, without colours.
    pub fn lvsctl_cmd(&self) -> Command {
        let mut c = self.on_runner(super::lvsctl().get_program());
        c.current_dir(repo()).env_remove("RUST_BACKTRACE").env("NO_COLOR", "1").env("CLICOLOR", "0");
        c
    }

    /// vmlab.sh with arguments (reboot, crash, boot, stop), asserting success.
    pub fn lab(&self, args: &[&str]) -> String {
        let o = self.script().args(args).output().expect("run vmlab.sh");
        assert!(o.status.success(), "vmlab.sh {args:?} failed:\n{}{}", stdout(&o), stderr(&o));
        stderr(&o)
    }

    /// A shell command in a VM (OpenSSH, multiplexed through vmlab.sh's control sockets).
    pub fn ssh(&self, host: &str, cmd: &str) -> Output {
        self.script().args(["ssh", host, cmd]).output().expect("ssh")
    }

    pub fn sh(&self, host: &str, cmd: &str) -> String {
        let o = self.ssh(host, cmd);
        assert!(o.status.success(), "on {host}: `{cmd}` failed: {}{}", stdout(&o), stderr(&o));
        stdout(&o)
    }

    /// The kernel's IPVS table on a director, as `ipvsadm -Sn` lines (sorted).
    pub fn ipvs(&self, host: &str) -> Vec<String> {
        let mut v: Vec<String> = self.sh(host, "ipvsadm -Sn").lines().map(str::to_string).collect();
        v.sort();
        v
    }

    /// Everything lvsctl could change on a host (the netns lab's snapshot) plus the kernel's
    /// IPVS table: two equal snapshots mean the host is exactly as it was.
    pub fn snapshot(&self, host: &str) -> String {
        format!("{}\n{}", self.sh(host, super::SNAPSHOT), self.sh(host, "ipvsadm -Sn 2>/dev/null | sort"))
    }

    /// Whether `host` holds `vip` (IPv4 or IPv6) on any interface right now.
    pub fn holds(&self, host: &str, vip: &str) -> bool {
        let o = self.ssh(host, "ip -o addr show");
        let out = stdout(&o);
        o.status.success() && (out.contains(&format!(" inet {vip}/")) || out.contains(&format!(" inet6 {vip}/")))
    }

    /// keepalived's main pid on a director, if it runs.
    pub fn keepalived_pid(&self, host: &str) -> Option<String> {
        let o = self.ssh(host, "cat /run/keepalived.pid 2>/dev/null && kill -0 $(cat /run/keepalived.pid)");
        o.status.success().then(|| stdout(&o).trim().to_string())
    }

    /// lvsctl against the VM lab.
    /// lvsctl, interrupted (SIGINT: it rolls back what it started) if it has not returned
    /// after 3 minutes (the longest apply in the lab takes about 75 s with a drain) and killed
    /// 30 s later: a hung apply fails its case with its output, and what every VM was doing
    /// then, instead of holding the whole suite (applies have hung in the lab: once on a
    /// frozen VM disk, once at a together reload with the VMs gone before anyone looked).
    pub fn lvsctl(&self, args: &[&str]) -> Output {
        let inner = self.lvsctl_cmd();
        let mut t = Command::new("timeout");
        t.current_dir(repo()).env_remove("RUST_BACKTRACE").env("NO_COLOR", "1").env("CLICOLOR", "0");
        t.args(["-s", "INT", "-k", "30", "180"]).arg(inner.get_program()).args(inner.get_args()).args(args);
        let o = t.output().expect("run lvsctl under timeout");
        if o.status.code() == Some(124) || o.status.code() == Some(137) {
            eprintln!("vmlab: lvsctl {args:?} did not return within 180 s and was interrupted:\n{}{}", stdout(&o), stderr(&o));
            self.dump_state();
        }
        o
    }

    /// What each VM is doing, for a hung command: its disk's in-flight requests, processes
    /// in D state and lvsctl's remote shells, the kernel's last lines.
    pub fn dump_state(&self) {
        const PROBE: &str = "echo inflight $(cat /sys/block/ubda/inflight 2>/dev/null); \
            ps -eo pid,ppid,stat,etimes,wchan:20,args | awk 'NR == 1 || $3 ~ /D/ || /sh -s|ipvsadm|iptables|systemctl|keepalived -t|sleep/'; \
            dmesg | tail -n 5";
        for h in ["lvs1", "lvs2", "web1", "web2", "gw"] {
            let o = Command::new("timeout").args(["20", "bash"]).arg(script()).env("VMLAB_SLOT", self.slot.to_string()).args(["ssh", h, PROBE]).output();
            match o {
                Ok(o) => eprintln!("vmlab state of {h}:\n{}{}", stdout(&o), stderr(&o)),
                Err(e) => eprintln!("vmlab state of {h}: {e}"),
            }
        }
    }

    /// Requests from the client, waited for; the parsed JSON summary.
    pub fn traffic(&self, args: &[&str]) -> serde_json::Value {
        let o = self.traffic_cmd(args).output().expect("traffic.py");
        assert!(o.status.success(), "traffic.py {args:?} failed: {}", stderr(&o));
        serde_json::from_str(stdout(&o).trim()).unwrap_or_else(|e| panic!("traffic.py output {e}: {}", stdout(&o)))
    }

    /// A request loop in the background (stopped by `Loop::stop`).
    pub fn start_loop(&self, args: &[&str]) -> Loop {
        let log = std::env::temp_dir().join(format!("lvsctl-vmlab-loop-{}-{}.log", std::process::id(), now_ms() as u64));
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        full.extend(["--duration".into(), "600".into(), "--log".into(), log.display().to_string()]);
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let child = self.traffic_cmd(&refs).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn traffic.py");
        std::thread::sleep(Duration::from_millis(300));
        Loop { child: Some(child), log, started_ms: now_ms() }
    }

    /// Requests from the runner's side of the director segment (vmlab0: 10.77.0.1, fd77::1),
    /// which reaches the VIPs without the router: the lab's IPv6 client.
    pub fn traffic_from_runner(&self, args: &[&str]) -> serde_json::Value {
        let o = self.on_runner("python3").arg(repo().join("tests/vmlab/traffic.py")).args(args).output().expect("traffic.py");
        assert!(o.status.success(), "traffic.py {args:?} (runner side) failed: {}", stderr(&o));
        serde_json::from_str(stdout(&o).trim()).unwrap_or_else(|e| panic!("traffic.py output {e}: {}", stdout(&o)))
    }

    /// tests/vmlab/traffic.py in the lab's client namespace.
    fn traffic_cmd(&self, args: &[&str]) -> Command {
        let ns = if self.slot == 0 { "vmlab-client".to_string() } else { format!("vmlab{}-client", self.slot) };
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns, "python3"]).arg(repo().join("tests/vmlab/traffic.py")).args(args);
        c
    }
}

/// A background request loop of the client.
pub struct Loop {
    child: Option<Child>,
    log: PathBuf,
    pub started_ms: f64,
}

/// What a stopped loop saw: its summary, and every request as (epoch ms, ok, server or error).
pub struct LoopResult {
    pub summary: serde_json::Value,
    pub requests: Vec<(f64, bool, String)>,
}

impl Loop {
    pub fn stop(mut self) -> LoopResult {
        let child = self.child.take().unwrap();
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let out = child.wait_with_output().expect("wait for traffic.py");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let summary: serde_json::Value =
            serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("traffic.py loop output {e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        let requests = log
            .lines()
            .filter_map(|l| {
                let mut w = l.splitn(3, ' ');
                Some((w.next()?.parse().ok()?, w.next()? == "ok", w.next().unwrap_or("").to_string()))
            })
            .collect();
        LoopResult { summary, requests }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

impl LoopResult {
    pub fn failed_between(&self, from_ms: f64, to_ms: f64) -> usize {
        self.requests.iter().filter(|(t, ok, _)| !ok && *t >= from_ms && *t < to_ms).count()
    }
    /// The failed requests from `from_ms` on, each as "why at +S s" relative to `from_ms`.
    pub fn failures_after(&self, from_ms: f64) -> Vec<String> {
        self.requests.iter().filter(|(t, ok, _)| !ok && *t >= from_ms).map(|(t, _, why)| format!("{why} at +{:.1} s", (t - from_ms) / 1000.0)).collect()
    }
    pub fn served_by_between(&self, server: &str, from_ms: f64, to_ms: f64) -> usize {
        self.requests.iter().filter(|(t, ok, s)| *ok && s == server && *t >= from_ms && *t < to_ms).count()
    }
    pub fn failed(&self) -> u64 {
        self.summary["failed"].as_u64().unwrap()
    }
    pub fn sent(&self) -> u64 {
        self.summary["sent"].as_u64().unwrap()
    }
    pub fn outage_s(&self) -> f64 {
        self.summary["outage_s"].as_f64().unwrap()
    }
}

/// Poll `f` every 200 ms until it is true or `limit` passes; the seconds it took, or None.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> Option<f64> {
    let t = Instant::now();
    loop {
        if f() {
            return Some(t.elapsed().as_secs_f64());
        }
        if t.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
