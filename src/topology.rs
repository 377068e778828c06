//! The topology as the operator wrote it (playbooks/*.yml), read into typed specs.
//!
//! This stage checks only what one key can tell on its own: known keys, types, ranges,
//! enumerations. Everything that needs more than one key or the inventory (hosts exist,
//! priorities differ, a NAT pair has a gateway) is the model's job (`model.rs`). Nothing here
//! touches the environment except reading the file.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::diagnostic::{did_you_mean, Diagnostics, Span};
use crate::yaml::{describe, parse_ipv4, Document, Map, Node, Sp};

mod http_check;
mod udp_dns_check;
mod track;
mod instances;
pub use http_check::UrlSpec;
pub use track::TrackScriptSpec;
pub use instances::InstanceSpec;

#[derive(Debug, Clone)]
pub struct Topology {
    pub file: PathBuf,
    pub span: Span,
    pub cluster: Option<Sp<String>>,
    /// Default inventory path, already resolved against the topology's directory.
    pub inventory: Option<Sp<PathBuf>>,
    pub directors: Option<DirectorsSpec>,
    pub vrrp: Option<VrrpSpec>,
    pub services: Vec<ServiceSpec>,
    pub services_span: Option<Span>,
    pub nat: Option<NatSpec>,
    pub router: Option<RouterSpec>,
}

#[derive(Debug, Clone)]
pub struct DirectorsSpec {
    pub span: Span,
    pub hosts: Vec<Sp<String>>,
    pub engine: Sp<Engine>,
    pub interface: Option<Sp<String>>,
    pub notification_email: Vec<Sp<String>>,
    pub notification_email_from: Option<Sp<String>>,
    pub smtp_server: Option<Sp<String>>,
    pub smtp_connect_timeout: Option<Sp<u64>>,
}

#[derive(Debug, Clone)]
pub struct VrrpSpec {
    pub span: Span,
    pub instance: Option<Sp<String>>,
    pub virtual_router_id: Option<Sp<i64>>,
    pub advert_int: Option<Sp<u64>>,
    pub auth_pass: Option<Sp<String>>,
    pub auth_pass_env: Option<Sp<String>>,
    pub priorities: Vec<(Sp<String>, Sp<i64>)>,
    pub sync_group: Option<Sp<String>>,
    pub nopreempt: Option<Sp<bool>>,
    pub preempt_delay: Option<Sp<u64>>,
    pub unicast: Option<Sp<bool>>,
    pub unicast_fault_no_peer: Option<Sp<bool>>,
    /// keepalived's `lvs_sync_daemon`: the MASTER's IPVS connections copied to the BACKUP.
    pub connection_sync: Option<Sp<bool>>,
    pub sync_interface: Option<Sp<String>>,
    pub sync_id: Option<Sp<u64>>,
    /// More VRRP instances, each with its own MASTER: an active-active split of the VIPs.
    pub instances: Vec<InstanceSpec>,
    /// The director's own health: keepalived `vrrp_script`s the VIP instance tracks.
    pub track_scripts: Vec<TrackScriptSpec>,
    /// Interfaces besides the VRRP one whose failure faults the instance.
    pub track_interfaces: Vec<Sp<String>>,
    pub notify_master: Option<Sp<String>>,
    pub notify_backup: Option<Sp<String>>,
    pub notify_fault: Option<Sp<String>>,
    /// Gratuitous ARP of a new MASTER: a second burst `garp_master_delay` s after the first,
    /// `garp_master_repeat` ARPs per burst, and again every `garp_master_refresh` s
    /// (`garp_master_refresh_repeat` each) while MASTER. keepalived's own key names.
    pub garp_master_delay: Option<Sp<u64>>,
    pub garp_master_repeat: Option<Sp<u64>>,
    pub garp_master_refresh: Option<Sp<u64>>,
    pub garp_master_refresh_repeat: Option<Sp<u64>>,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub span: Span,
    pub name: Option<Sp<String>>,
    /// IPv4 or IPv6 (the model checks that the rest of the service agrees).
    pub vip: Option<Sp<IpAddr>>,
    pub port: Option<Sp<u64>>,
    /// A firewall-mark service: IPVS matches packets by this mark (which lvsctl's mangle rules
    /// on the directors set for `ports` of the VIP), so one client's connections to every one
    /// of those ports are one service, scheduled (and kept, with persistence) together.
    pub fwmark: Option<Sp<u64>>,
    /// The VIP's ports a firewall-mark service covers (with `fwmark`; instead of `port`).
    pub ports: Vec<Sp<u64>>,
    pub ports_span: Option<Span>,
    /// The VRRP instance (`vrrp.instance` or one of `vrrp.instances`) that carries the VIP.
    pub vrrp_instance: Option<Sp<String>>,
    pub protocol: Sp<Protocol>,
    pub mode: Sp<Mode>,
    pub scheduler: Sp<Scheduler>,
    pub persistence_timeout: Option<Sp<u64>>,
    /// Netmask grouping clients for persistence (keepalived `persistence_granularity`).
    pub persistence_granularity: Option<Sp<Ipv4Addr>>,
    /// One-packet scheduling (UDP only).
    pub ops: Option<Sp<bool>>,
    pub delay_loop: Option<Sp<u64>>,
    /// Seconds a real server the topology removes is drained first (weight 0, until its
    /// active connections end); 0 removes it at once.
    pub drain_timeout: Option<Sp<u64>>,
    pub alpha: Option<Sp<bool>>,
    pub omega: Option<Sp<bool>>,
    pub inhibit_on_failure: Option<Sp<bool>>,
    pub quorum: Option<Sp<u64>>,
    pub hysteresis: Option<Sp<u64>>,
    pub quorum_up: Option<Sp<String>>,
    pub quorum_down: Option<Sp<String>>,
    pub sorry_server: Option<SorryServerSpec>,
    pub sorry_server_inhibit: Option<Sp<bool>>,
    pub sorry_server_lvs_method: Option<Sp<Mode>>,
    pub check: CheckSpec,
    pub real_servers: Vec<RealServerSpec>,
    pub real_servers_span: Span,
}

