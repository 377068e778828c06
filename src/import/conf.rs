//! What a keepalived.conf means for an LVS cluster, typed, with keepalived's own defaults
//! filled in (keepalived 2.2.7: `delay_loop` 60, `connect_timeout` 5, `retry` 1,
//! `delay_before_retry` 1, `weight` 1, `quorum` 1, scheduler wlc, forwarding NAT, a VIP /32 on
//! the instance's interface, `persistence_timeout` without a value 360).
//!
//! Two configurations that mean the same cluster give equal `Conf`s whatever their spelling
//! (`lb_algo`/`lvs_sched`, `nb_get_retry`/`retry`, a default written or left out, the order
//! of virtual and real servers): that is how `lvsctl import` is tested (the original and the
//! re-rendered file are compared as `Conf`s, not as text), and how the directors' files are
//! compared with each other.
//!
//! Every directive is either understood here or reported at file:line:column: as an error
//! when keepalived honours it and lvsctl cannot express it, as a warning when keepalived
//! itself ignores it (not one of keepalived 2.2.7's keywords: a typo such as
//! `lync_sync_daemon_interface`, or an obsolete word such as `nat_mask`). Nothing is dropped
//! silently.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::syntax::Stmt;
use crate::diagnostic::{did_you_mean, Diagnostics, Span};

/// keepalived 2.2.7's keywords (see the file's header for how it was made).
const KEYWORDS: &str = include_str!("keepalived-2.2.7-keywords.txt");

/// Where a statement is: never makes two values differ (nor shows in their Debug form).
pub type Here = NoEq<Span>;

