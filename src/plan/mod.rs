//! Per-host plans: exactly what each host must look like, as plain data.
//!
//! A `HostPlan` lists the files (rendered content, mode, owner), the runtime sysctls in the
//! order they must be set (ARP sysctls before any VIP is bound), the addresses, routes, the
//! iptables chains lvsctl owns and the services to keep running. It is computed offline from
//! the validated `Cluster` and never looks at a host: comparing it with a host's facts is the
//! job of `changes.rs`. Output is sorted and deterministic so plans can be diffed and
//! snapshot-tested.

pub mod director;
pub mod real_server;
pub mod router;
mod secrets;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::error::Result;
use crate::model::Cluster;
use crate::render::Templates;

pub use secrets::{Secrets, MASK};

pub const SYSCTL_FILE: &str = "/etc/sysctl.d/90-lvsctl.conf";
pub const NETWORK_SCRIPTS: &str = "/etc/sysconfig/network-scripts";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    RealServer,
    BackupDirector,
    MasterDirector,
    Router,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::RealServer => "real server",
            Role::BackupDirector => "backup director",
            Role::MasterDirector => "master director",
            Role::Router => "router",
        }
    }
}

/// What a managed file is, which says how the host checks it before it goes live and what
/// its content means at runtime (for facts read back from a render directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// keepalived.conf: `keepalived -t -e -f` on the host before install.
    KeepalivedConf,
    /// The ipvsadm engine's rules, loaded by `ipvsadm-restore`.
    IpvsadmRules,
    /// The router's nat chains: `iptables-restore --test`, every jumped-to chain declared.
    NatRules,
    /// /etc/sysctl.d/90-lvsctl.conf.
    Sysctl,
    /// A network-scripts `ifcfg-<device>` file (addresses).
    Ifcfg,
    /// A network-scripts `route-<device>` file (routes).
    Route,
    /// /etc/modules-load.d/lvsctl.conf.
    ModulesLoad,
    /// A file of an old generation record this lvsctl does not know: written as it was,
    /// nothing checks it.
    Other,
}