/// The server IPVS sends a service's traffic to when its quorum is lost: an inventory host
/// (which lvsctl then sets up like a real server) or a bare address.
#[derive(Debug, Clone)]
pub struct SorryServerSpec {
    pub span: Span,
    pub host: Option<Sp<String>>,
    pub address: Option<Sp<IpAddr>>,
    pub port: Option<Sp<u64>>,
}

#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub span: Span,
    pub kind: Sp<CheckKind>,
    pub connect_timeout: Option<Sp<u64>>,
    pub retry: Option<Sp<u64>>,
    pub delay_before_retry: Option<Sp<u64>>,
    pub connect_port: Option<Sp<u64>>,
    pub path: Option<Sp<String>>,
    /// keepalived's form, normalised: `200`, `200-299 301`.
    pub status_code: Option<Sp<String>>,
    pub digest: Option<Sp<String>>,
    pub virtualhost: Option<Sp<String>>,
    pub enable_sni: Option<Sp<bool>>,
    /// Several URLs, instead of `path` / `status_code` / `digest`.
    pub urls: Vec<UrlSpec>,
    /// `misc`: keepalived's MISC_CHECK runs this script (with the real server's address and
    /// port as arguments), `timeout` seconds at most; `dynamic`: its exit code sets the weight.
    pub script: Option<Sp<String>>,
    pub timeout: Option<Sp<u64>>,
    pub dynamic: Option<Sp<bool>>,
    /// `udp`: the datagram sent (hex) and the answer required (hex, "" = any answer).
    pub payload: Option<Sp<String>>,
    pub require_reply: Option<Sp<String>>,
    /// `dns`: the query asked (type uppercase, name).
    pub query_type: Option<Sp<String>>,
    pub query_name: Option<Sp<String>>,
}

#[derive(Debug, Clone)]
pub struct RealServerSpec {
    pub span: Span,
    pub host: Option<Sp<String>>,
    pub weight: Option<Sp<u64>>,
    pub port: Option<Sp<u64>>,
    /// Overrides the service's `inhibit_on_failure` for this real server.
    pub inhibit_on_failure: Option<Sp<bool>>,
    /// This real server's own health check instead of the service's (boxed: a CheckSpec is
    /// large, and 10,000 real servers without one must not pay for it inline).
    pub check: Option<Box<CheckSpec>>,
}

#[derive(Debug, Clone)]
pub struct NatSpec {
    pub span: Span,
    pub internal_interface: Option<Sp<String>>,
    pub gateway_vip: Option<Sp<Ipv4Addr>>,
    pub gateway_prefix: Option<Sp<u64>>,
    pub virtual_router_id: Option<Sp<u64>>,
}

#[derive(Debug, Clone)]
pub struct RouterSpec {
    pub span: Span,
    pub host: Option<Sp<String>>,
    pub public_ip: Option<Sp<Ipv4Addr>>,
    pub internal_network: Option<Sp<Cidr>>,
    /// For forwards to IPv6 services (ip6tables DNAT/SNAT): the router's public IPv6 address
    /// and the IPv6 network of the VIPs.
    pub public_ip6: Option<Sp<Ipv6Addr>>,
    pub internal_network6: Option<Sp<Cidr6>>,
    pub forwards: Vec<ForwardSpec>,
    /// `net.netfilter.nf_conntrack_max` on the router (see model::router::DEFAULT_CONNTRACK_MAX).
    pub conntrack_max: Option<Sp<u64>>,
}