/// One director's keepalived.conf.
#[derive(Debug, Clone, PartialEq)]
pub struct Conf {
    pub file: PathBuf,
    pub router_id: Option<String>,
    pub notification: Option<Notification>,
    /// `lvs_sync_daemon` (connection sync).
    pub lvs_sync: Option<LvsSync>,
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_script` blocks, by name.
    pub scripts: Vec<VrrpScript>,
    pub instances: Vec<Instance>,
    /// Sorted by (VIP, port, protocol).
    pub virtual_servers: Vec<VirtualServer>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub emails: Vec<String>,
    pub from: Option<String>,
    pub smtp_server: Option<String>,
    pub smtp_connect_timeout: Option<u64>,
}

/// `lvs_sync_daemon INTERFACE VRRP_INSTANCE [id SYNC_ID]` in global_defs.
#[derive(Debug, Clone, PartialEq)]
pub struct LvsSync {
    pub at: Here,
    pub interface: String,
    pub instance: String,
    /// keepalived's default is the instance's VRID.
    pub id: Option<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncGroup {
    pub name: String,
    pub at: Here,
    pub members: Vec<String>,
    pub smtp_alert: bool,
    pub notify: Notify,
}

/// `notify_master` / `notify_backup` / `notify_fault` of an instance or a sync group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notify {
    pub master: Option<String>,
    pub backup: Option<String>,
    pub fault: Option<String>,
}

/// A `vrrp_script` block, keepalived's defaults filled in (interval 1, fall 1, rise 1,
/// weight 0; timeout: the interval).
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpScript {
    pub name: String,
    pub at: Here,
    pub script: String,
    pub interval: u64,
    pub timeout: u64,
    pub fall: u64,
    pub rise: u64,
    pub weight: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Vip {
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub dev: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub name: String,
    pub at: Here,
    pub state: String,
    pub interface: String,
    pub track_interfaces: BTreeSet<String>,
    pub virtual_router_id: u8,
    pub priority: u8,
    pub advert_int: u64,
    pub nopreempt: bool,
    pub preempt_delay: Option<u64>,
    /// `garp_master_delay`, `_repeat`, `_refresh`, `_refresh_repeat` as written.
    pub garp: [Option<u64>; 4],
    pub smtp_alert: bool,
    pub auth_pass: Option<String>,
    pub unicast_src_ip: Option<Ipv4Addr>,
    pub unicast_peers: BTreeSet<Ipv4Addr>,
    pub unicast_fault_no_peer: bool,
    /// Names of the `vrrp_script`s it tracks.
    pub track_scripts: Vec<String>,
    pub notify: Notify,
    pub addresses: Vec<Vip>,
    pub excluded_addresses: Vec<Vip>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SorryServer {
    pub ip: Ipv4Addr,
    pub port: u16,
    pub inhibit: bool,
    /// DR, NAT or TUN; the service's own when not set.
    pub method: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    pub vip: Ipv4Addr,
    pub port: u16,
    pub at: Here,
    /// From a `! service NAME` comment above it (lvsctl's rendering writes one).
    pub name: NoEq<Option<String>>,
    pub protocol: String,
    pub delay_loop: u64,
    pub scheduler: String,
    pub method: String,
    pub persistence_timeout: Option<u64>,
    pub persistence_granularity: Option<Ipv4Addr>,
    pub ops: bool,
    pub alpha: bool,
    pub omega: bool,
    pub quorum: u64,
    pub hysteresis: u64,
    pub quorum_up: Option<String>,
    pub quorum_down: Option<String>,
    pub inhibit_on_failure: bool,
    pub sorry_server: Option<SorryServer>,
    /// Sorted by (address, port).
    pub real_servers: Vec<RealServer>,
}

/// A value that never makes two values differ (a position, a name only lvsctl's rendering carries).
#[derive(Clone)]
pub struct NoEq<T>(pub T);

impl<T> std::fmt::Debug for NoEq<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("_")
    }
}

impl<T> PartialEq for NoEq<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    pub ip: Ipv4Addr,
    pub port: u16,
    pub at: Here,
    pub weight: i64,
    /// The real server's own value, else the virtual server's.
    pub inhibit_on_failure: bool,
    pub check: Option<Check>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Url {
    pub path: String,
    /// keepalived's words (`200`, `200-299 301`); keepalived's default `200-299` filled in.
    pub status_code: Option<String>,
    pub digest: Option<String>,
    pub virtualhost: Option<String>,
}

/// `connect_timeout`, `retry` and `delay_before_retry` written on a virtual or real server:
/// defaults for its checks (keepalived 2.x); the nearer level wins.
#[derive(Debug, Clone, Copy, Default)]
struct CheckDefaults {
    connect_timeout: Option<u64>,
    retry: Option<u64>,
    delay_before_retry: Option<u64>,
}

impl CheckDefaults {
    /// Reads one of the three keywords; false for any other.
    fn read(&mut self, r: &mut Reader, c: &Stmt) -> bool {
        match c.keyword.value.as_str() {
            "connect_timeout" => self.connect_timeout = r.number(c, 0),
            "retry" | "nb_get_retry" => self.retry = r.number(c, 0),
            "delay_before_retry" => self.delay_before_retry = r.number(c, 0),
            _ => return false,
        }
        true
    }

    fn under(self, outer: CheckDefaults) -> CheckDefaults {
        CheckDefaults {
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
        }
    }

    fn any(&self) -> bool {
        self.connect_timeout.is_some() || self.retry.is_some() || self.delay_before_retry.is_some()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK or DNS_CHECK.
    pub kind: String,
    pub at: Here,
    /// The real server's port when not set.
    pub connect_port: u16,
    pub connect_timeout: u64,
    pub retry: u64,
    pub delay_before_retry: u64,
    pub urls: Vec<Url>,
    /// The check's Host header (URLs may name their own).
    pub virtualhost: Option<String>,
    /// SSL_GET: the virtualhost sent as SNI.
    pub enable_sni: bool,
    pub misc: Option<MiscCheck>,
    /// UDP_CHECK: `payload` and `require_reply` (Some("") with no pattern), as written.
    pub payload: Option<String>,
    pub require_reply: Option<String>,
    /// DNS_CHECK: `type` and `name` when written.
    pub query_type: Option<String>,
    pub query_name: Option<String>,
}

/// MISC_CHECK's script; `args_are_the_real_server`: it is called with exactly the real
/// server's address and port (what lvsctl renders), so real servers compare equal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MiscCheck {
    pub script: String,
    pub args_are_the_real_server: bool,
    pub timeout: Option<u64>,
    pub dynamic: bool,
}

/// Reads statements into a `Conf`, reporting what it cannot express.
struct Reader<'a> {
    d: &'a mut Diagnostics,
}

impl Reader<'_> {
    /// A directive lvsctl does not express: an error when keepalived honours it, a warning
    /// when keepalived ignores it too.
    fn unsupported(&mut self, s: &Stmt, within: &str) {
        let k = s.keyword.value.as_str();
        if KEYWORDS.lines().any(|l| l == k) {
            self.d
                .error(s.span().clone(), format!("`{k}` ({within}): lvsctl cannot express this directive"))
                .hint("the import is not equivalent without it: keep it out of the cluster lvsctl manages, or raise it with the project");
        } else {
            let diag = self.d.warning(s.span().clone(), format!("`{k}` ({within}) is not a keepalived 2.2.7 keyword: keepalived ignores it, and so does the import"));
            if let Some(m) = did_you_mean(k, KEYWORDS.lines().filter(|l| !l.starts_with('#'))) {
                diag.hint(format!("did you mean `{m}`? (keepalived did not think so either)"));
            }
        }
    }

    fn args(&mut self, s: &Stmt, n: usize) -> bool {
        if s.args.len() == n {
            return true;
        }
        self.d.error(s.span().clone(), format!("`{}` takes {n} value(s), found {}", s.keyword.value, s.args.len()));
        false
    }

    fn number<T: std::str::FromStr>(&mut self, s: &Stmt, i: usize) -> Option<T> {
        let Some(a) = s.args.get(i) else {
            self.d.error(s.span().clone(), format!("`{}` needs a value", s.keyword.value));
            return None;
        };
        match a.value.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.d.error(a.span.clone(), format!("`{}`: `{}` is not a number lvsctl can use", s.keyword.value, a.value));
                None
            }
        }
    }

    fn ip(&mut self, s: &Stmt, i: usize) -> Option<Ipv4Addr> {
        let a = s.args.get(i)?;
        match a.value.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.d.error(a.span.clone(), format!("`{}`: `{}` is not an IPv4 address (`lvsctl import` reads IPv4 configurations only; write IPv6 services in the topology)", s.keyword.value, a.value));
                None
            }
        }
    }

    /// A flag keyword: present means on; `inhibit_on_failure false` style values too.
    fn flag(&mut self, s: &Stmt) -> bool {
        match s.arg(0) {
            None | Some("true" | "on" | "yes") => true,
            Some("false" | "off" | "no") => false,
            Some(v) => {
                self.d.error(s.args[0].span.clone(), format!("`{}`: `{v}` is not true or false", s.keyword.value));
                true
            }
        }
    }
}

/// The `Conf` of one file's statements. Problems go to `d`.
pub fn read(file: PathBuf, stmts: &[Stmt], d: &mut Diagnostics) -> Conf {
    let mut r = Reader { d };
    let mut conf = Conf {
        file,
        router_id: None,
        notification: None,
        lvs_sync: None,
        sync_groups: Vec::new(),
        scripts: Vec::new(),
        instances: Vec::new(),
        virtual_servers: Vec::new(),
    };
    for s in stmts {
        match s.keyword.value.as_str() {
            "global_defs" => global_defs(&mut r, s, &mut conf),
            "vrrp_sync_group" => {
                if let Some(g) = sync_group(&mut r, s) {
                    conf.sync_groups.push(g);
                }
            }
            "vrrp_instance" => {
                if let Some(i) = instance(&mut r, s) {
                    conf.instances.push(i);
                }
            }
            "vrrp_script" => {
                if let Some(v) = vrrp_script(&mut r, s) {
                    conf.scripts.push(v);
                }
            }
            "virtual_server" => {
                if let Some(v) = virtual_server(&mut r, s) {
                    conf.virtual_servers.push(v);
                }
            }
            _ => r.unsupported(s, "top level"),
        }
    }
    conf.virtual_servers.sort_by(|a, b| (a.vip, a.port, &a.protocol).cmp(&(b.vip, b.port, &b.protocol)));
    conf
}

fn global_defs(r: &mut Reader, s: &Stmt, conf: &mut Conf) {
    let mut n = Notification { emails: Vec::new(), from: None, smtp_server: None, smtp_connect_timeout: None };
    let mut any = false;
    for c in s.children() {
        match c.keyword.value.as_str() {
            "router_id" if r.args(c, 1) => conf.router_id = c.arg(0).map(str::to_string),
            "notification_email" => {
                n.emails = c.children().iter().map(|e| e.keyword.value.clone()).collect();
                any = true;
            }
            "notification_email_from" if r.args(c, 1) => n.from = c.arg(0).map(str::to_string),
            "smtp_server" => {
                // `smtp_server IP [PORT]`: lvsctl writes the address only (port 25).
                if c.args.len() == 1 {
                    n.smtp_server = c.arg(0).map(str::to_string);
                } else {
                    r.unsupported(c, "global_defs, with a port");
                }
            }
            "smtp_connect_timeout" => n.smtp_connect_timeout = r.number(c, 0),
            "lvs_sync_daemon" => conf.lvs_sync = lvs_sync(r, c),
            // lvsctl always runs scripts as root with script security on (it refuses a script
            // a non-root user could change): nothing to carry over.
            "enable_script_security" => {}
            "script_user" if c.arg(0) == Some("root") => {}
            "script_user" => {
                r.d.warning(c.span().clone(), format!("`script_user {}`: lvsctl runs keepalived's scripts as root", c.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ")))
                    .hint("keepalived 2.2.7's `keepalived -t` dies (\"Terminated\") with another script user, so lvsctl could not validate the config on the director");
            }
            _ => r.unsupported(c, "global_defs"),
        }
    }
    if any || n.smtp_server.is_some() {
        conf.notification = Some(n);
    }
}

/// `lvs_sync_daemon IFACE INSTANCE [id N]`; keepalived's other options (maxlen, port, ttl,
/// group) lvsctl does not write.
fn lvs_sync(r: &mut Reader, s: &Stmt) -> Option<LvsSync> {
    let (Some(interface), Some(instance)) = (s.arg(0), s.arg(1)) else {
        r.d.error(s.span().clone(), "`lvs_sync_daemon` needs an interface and a VRRP instance");
        return None;
    };
    let mut sync = LvsSync { at: NoEq(s.span().clone()), interface: interface.to_string(), instance: instance.to_string(), id: None };
    let mut i = 2;
    while i < s.args.len() {
        match s.args[i].value.as_str() {
            "id" => sync.id = r.number(s, i + 1),
            other => {
                r.d.error(s.args[i].span.clone(), format!("`lvs_sync_daemon ... {other}`: lvsctl writes the interface, the instance and the id only"))
                    .hint("keepalived's defaults for maxlen, port, ttl and group are what lvsctl renders");
                return None;
            }
        }
        i += 2;
    }
    Some(sync)
}

fn sync_group(r: &mut Reader, s: &Stmt) -> Option<SyncGroup> {
    let name = s.arg(0)?.to_string();
    let mut g = SyncGroup { name, at: NoEq(s.span().clone()), members: Vec::new(), smtp_alert: false, notify: Notify::default() };
    for c in s.children() {
        if notify(r, c, &mut g.notify) {
            continue;
        }
        match c.keyword.value.as_str() {
            "group" => g.members = c.children().iter().map(|m| m.keyword.value.clone()).collect(),
            "smtp_alert" => g.smtp_alert = r.flag(c),
            _ => r.unsupported(c, "vrrp_sync_group"),
        }
    }
    Some(g)
}

fn vips(r: &mut Reader, s: &Stmt) -> Vec<(Vip, bool)> {
    let mut out = Vec::new();
    for a in s.children() {
        let (ip, prefix) = match a.keyword.value.split_once('/') {
            Some((ip, p)) => (ip, p.parse::<u8>().ok().filter(|p| *p <= 32)),
            None => (a.keyword.value.as_str(), Some(32)),
        };
        let (Ok(ip), Some(prefix)) = (ip.parse::<Ipv4Addr>(), prefix) else {
            r.d.error(a.span().clone(), format!("`{}` is not an IPv4 address with an optional /prefix (`lvsctl import` reads IPv4 configurations only)", a.keyword.value));
            continue;
        };
        let mut dev = None;
        let mut words = a.args.iter();
        let mut ok = true;
        while let Some(w) = words.next() {
            match (w.value.as_str(), words.next()) {
                ("dev", Some(d)) => dev = Some(d.value.clone()),
                (other, _) => {
                    r.d.error(w.span.clone(), format!("`{other}` on a virtual address: lvsctl writes only ADDRESS/PREFIX dev DEVICE"))
                        .hint("labels, scopes, broadcast addresses and the like are not expressed");
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            // The device defaults to the instance's interface (filled in by the caller).
            out.push((Vip { ip, prefix, dev: dev.clone().unwrap_or_default() }, dev.is_some()));
        }
    }
    out
}

fn instance(r: &mut Reader, s: &Stmt) -> Option<Instance> {
    let name = s.arg(0)?.to_string();
    let mut i = Instance {
        name,
        at: NoEq(s.span().clone()),
        state: "BACKUP".into(),
        interface: String::new(),
        track_interfaces: BTreeSet::new(),
        virtual_router_id: 0,
        priority: 100,
        advert_int: 1,
        nopreempt: false,
        preempt_delay: None,
        garp: [None; 4],
        smtp_alert: false,
        auth_pass: None,
        unicast_src_ip: None,
        unicast_peers: BTreeSet::new(),
        unicast_fault_no_peer: false,
        track_scripts: Vec::new(),
        notify: Notify::default(),
        addresses: Vec::new(),
        excluded_addresses: Vec::new(),
    };
    let mut addresses = Vec::new();
    let mut excluded = Vec::new();
    for c in s.children() {
        if notify(r, c, &mut i.notify) {
            continue;
        }
        match c.keyword.value.as_str() {
            "track_script" => {
                for t in c.children() {
                    if t.args.is_empty() {
                        i.track_scripts.push(t.keyword.value.clone());
                    } else {
                        r.d.error(t.span().clone(), format!("track_script {} with its own weight: lvsctl writes the weight in the vrrp_script", t.keyword.value))
                            .hint("move the weight into the vrrp_script block");
                    }
                }
            }
            "state" if r.args(c, 1) => {
                i.state = match c.arg(0).unwrap_or_default() {
                    s @ ("MASTER" | "BACKUP") => s.to_string(),
                    other => {
                        // keepalived: "unknown state 'SLAVE', defaulting to BACKUP".
                        r.d.warning(c.args[0].span.clone(), format!("state `{other}` is not MASTER or BACKUP: keepalived starts the instance as BACKUP"));
                        "BACKUP".into()
                    }
                }
            }
            "interface" if r.args(c, 1) => i.interface = c.arg(0).unwrap_or_default().to_string(),
            "track_interface" => i.track_interfaces = c.children().iter().map(|t| t.keyword.value.clone()).collect(),
            "virtual_router_id" => i.virtual_router_id = r.number(c, 0).unwrap_or(0),
            "priority" => i.priority = r.number(c, 0).unwrap_or(100),
            "advert_int" => i.advert_int = r.number(c, 0).unwrap_or(1),
            "nopreempt" => i.nopreempt = true,
            "preempt_delay" => i.preempt_delay = r.number(c, 0),
            "garp_master_delay" => i.garp[0] = r.number(c, 0),
            "garp_master_repeat" => i.garp[1] = r.number(c, 0),
            "garp_master_refresh" => i.garp[2] = r.number(c, 0),
            "garp_master_refresh_repeat" => i.garp[3] = r.number(c, 0),
            "smtp_alert" => i.smtp_alert = r.flag(c),
            "unicast_src_ip" => i.unicast_src_ip = r.ip(c, 0),
            "unicast_peer" => {
                for p in c.children() {
                    match p.keyword.value.parse() {
                        Ok(ip) if p.args.is_empty() => {
                            i.unicast_peers.insert(ip);
                        }
                        _ => {
                            r.d.error(p.span().clone(), format!("unicast peer `{}`: lvsctl writes plain IPv4 peer addresses", p.keyword.value));
                        }
                    }
                }
            }
            "unicast_fault_no_peer" => i.unicast_fault_no_peer = true,
            "authentication" => {
                for a in c.children() {
                    match (a.keyword.value.as_str(), a.arg(0)) {
                        ("auth_type", Some("PASS")) => {}
                        ("auth_pass", Some(p)) => i.auth_pass = Some(p.to_string()),
                        _ => r.unsupported(a, "authentication (lvsctl writes auth_type PASS)"),
                    }
                }
            }
            "virtual_ipaddress" => addresses = vips(r, c),
            "virtual_ipaddress_excluded" => excluded = vips(r, c),
            _ => r.unsupported(c, &format!("vrrp_instance {}", i.name)),
        }
    }
    let dev = |(mut v, _): (Vip, bool)| {
        if v.dev.is_empty() {
            v.dev = i.interface.clone();
        }
        v
    };
    i.addresses = addresses.into_iter().map(dev).collect();
    i.excluded_addresses = excluded.into_iter().map(dev).collect();
    Some(i)
}

fn method(r: &mut Reader, s: &Stmt) -> Option<String> {
    match s.arg(0).map(str::to_uppercase).as_deref() {
        Some(m @ ("DR" | "NAT" | "TUN")) => Some(m.to_string()),
        _ => {
            r.d.error(s.span().clone(), format!("`{}`: lvsctl knows DR, NAT and TUN", s.keyword.value));
            None
        }
    }
}

fn virtual_server(r: &mut Reader, s: &Stmt) -> Option<VirtualServer> {
    if s.arg(0) == Some("fwmark") {
        // The VIP and ports a mark stands for are in the host's firewall rules, not here.
        r.d.error(s.span().clone(), "`virtual_server fwmark`: the VIP and ports the mark covers are not in keepalived.conf, so this service is not imported; write it in the topology as `{ vip: VIP, fwmark: N, ports: [...] }` (lvsctl then writes the mark rules too)");
        return None;
    }
    if s.args.len() != 2 || s.arg(0) == Some("group") {
        r.d.error(s.span().clone(), "`virtual_server` by group: lvsctl writes `virtual_server IP PORT` and `virtual_server fwmark N` only");
        return None;
    }
    let vip = r.ip(s, 0)?;
    let port = r.number(s, 1)?;
    let mut v = VirtualServer {
        vip,
        port,
        at: NoEq(s.span().clone()),
        name: NoEq(s.comment_above.as_deref().and_then(|c| c.strip_prefix("service ")).map(|n| n.trim().to_string())),
        protocol: "TCP".into(),
        delay_loop: 60,
        scheduler: "wlc".into(),
        method: "NAT".into(),
        persistence_timeout: None,
        persistence_granularity: None,
        ops: false,
        alpha: false,
        omega: false,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        inhibit_on_failure: false,
        sorry_server: None,
        real_servers: Vec::new(),
    };
    let mut sorry = None;
    let mut sorry_inhibit = false;
    let mut sorry_method = None;
    let mut rs_stmts = Vec::new();
    let mut defaults = CheckDefaults::default();
    let within = format!("virtual_server {vip} {port}");
    for c in s.children() {
        if defaults.read(r, c) {
            continue;
        }
        match c.keyword.value.as_str() {
            "delay_loop" => v.delay_loop = r.number(c, 0).unwrap_or(60),
            "lb_algo" | "lvs_sched" => v.scheduler = c.arg(0).unwrap_or("wlc").to_lowercase(),
            "lb_kind" | "lvs_method" => v.method = method(r, c).unwrap_or_else(|| "NAT".into()),
            "persistence_timeout" => {
                v.persistence_timeout = match c.args.is_empty() {
                    true => Some(360),
                    false => match r.number::<u64>(c, 0) {
                        Some(t) if (1..=2_678_400).contains(&t) => Some(t),
                        Some(t) => {
                            // keepalived: "persistence_timeout invalid", and the line is ignored.
                            r.d.warning(c.args[0].span.clone(), format!("persistence_timeout {t} is outside 1..2678400: keepalived ignores the line (no persistence)"));
                            None
                        }
                        None => None,
                    },
                }
            }
            "persistence_granularity" => v.persistence_granularity = r.ip(c, 0),
            "protocol" => v.protocol = c.arg(0).unwrap_or("TCP").to_uppercase(),
            "ops" => v.ops = true,
            "alpha" => v.alpha = true,
            "omega" => v.omega = true,
            "quorum" => v.quorum = r.number(c, 0).unwrap_or(1),
            "hysteresis" => v.hysteresis = r.number(c, 0).unwrap_or(0),
            "quorum_up" => v.quorum_up = Some(c.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ")),
            "quorum_down" => v.quorum_down = Some(c.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ")),
            "inhibit_on_failure" => v.inhibit_on_failure = r.flag(c),
            "sorry_server" if r.args(c, 2) => sorry = r.ip(c, 0).zip(r.number::<u16>(c, 1)),
            "sorry_server_inhibit" => sorry_inhibit = r.flag(c),
            "sorry_server_lvs_method" => sorry_method = method(r, c),
            "real_server" => rs_stmts.push(c),
            _ => r.unsupported(c, &within),
        }
    }
    if v.persistence_granularity.is_some() && v.persistence_timeout.is_none() {
        // keepalived makes a service with a granularity persistent for 360 s.
        v.persistence_timeout = Some(360);
    }
    v.sorry_server = sorry.map(|(ip, port)| SorryServer { ip, port, inhibit: sorry_inhibit, method: sorry_method.unwrap_or_else(|| v.method.clone()) });
    for c in rs_stmts {
        if let Some(rs) = real_server(r, c, &v, defaults) {
            v.real_servers.push(rs);
        }
    }
    v.real_servers.sort_by_key(|rs| (rs.ip, rs.port));
    Some(v)
}

fn real_server(r: &mut Reader, s: &Stmt, vs: &VirtualServer, outer: CheckDefaults) -> Option<RealServer> {
    if !r.args(s, 2) {
        return None;
    }
    let ip = r.ip(s, 0)?;
    let port = r.number(s, 1)?;
    let mut rs = RealServer { ip, port, at: NoEq(s.span().clone()), weight: 1, inhibit_on_failure: vs.inhibit_on_failure, check: None };
    let within = format!("real_server {ip} {port}");
    let mut defaults = CheckDefaults::default();
    let mut checks = Vec::new();
    for c in s.children() {
        if defaults.read(r, c) {
            continue;
        }
        match c.keyword.value.as_str() {
            "weight" => rs.weight = r.number(c, 0).unwrap_or(1),
            "inhibit_on_failure" => rs.inhibit_on_failure = r.flag(c),
            "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "MISC_CHECK" | "UDP_CHECK" | "DNS_CHECK" => {
                if !checks.is_empty() {
                    r.d.error(c.span().clone(), format!("a second health check on {within}: lvsctl writes one check per real server"));
                    continue;
                }
                checks.push(c);
            }
            _ => r.unsupported(c, &within),
        }
    }
    let defaults = defaults.under(outer);
    match checks.first() {
        Some(c) => rs.check = Some(check(r, c, (rs.ip, port), defaults, vs.delay_loop)),
        None if defaults.any() => {
            r.d.warning(s.span().clone(), format!("{within} has check timings but no check (TCP_CHECK, HTTP_GET, ...): keepalived never checks it, and lvsctl writes `check: {{ type: none }}`"));
        }
        None => {}
    }
    Some(rs)
}

fn check(r: &mut Reader, s: &Stmt, (rs_ip, rs_port): (Ipv4Addr, u16), d: CheckDefaults, delay_loop: u64) -> Check {
    let kind = s.keyword.value.clone();
    let dns = kind == "DNS_CHECK";
    let mut c = Check {
        kind: kind.clone(),
        at: NoEq(s.span().clone()),
        connect_port: rs_port,
        connect_timeout: d.connect_timeout.unwrap_or(5),
        // keepalived's MISC_CHECK retries 0 times by default, DNS_CHECK 3 times, the others
        // once; DNS_CHECK waits delay_loop before a retry, the others 1 s.
        retry: d.retry.unwrap_or(match kind.as_str() { "MISC_CHECK" => 0, "DNS_CHECK" => 3, _ => 1 }),
        delay_before_retry: d.delay_before_retry.unwrap_or(if dns { delay_loop } else { 1 }),
        urls: Vec::new(),
        virtualhost: None,
        enable_sni: false,
        misc: None,
        payload: None,
        require_reply: None,
        query_type: None,
        query_name: None,
    };
    let words = |o: &Stmt| o.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ");
    for o in s.children() {
        match o.keyword.value.as_str() {
            "connect_port" => c.connect_port = r.number(o, 0).unwrap_or(rs_port),
            "connect_timeout" => c.connect_timeout = r.number(o, 0).unwrap_or(5),
            // keepalived reads the old spelling too.
            "retry" | "nb_get_retry" => c.retry = r.number(o, 0).unwrap_or(1),
            "delay_before_retry" => c.delay_before_retry = r.number(o, 0).unwrap_or(1),
            "url" if kind != "TCP_CHECK" => {
                let mut u = Url { path: "/".into(), status_code: None, digest: None, virtualhost: None };
                for p in o.children() {
                    match p.keyword.value.as_str() {
                        "path" if r.args(p, 1) => u.path = p.arg(0).unwrap_or("/").to_string(),
                        "status_code" if !p.args.is_empty() => u.status_code = Some(p.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ")),
                        "digest" if r.args(p, 1) => u.digest = p.arg(0).map(str::to_ascii_lowercase),
                        "virtualhost" if r.args(p, 1) => u.virtualhost = p.arg(0).map(str::to_string),
                        _ => r.unsupported(p, "url (lvsctl writes path, digest, status_code and virtualhost)"),
                    }
                }
                // keepalived's default when a url names no status code: any 2xx.
                u.status_code.get_or_insert_with(|| "200-299".into());
                c.urls.push(u);
            }
            "virtualhost" if kind != "TCP_CHECK" && kind != "MISC_CHECK" && r.args(o, 1) => c.virtualhost = o.arg(0).map(str::to_string),
            "misc_path" if kind == "MISC_CHECK" => {
                // Quoted, with arguments: `"SCRIPT ARG..."`. lvsctl passes the real server's
                // address and port; a script with those arguments is the same check.
                let line = o.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ");
                let words: Vec<&str> = line.trim_matches('"').split_whitespace().collect();
                let own = [rs_ip.to_string(), rs_port.to_string()];
                let m = c.misc.get_or_insert_with(MiscCheck::default);
                m.script = words.first().map(|w| w.to_string()).unwrap_or_default();
                m.args_are_the_real_server = words.len() == 3 && words[1] == own[0] && words[2] == own[1];
            }
            "misc_timeout" if kind == "MISC_CHECK" => c.misc.get_or_insert_with(MiscCheck::default).timeout = r.number(o, 0),
            "misc_dynamic" if kind == "MISC_CHECK" => c.misc.get_or_insert_with(MiscCheck::default).dynamic = r.flag(o),
            "enable_sni" if kind == "SSL_GET" => c.enable_sni = r.flag(o),
            "payload" if kind == "UDP_CHECK" && !o.args.is_empty() => c.payload = Some(words(o)),
            "require_reply" if kind == "UDP_CHECK" => c.require_reply = Some(words(o)),
            "type" if dns && r.args(o, 1) => c.query_type = o.arg(0).map(str::to_ascii_uppercase),
            "name" if dns && r.args(o, 1) => c.query_name = o.arg(0).map(str::to_string),
            _ => r.unsupported(o, &kind),
        }
    }
    c
}

/// A `notify_master` / `notify_backup` / `notify_fault` line into `n`; false for any other.
/// lvsctl takes a script path without arguments (keepalived passes the state itself to a
/// plain `notify`, which lvsctl does not write).
fn notify(r: &mut Reader, s: &Stmt, n: &mut Notify) -> bool {
    let slot = match s.keyword.value.as_str() {
        "notify_master" => &mut n.master,
        "notify_backup" => &mut n.backup,
        "notify_fault" => &mut n.fault,
        _ => return false,
    };
    match (s.arg(0), s.args.len()) {
        (Some(p), 1) if !p.contains(char::is_whitespace) => *slot = Some(p.to_string()),
        _ => {
            r.d.error(s.span().clone(), format!("`{}` with arguments: lvsctl writes the path of a script only", s.keyword.value))
                .hint("put the command and its arguments in an executable script and give its path");
        }
    }
    true
}

/// `vrrp_script NAME { script PATH; interval; timeout; fall; rise; weight }`.
fn vrrp_script(r: &mut Reader, s: &Stmt) -> Option<VrrpScript> {
    let name = s.arg(0)?.to_string();
    let mut v = VrrpScript { name, at: NoEq(s.span().clone()), script: String::new(), interval: 1, timeout: 0, fall: 1, rise: 1, weight: 0 };
    let mut timeout = None;
    for c in s.children() {
        match c.keyword.value.as_str() {
            "script" => match (c.arg(0), c.args.len()) {
                (Some(p), 1) if !p.contains(char::is_whitespace) => v.script = p.to_string(),
                _ => {
                    r.d.error(c.span().clone(), format!("vrrp_script {}: a script with arguments; lvsctl writes the path of a script only", v.name))
                        .hint("put the command and its arguments in an executable script and give its path");
                }
            },
            "interval" => v.interval = r.number(c, 0).unwrap_or(1),
            "timeout" => timeout = r.number(c, 0),
            "fall" => v.fall = r.number(c, 0).unwrap_or(1),
            "rise" => v.rise = r.number(c, 0).unwrap_or(1),
            "weight" => match c.arg(0).and_then(|w| w.parse::<i64>().ok()) {
                Some(w) if c.args.len() == 1 => v.weight = w,
                _ => {
                    r.d.error(c.span().clone(), format!("vrrp_script {}: `weight` takes a number (lvsctl does not write `reverse`)", v.name));
                }
            },
            _ => r.unsupported(c, &format!("vrrp_script {}", v.name)),
        }
    }
    v.timeout = timeout.unwrap_or(v.interval);
    Some(v)
}