impl FileKind {
    /// The kind of a file lvsctl writes at `path` (the naming lives in the role builders'
    /// constants; this reads it back, e.g. for a previous render or an old record).
    pub fn of_path(path: &str) -> Option<FileKind> {
        let name = path.rsplit('/').next().unwrap_or(path);
        Some(match path {
            director::KEEPALIVED_CONF => FileKind::KeepalivedConf,
            director::IPVSADM_RULES => FileKind::IpvsadmRules,
            router::RULES_FILE => FileKind::NatRules,
            SYSCTL_FILE => FileKind::Sysctl,
            real_server::MODULES_FILE => FileKind::ModulesLoad,
            _ if name.starts_with("ifcfg-") => FileKind::Ifcfg,
            _ if name.starts_with("route-") => FileKind::Route,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedFile {
    pub path: String,
    pub kind: FileKind,
    #[serde(skip)]
    pub content: String,
    pub mode: u32,
    pub owner: String,
    pub group: String,
    /// The content holds a secret (auth_pass): never shown unmasked, stored 0600/0640.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sysctl {
    pub key: String,
    pub value: String,
    pub comment: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Address {
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub dev: String,
    pub label: Option<String>,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} dev {}", self.ip, self.prefix, self.dev)?;
        if let Some(l) = &self.label {
            write!(f, " label {l}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Route {
    pub destination: String,
    pub via: Ipv4Addr,
    pub dev: String,
}

/// A daemon lvsctl keeps running, reloaded when one of its files changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub name: String,
    pub reload_on: Vec<String>,
    /// ipvsadm is no daemon: its start, reload and restart load this file with
    /// `ipvsadm-restore`.
    pub rules_file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HostPlan {
    /// The cluster's name (recorded with each generation on the host).
    pub cluster: String,
    pub host: String,
    pub roles: Vec<Role>,
    pub files: Vec<ManagedFile>,
    pub sysctls: Vec<Sysctl>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    /// iptables nat chains lvsctl owns on this host.
    pub nat_chains: Vec<String>,
    pub services: Vec<Service>,
    /// Directors: the IPVS table keepalived (or the ipvsadm rules) must program into the
    /// kernel. Not a file: compared with the kernel's table by `changes` and `status`.
    pub ipvs: Vec<crate::ipvs::ExpectedService>,
    /// Kernel modules activation loads before its sysctls and addresses (a TUN real server
    /// needs `ipip`: it creates tunl0, whose rp_filter and VIPs come next). At boot
    /// /etc/modules-load.d loads them.
    pub kernel_modules: Vec<String>,
}

impl HostPlan {
    fn new(cluster: &str, host: &str) -> HostPlan {
        HostPlan {
            cluster: cluster.to_string(),
            host: host.to_string(),
            roles: Vec::new(),
            files: Vec::new(),
            sysctls: Vec::new(),
            addresses: Vec::new(),
            routes: Vec::new(),
            nat_chains: Vec::new(),
            services: Vec::new(),
            ipvs: Vec::new(),
            kernel_modules: Vec::new(),
        }
    }

    pub fn file(&self, path: &str) -> Option<&ManagedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Add a sysctl; a key set twice keeps its first position (roles agree on values: a
    /// conflict would be a bug in the role builders, caught by tests).
    fn sysctl(&mut self, key: impl Into<String>, value: &str, comment: Option<&'static str>) {
        let key = key.into();
        match self.sysctls.iter().find(|s| s.key == key) {
            Some(existing) => debug_assert_eq!(existing.value, value, "conflicting values for {key}"),
            None => self.sysctls.push(Sysctl { key, value: value.to_string(), comment }),
        }
    }

    fn add_file(&mut self, path: String, content: String, mode: u32, secret: bool) {
        let kind = FileKind::of_path(&path).expect("every file a role builder writes has a kind");
        self.files.push(ManagedFile { path, kind, content, mode, owner: "root".into(), group: "root".into(), secret });
    }

    /// The rollout stage: real servers first, then BACKUP directors, the MASTER, the router.
    pub fn stage(&self) -> Role {
        self.roles.iter().copied().max().unwrap_or(Role::RealServer)
    }
}

/// Build the plan of every host the cluster names, sorted by host name.
pub fn build(cluster: &Cluster, templates: &Templates) -> Result<Vec<HostPlan>> {
    let mut plans: BTreeMap<String, HostPlan> = BTreeMap::new();
    for host in cluster.hosts.keys() {
        plans.insert(host.clone(), HostPlan::new(&cluster.name, host));
    }
    for d in &cluster.directors {
        let p = plans.get_mut(&d.host).expect("every director is a cluster host");
        p.roles.push(if d.is_master { Role::MasterDirector } else { Role::BackupDirector });
        director::plan(cluster, d, templates, p)?;
        p.ipvs = crate::ipvs::expected(cluster);
    }
    real_server::plan_all(cluster, templates, &mut plans)?;
    if let Some(r) = &cluster.router {
        let p = plans.get_mut(&r.host).expect("the router is a cluster host");
        p.roles.push(Role::Router);
        router::plan(cluster, r, templates, p)?;
    }
    let mut out: Vec<HostPlan> = plans.into_values().collect();
    for p in &mut out {
        p.roles.sort();
        p.roles.dedup();
        let ctx = sysctl_context(cluster, p);
        let content = templates.render("sysctl.conf.j2", ctx)?;
        p.add_file(SYSCTL_FILE.to_string(), content, 0o644, false);
        p.files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(out)
}

#[derive(Serialize)]
struct SysctlCtx<'a> {
    cluster: &'a str,
    host: &'a str,
    role: String,
    sysctls: &'a [Sysctl],
}

fn sysctl_context<'a>(cluster: &'a Cluster, p: &'a HostPlan) -> SysctlCtx<'a> {
    SysctlCtx {
        cluster: &cluster.name,
        host: &p.host,
        role: p.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
        sysctls: &p.sysctls,
    }
}

/// Dotted netmask of a prefix length, for ifcfg files.
pub fn netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) })
}

#[derive(Serialize)]
struct IfcfgAddr {
    suffix: String,
    ip: Ipv4Addr,
    netmask: Ipv4Addr,
}

#[derive(Serialize)]
struct IfcfgCtx<'a> {
    cluster: &'a str,
    purpose: &'a str,
    device: &'a str,
    device_type: Option<&'a str>,
    name: Option<&'a str>,
    addresses: Vec<IfcfgAddr>,
}

/// One ifcfg file: `addrs` are (ip, prefix); the first is IPADDR, the rest IPADDR1.. .
fn ifcfg(templates: &Templates, cluster: &Cluster, purpose: &str, device: &str, device_type: Option<&str>, name: Option<&str>, addrs: &[(Ipv4Addr, u8)]) -> Result<String> {
    let addresses = addrs
        .iter()
        .enumerate()
        .map(|(i, (ip, prefix))| IfcfgAddr { suffix: if i == 0 { String::new() } else { i.to_string() }, ip: *ip, netmask: netmask(*prefix) })
        .collect();
    templates.render("ifcfg.j2", IfcfgCtx { cluster: &cluster.name, purpose, device, device_type, name, addresses })
}

/// The sysctl key of a per-interface setting. In sysctl keys `.` separates levels, so an
/// interface name containing a dot (a VLAN such as eth0.100) is written with `/`.
pub fn sysctl_key(interface: &str, setting: &str) -> String {
    format!("net.ipv4.conf.{}.{setting}", interface.replace('.', "/"))
}