#[derive(Debug, Clone)]
pub struct ForwardSpec {
    pub span: Span,
    pub port: Option<Sp<u64>>,
    pub service: Option<Sp<String>>,
}

/// An IPv4 network in CIDR notation, normalised to its network address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ipv4Addr,
    pub prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

macro_rules! choice_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [(&'static str, $name)] = &[$(($text, $name::$variant)),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
    };
}

choice_enum!(
    /// Which program drives IPVS on the directors.
    Engine { Keepalived => "keepalived", Ipvsadm => "ipvsadm" }
);
choice_enum!(Protocol { Tcp => "tcp", Udp => "udp" });
choice_enum!(
    /// LVS forwarding method.
    Mode { Dr => "dr", Nat => "nat", Tun => "tun" }
);
choice_enum!(Scheduler {
    Rr => "rr", Wrr => "wrr", Lc => "lc", Wlc => "wlc", Lblc => "lblc", Lblcr => "lblcr",
    Dh => "dh", Sh => "sh", Sed => "sed", Nq => "nq", Mh => "mh", Fo => "fo", Ovf => "ovf",
});
choice_enum!(CheckKind { Tcp => "tcp", HttpGet => "http_get", SslGet => "ssl_get", Misc => "misc", Udp => "udp", Dns => "dns", None => "none" });

const TOP_KEYS: &[&str] = &["cluster", "inventory", "directors", "vrrp", "services", "nat", "router"];
const DIRECTOR_KEYS: &[&str] =
    &["hosts", "engine", "interface", "notification_email", "notification_email_from", "smtp_server", "smtp_connect_timeout"];
const VRRP_KEYS: &[&str] = &[
    "instance", "virtual_router_id", "advert_int", "auth_pass", "auth_pass_env", "priorities", "sync_group", "nopreempt",
    "preempt_delay", "unicast", "unicast_fault_no_peer", "connection_sync", "sync_interface", "sync_id",
    "instances", "track_scripts", "track_interfaces", "notify_master", "notify_backup", "notify_fault",
    "garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat",
];
const SERVICE_KEYS: &[&str] = &[
    "name", "vip", "port", "fwmark", "ports", "vrrp_instance", "protocol", "mode", "scheduler", "persistence_timeout", "persistence_granularity", "ops", "delay_loop", "drain_timeout",
    "alpha", "omega", "inhibit_on_failure", "quorum", "hysteresis", "quorum_up", "quorum_down", "sorry_server",
    "sorry_server_inhibit", "sorry_server_lvs_method", "check", "real_servers",
];
const CHECK_KEYS: &[&str] =
    &["type", "connect_timeout", "retry", "delay_before_retry", "connect_port", "path", "status_code", "digest", "virtualhost", "enable_sni", "urls", "script", "timeout", "dynamic",
      "payload", "require_reply", "query_type", "query_name"];
const REAL_SERVER_KEYS: &[&str] = &["host", "weight", "port", "inhibit_on_failure", "check"];
const SORRY_SERVER_KEYS: &[&str] = &["host", "address", "port"];
const NAT_KEYS: &[&str] = &["internal_interface", "gateway_vip", "gateway_prefix", "virtual_router_id"];
const ROUTER_KEYS: &[&str] = &["host", "public_ip", "internal_network", "public_ip6", "internal_network6", "forwards", "conntrack_max"];
const FORWARD_KEYS: &[&str] = &["port", "service"];

/// Keys from keepalived.conf that people carry over by habit, with what to write instead.
const KEEPALIVED_HABITS: &[(&str, &str)] = &[
    ("nb_get_retry", "write `retry` (keepalived deprecated `nb_get_retry`)"),
    ("lb_algo", "write `scheduler`"),
    ("lb_kind", "write `mode`"),
    ("lvs_sched", "write `scheduler`"),
    ("lvs_method", "write `mode`"),
    ("priority", "director priorities go in `vrrp.priorities`"),
    ("state", "lvsctl sets MASTER/BACKUP itself: the first of `directors.hosts` is the MASTER"),
    ("lync_sync_daemon_interface", "write `vrrp.connection_sync: true` (lvsctl renders keepalived's `lvs_sync_daemon` from it)"),
    ("lvs_sync_daemon_interface", "write `vrrp.connection_sync: true` (lvsctl renders keepalived's `lvs_sync_daemon` from it)"),
    ("lvs_sync_daemon", "write `vrrp.connection_sync: true` (and `sync_interface`, `sync_id` where they differ from the defaults)"),
    ("nat_mask", "not needed; keepalived ignores `nat_mask` for DR and NAT alike"),
    ("virtual_ipaddress_excluded", "not needed; lvsctl moves the VIPs an advert cannot carry there itself"),
    ("sorry_server_lb_kind", "write `sorry_server_lvs_method`"),
    ("vrrp_script", "write `vrrp.track_scripts` (a list of `{ name, script, interval, fall, rise, weight }`); lvsctl renders the vrrp_script blocks and tracks them"),
    ("track_script", "write `vrrp.track_scripts` (lvsctl tracks every script it lists in the VIP instance)"),
    ("track_interface", "write `vrrp.track_interfaces`"),
    ("notify", "write `vrrp.notify_master`, `notify_backup` or `notify_fault` (a script path each)"),
    ("one_packet_scheduling", "write `ops: true`"),
];

impl Topology {
    pub fn load(path: &Path, d: &mut Diagnostics) -> Option<Topology> {
        let doc = Document::load(path, d)?;
        Some(Topology::from_document(&doc, d))
    }

    pub fn from_document(doc: &Document, d: &mut Diagnostics) -> Topology {
        let file = doc.path.as_path();
        let mut topo = Topology {
            file: file.to_path_buf(),
            span: doc.root.span(file),
            cluster: None,
            inventory: None,
            directors: None,
            vrrp: None,
            services: Vec::new(),
            services_span: None,
            nat: None,
            router: None,
        };
        let Some(root) = Map::new(file, "", &doc.root, d) else { return topo };
        deny_unknown(&root, TOP_KEYS, d);
        topo.cluster = root.str("cluster", d);
        topo.inventory = root.str("inventory", d).map(|p| {
            let base = file.parent().unwrap_or(Path::new(""));
            Sp { value: base.join(&p.value), span: p.span }
        });
        topo.directors = root.map("directors", d).map(|m| directors(&m, d));
        topo.vrrp = root.map("vrrp", d).map(|m| vrrp(&m, d));
        topo.services_span = root.get("services").map(|n| n.span(file));
        for (i, node) in root.list("services", d).into_iter().enumerate() {
            if let Some(m) = Map::new(file, format!("services[{i}]"), node, d) {
                topo.services.push(service(&m, d));
            }
        }
        topo.nat = root.map("nat", d).map(|m| nat(&m, d));
        topo.router = root.map("router", d).map(|m| router(&m, d));
        topo
    }
}

fn deny_unknown(m: &Map, known: &[&str], d: &mut Diagnostics) {
    m.deny_unknown(known, KEEPALIVED_HABITS, d);
}

/// A value that must be one of a fixed set of words (case-insensitive), with a did-you-mean.
fn choice<T: Copy>(m: &Map, key: &str, options: &[(&'static str, T)], default: T, d: &mut Diagnostics) -> Sp<T> {
    let fallback = Sp { value: default, span: m.key_node(key).map(|k| k.span(m.file)).unwrap_or_else(|| m.span()) };
    let Some(s) = m.str(key, d) else { return fallback };
    let lower = s.value.to_ascii_lowercase();
    if let Some((_, v)) = options.iter().find(|(name, _)| *name == lower) {
        return Sp { value: *v, span: s.span };
    }
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    let diag = d.error(s.span.clone(), format!("`{}`: unknown value `{}`", m.key_path(key), s.value));
    match did_you_mean(&lower, names.iter().copied()) {
        Some(n) => diag.hint(format!("did you mean `{n}`? one of: {}", names.join(", "))),
        None => diag.hint(format!("one of: {}", names.join(", "))),
    };
    fallback
}

fn str_list(m: &Map, key: &str, d: &mut Diagnostics) -> Vec<Sp<String>> {
    m.list(key, d)
        .into_iter()
        .enumerate()
        .filter_map(|(i, n)| scalar(m.file, &format!("{}[{i}]", m.key_path(key)), n, d))
        .collect()
}

fn scalar(file: &Path, what: &str, n: &Node, d: &mut Diagnostics) -> Option<Sp<String>> {
    match n.text() {
        Some(t) => Some(Sp { value: t, span: n.span(file) }),
        None => {
            d.error(n.span(file), format!("`{what}` must be a single value, found {}", describe(n)));
            None
        }
    }
}

fn directors(m: &Map, d: &mut Diagnostics) -> DirectorsSpec {
    deny_unknown(m, DIRECTOR_KEYS, d);
    DirectorsSpec {
        span: m.span(),
        hosts: str_list(m, "hosts", d),
        engine: choice(m, "engine", Engine::ALL, Engine::Keepalived, d),
        interface: m.str("interface", d),
        notification_email: match m.get("notification_email") {
            // One address written as a plain string is what people mean; accept it.
            Some(n) if n.text().is_some() => vec![Sp { value: n.text().unwrap_or_default(), span: n.span(m.file) }],
            _ => str_list(m, "notification_email", d),
        },
        notification_email_from: m.str("notification_email_from", d),
        smtp_server: m.str("smtp_server", d),
        smtp_connect_timeout: m.uint("smtp_connect_timeout", 1, 3600, d),
    }
}

fn vrrp(m: &Map, d: &mut Diagnostics) -> VrrpSpec {
    deny_unknown(m, VRRP_KEYS, d);
    m.require(&["virtual_router_id"], d);
    let mut priorities = Vec::new();
    if let Some(p) = m.map("priorities", d) {
        for (host, key, value) in p.entries() {
            let host = Sp { value: host, span: key.span(m.file) };
            let what = p.key_path(&host.value);
            match &value.value {
                crate::yaml::Value::Int(i) => priorities.push((host, Sp { value: *i, span: value.span(m.file) })),
                _ => {
                    d.error(value.span(m.file), format!("`{what}` must be a number from 1 to 254, found {}", describe(value)));
                }
            }
        }
    }
    VrrpSpec {
        span: m.span(),
        instance: m.str("instance", d),
        virtual_router_id: match m.get("virtual_router_id") {
            // Range checked in the model so the message can explain VRRP's limits.
            Some(n) => match &n.value {
                crate::yaml::Value::Int(i) => Some(Sp { value: *i, span: n.span(m.file) }),
                _ => {
                    d.error(n.span(m.file), format!("`vrrp.virtual_router_id` must be a number from 1 to 255, found {}", describe(n)));
                    None
                }
            },
            None => None,
        },
        advert_int: m.uint("advert_int", 1, 255, d),
        auth_pass: m.str("auth_pass", d),
        auth_pass_env: m.str("auth_pass_env", d),
        priorities,
        sync_group: m.str("sync_group", d),
        nopreempt: m.bool("nopreempt", d),
        preempt_delay: m.uint("preempt_delay", 0, 1000, d),
        unicast: m.bool("unicast", d),
        unicast_fault_no_peer: m.bool("unicast_fault_no_peer", d),
        connection_sync: m.bool("connection_sync", d),
        sync_interface: m.str("sync_interface", d),
        sync_id: m.uint("sync_id", 0, 255, d),
        instances: instances::instances(m, d),
        track_scripts: track::track_scripts(m, d),
        track_interfaces: str_list(m, "track_interfaces", d),
        notify_master: m.str("notify_master", d),
        notify_backup: m.str("notify_backup", d),
        garp_master_delay: m.uint("garp_master_delay", 0, 255, d),
        garp_master_repeat: m.uint("garp_master_repeat", 1, 255, d),
        garp_master_refresh: m.uint("garp_master_refresh", 0, 86400, d),
        garp_master_refresh_repeat: m.uint("garp_master_refresh_repeat", 1, 255, d),
        notify_fault: m.str("notify_fault", d),
    }
}

fn service(m: &Map, d: &mut Diagnostics) -> ServiceSpec {
    deny_unknown(m, SERVICE_KEYS, d);
    // A firewall-mark service names its ports in `ports` (checked by the model).
    m.require(if m.get("ports").is_some() { &["name", "vip", "real_servers"] } else { &["name", "vip", "port", "real_servers"] }, d);
    let check = match m.get("check") {
        Some(node) => match Map::new(m.file, m.key_path("check"), node, d) {
            Some(c) => check(&c, d),
            None => default_check(m.span()),
        },
        None => default_check(m.span()),
    };
    let mut real_servers = Vec::new();
    for (i, node) in m.list("real_servers", d).into_iter().enumerate() {
        if let Some(rm) = Map::new(m.file, format!("{}[{i}]", m.key_path("real_servers")), node, d) {
            deny_unknown(&rm, REAL_SERVER_KEYS, d);
            rm.require(&["host"], d);
            real_servers.push(RealServerSpec {
                span: rm.span(),
                host: rm.str("host", d),
                weight: rm.uint("weight", 0, 65535, d),
                port: rm.uint("port", 1, 65535, d),
                inhibit_on_failure: flag(&rm, "inhibit_on_failure", d),
                check: rm.get("check").and_then(|node| Map::new(m.file, rm.key_path("check"), node, d)).map(|c| Box::new(self::check(&c, d))),
            });
        }
    }
    ServiceSpec {
        span: m.span(),
        name: m.str("name", d),
        vip: m.ip("vip", d),
        port: m.uint("port", 1, 65535, d),
        // The kernel's mark is 32 bits; 0 is "no mark".
        fwmark: m.uint("fwmark", 1, u32::MAX as u64, d),
        ports: ports(m, d),
        ports_span: m.get("ports").map(|n| n.span(m.file)),
        vrrp_instance: m.str("vrrp_instance", d),
        protocol: choice(m, "protocol", Protocol::ALL, Protocol::Tcp, d),
        mode: choice(m, "mode", Mode::ALL, Mode::Dr, d),
        scheduler: choice(m, "scheduler", Scheduler::ALL, Scheduler::Wlc, d),
        persistence_timeout: persistence_timeout(m, d),
        persistence_granularity: netmask(m, "persistence_granularity", d),
        ops: flag(m, "ops", d),
        delay_loop: m.uint("delay_loop", 1, 86_400, d),
        drain_timeout: m.uint("drain_timeout", 0, 3_600, d),
        alpha: flag(m, "alpha", d),
        omega: flag(m, "omega", d),
        inhibit_on_failure: flag(m, "inhibit_on_failure", d),
        // keepalived reads both as unsigned 32-bit numbers; quorum 0 is refused.
        quorum: m.uint("quorum", 1, u32::MAX as u64, d),
        hysteresis: m.uint("hysteresis", 0, u32::MAX as u64, d),
        quorum_up: m.str("quorum_up", d),
        quorum_down: m.str("quorum_down", d),
        sorry_server: sorry_server(m, d),
        sorry_server_inhibit: flag(m, "sorry_server_inhibit", d),
        sorry_server_lvs_method: m.get("sorry_server_lvs_method").map(|_| choice(m, "sorry_server_lvs_method", Mode::ALL, Mode::Dr, d)),
        check,
        real_servers,
        real_servers_span: m.get("real_servers").map(|n| n.span(m.file)).unwrap_or_else(|| m.span()),
    }
}

/// `ports: [80, 443]`: each a port number.
fn ports(m: &Map, d: &mut Diagnostics) -> Vec<Sp<u64>> {
    let mut out = Vec::new();
    for (i, node) in m.list("ports", d).into_iter().enumerate() {
        let span = node.span(m.file);
        match &node.value {
            crate::yaml::Value::Int(p) if (1..=65535).contains(p) => out.push(Sp { value: *p as u64, span }),
            _ => {
                d.error(span, format!("`{}[{i}]` must be a port from 1 to 65535, found {}", m.key_path("ports"), crate::yaml::describe(node)));
            }
        }
    }
    out
}

/// A boolean that keepalived writes as a bare keyword (`alpha`, `ops`, ...): `alpha:` with no
/// value is that habit, so it gets a hint instead of being silently read as absent.
fn flag(m: &Map, key: &str, d: &mut Diagnostics) -> Option<Sp<bool>> {
    if let (Some(k), None) = (m.key_node(key), m.get(key)) {
        d.error(k.span(m.file), format!("`{}` has no value", m.key_path(key)))
            .hint(format!("write `{key}: true` (keepalived's bare `{key}` keyword) or `{key}: false`"));
        return None;
    }
    m.bool(key, d)
}

/// A dotted IPv4 netmask with contiguous ones (`255.255.255.0`), as keepalived and ipvsadm
/// `-M` take it. A prefix length (`24`, `/24`) is the common slip: the hint gives the mask.
fn netmask(m: &Map, key: &str, d: &mut Diagnostics) -> Option<Sp<Ipv4Addr>> {
    let s = m.str(key, d)?;
    let what = m.key_path(key);
    if let Some(prefix) = s.value.strip_prefix('/').unwrap_or(&s.value).parse::<u8>().ok().filter(|p| (1..=32).contains(p)) {
        d.error(s.span.clone(), format!("`{what}`: `{}` is a prefix length; keepalived wants a netmask", s.value))
            .hint(format!("write `{key}: {}`", Ipv4Addr::from(u32::MAX << (32 - prefix))));
        return None;
    }
    let Ok(mask) = s.value.parse::<Ipv4Addr>() else {
        d.error(s.span.clone(), format!("`{what}`: `{}` is not a netmask", s.value))
            .hint("write a dotted netmask, e.g. 255.255.255.0 to keep clients of one /24 on the same real server");
        return None;
    };
    let bits = u32::from(mask);
    if bits == 0 || bits.leading_ones() + bits.trailing_zeros() != 32 {
        let why = if bits == 0 { "groups every client together" } else { "is not a contiguous netmask" };
        d.error(s.span.clone(), format!("`{what}`: `{}` {why}", s.value))
            .hint("write a netmask such as 255.255.255.0 (ones, then zeros)");
        return None;
    }
    Some(Sp { value: mask, span: s.span })
}

/// `sorry_server: { host: NAME | address: IP, port: P }`. keepalived's one-line habit
/// (`sorry_server: 10.0.0.9 80`) gets the mapping to write instead.
fn sorry_server(m: &Map, d: &mut Diagnostics) -> Option<SorryServerSpec> {
    let node = m.get("sorry_server")?;
    let what = m.key_path("sorry_server");
    if let Some(text) = node.text() {
        let words: Vec<&str> = text.split_whitespace().collect();
        let target = |w: &str| if w.parse::<IpAddr>().is_ok() { format!("address: {w}") } else { format!("host: {w}") };
        let suggestion = match words.as_slice() {
            [server, port] if port.parse::<u16>().is_ok() => format!("{{ {}, port: {port} }}", target(server)),
            [server] => format!("{{ {} }}", target(server)),
            _ => "{ host: NAME } or { address: IP, port: PORT }".to_string(),
        };
        d.error(node.span(m.file), format!("`{what}` must be a mapping, found `{text}`"))
            .hint(format!("write `sorry_server: {suggestion}` (keepalived's `sorry_server IP PORT` line is a mapping here)"));
        return None;
    }
    let sm = Map::new(m.file, what, node, d)?;
    deny_unknown(&sm, SORRY_SERVER_KEYS, d);
    Some(SorryServerSpec { span: sm.span(), host: sm.str("host", d), address: sm.ip("address", d), port: sm.uint("port", 1, 65535, d) })
}

/// keepalived's own limit for `persistence_timeout` (LVS_MAX_TIMEOUT: 31 days).
pub const MAX_PERSISTENCE_TIMEOUT: u64 = 2_678_400;

/// `persistence_timeout` in seconds: keepalived refuses 0 and anything over 31 days (and
/// `keepalived -t` fails), so both are refused here with what to write instead.
fn persistence_timeout(m: &Map, d: &mut Diagnostics) -> Option<Sp<u64>> {
    let node = m.get("persistence_timeout")?;
    let what = m.key_path("persistence_timeout");
    let span = node.span(m.file);
    match &node.value {
        crate::yaml::Value::Int(0) => {
            d.error(span, format!("`{what}` is 0; keepalived accepts 1 to {MAX_PERSISTENCE_TIMEOUT} seconds"))
                .hint("to turn persistence off, remove `persistence_timeout`");
            None
        }
        crate::yaml::Value::Int(i) if (1..=MAX_PERSISTENCE_TIMEOUT as i64).contains(i) => Some(Sp { value: *i as u64, span }),
        crate::yaml::Value::Int(i) => {
            d.error(span, format!("`{what}` is {i} seconds; keepalived accepts 1 to {MAX_PERSISTENCE_TIMEOUT} (31 days)"))
                .hint(format!("keepalived refuses a longer one (`keepalived -t` fails); write at most {MAX_PERSISTENCE_TIMEOUT}"));
            None
        }
        _ => {
            d.error(span, format!("`{what}` must be a whole number of seconds from 1 to {MAX_PERSISTENCE_TIMEOUT}, found {}", describe(node)));
            None
        }
    }
}

fn default_check(span: Span) -> CheckSpec {
    CheckSpec {
        span: span.clone(),
        kind: Sp { value: CheckKind::Tcp, span },
        connect_timeout: None,
        retry: None,
        delay_before_retry: None,
        connect_port: None,
        path: None,
        status_code: None,
        digest: None,
        virtualhost: None,
        enable_sni: None,
        urls: Vec::new(),
        script: None,
        timeout: None,
        dynamic: None,
        payload: None,
        require_reply: None,
        query_type: None,
        query_name: None,
    }
}

fn check(m: &Map, d: &mut Diagnostics) -> CheckSpec {
    deny_unknown(m, CHECK_KEYS, d);
    CheckSpec {
        span: m.span(),
        kind: choice(m, "type", CheckKind::ALL, CheckKind::Tcp, d),
        connect_timeout: m.uint("connect_timeout", 1, 3600, d),
        retry: m.uint("retry", 0, 100, d),
        delay_before_retry: m.uint("delay_before_retry", 0, 3600, d),
        connect_port: m.uint("connect_port", 1, 65535, d),
        path: m.str("path", d),
        status_code: http_check::status_code(m, d),
        digest: http_check::digest(m, d),
        virtualhost: m.str("virtualhost", d),
        enable_sni: m.bool("enable_sni", d),
        urls: http_check::urls(m, d),
        script: m.str("script", d),
        timeout: m.uint("timeout", 1, 3600, d),
        dynamic: m.bool("dynamic", d),
        payload: udp_dns_check::payload(m, d),
        require_reply: udp_dns_check::require_reply(m, d),
        query_type: udp_dns_check::query_type(m, d),
        query_name: udp_dns_check::query_name(m, d),
    }
}

fn nat(m: &Map, d: &mut Diagnostics) -> NatSpec {
    deny_unknown(m, NAT_KEYS, d);
    m.require(&["internal_interface"], d);
    NatSpec {
        span: m.span(),
        internal_interface: m.str("internal_interface", d),
        gateway_vip: m.ipv4("gateway_vip", d),
        gateway_prefix: m.uint("gateway_prefix", 1, 32, d),
        virtual_router_id: m.uint("virtual_router_id", 1, 255, d),
    }
}

fn router(m: &Map, d: &mut Diagnostics) -> RouterSpec {
    deny_unknown(m, ROUTER_KEYS, d);
    m.require(&["host", "public_ip", "internal_network"], d);
    let mut forwards = Vec::new();
    for (i, node) in m.list("forwards", d).into_iter().enumerate() {
        if let Some(f) = Map::new(m.file, format!("{}[{i}]", m.key_path("forwards")), node, d) {
            deny_unknown(&f, FORWARD_KEYS, d);
            f.require(&["port", "service"], d);
            forwards.push(ForwardSpec { span: f.span(), port: f.uint("port", 1, 65535, d), service: f.str("service", d) });
        }
    }
    RouterSpec {
        span: m.span(),
        host: m.str("host", d),
        public_ip: m.ipv4("public_ip", d),
        internal_network: m.str("internal_network", d).and_then(|s| parse_cidr(&s, &m.key_path("internal_network"), d)),
        public_ip6: m.str("public_ip6", d).and_then(|s| match s.value.parse::<Ipv6Addr>() {
            Ok(ip) => Some(Sp { value: ip, span: s.span.clone() }),
            Err(_) => {
                d.error(s.span.clone(), format!("`{}`: `{}` is not a valid IPv6 address", m.key_path("public_ip6"), s.value));
                None
            }
        }),
        internal_network6: m.str("internal_network6", d).and_then(|s| parse_cidr6(&s, &m.key_path("internal_network6"), d)),
        forwards,
        // The kernel's minimum is none, but a NAT router below a few thousand entries drops
        // new connections at any real load; the sysctl is a C int.
        conntrack_max: m.uint("conntrack_max", 4096, i32::MAX as u64, d),
    }
}

pub fn parse_cidr(s: &Sp<String>, what: &str, d: &mut Diagnostics) -> Option<Sp<Cidr>> {
    let bad = |d: &mut Diagnostics| {
        d.error(s.span.clone(), format!("`{what}`: `{}` is not a valid IPv4 network", s.value))
            .hint("write it as ADDRESS/PREFIX, e.g. 10.77.0.0/24");
        None
    };
    let Some((addr, prefix)) = s.value.split_once('/') else { return bad(d) };
    let Some(addr) = parse_ipv4(&Sp { value: addr.to_string(), span: s.span.clone() }, what, &mut Diagnostics::default()) else {
        return bad(d);
    };
    let Ok(prefix) = prefix.parse::<u8>() else { return bad(d) };
    if prefix > 32 {
        return bad(d);
    }
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    let network = Ipv4Addr::from(u32::from(addr.value) & mask);
    if network != addr.value {
        d.warning(s.span.clone(), format!("`{what}`: `{}` has host bits set; using {network}/{prefix}", s.value));
    }
    Some(Sp { value: Cidr { network, prefix }, span: s.span.clone() })
}

/// An IPv6 network in CIDR notation, normalised to its network address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr6 {
    pub network: Ipv6Addr,
    pub prefix: u8,
}

impl std::fmt::Display for Cidr6 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask6(prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) }
}

pub fn parse_cidr6(s: &Sp<String>, what: &str, d: &mut Diagnostics) -> Option<Sp<Cidr6>> {
    let parsed = s.value.split_once('/').and_then(|(a, p)| Some((a.parse::<Ipv6Addr>().ok()?, p.parse::<u8>().ok().filter(|p| *p <= 128)?)));
    let Some((addr, prefix)) = parsed else {
        d.error(s.span.clone(), format!("`{what}`: `{}` is not a valid IPv6 network", s.value))
            .hint("write it as ADDRESS/PREFIX, e.g. fd77::/64");
        return None;
    };
    let network = Ipv6Addr::from(u128::from(addr) & mask6(prefix));
    if network != addr {
        d.warning(s.span.clone(), format!("`{what}`: `{}` has host bits set; using {network}/{prefix}", s.value));
    }
    Some(Sp { value: Cidr6 { network, prefix }, span: s.span.clone() })
}

impl Cidr6 {
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & mask6(self.prefix) == u128::from(self.network)
    }
}

impl Cidr {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
        u32::from(ip) & mask == u32::from(self.network)
    }
}
