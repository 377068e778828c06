//! Per-host plans: exactly what each host must look like, as plain data.
//!
//! A `HostPlan` lists the files (rendered content, mode, owner), the runtime sysctls in the
//! order they must be set (ARP sysctls before any VIP is bound), the addresses, routes, the
//! iptables chains lvsctl owns and the services to keep running. It is computed offline from
//! the validated `Cluster` and never looks at a host: comparing it with a host's facts is the
//! job of `changes.rs`. Output is sorted and deterministic so plans can be diffed and
//! snapshot-tested.

pub mod director;
pub mod fwmark;
pub mod persistence;
pub mod real_server;
pub mod router;
mod secrets;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::error::Result;
use crate::model::Cluster;
use crate::render::Templates;

pub use secrets::{Secrets, MASK};

pub const SYSCTL_FILE: &str = "/etc/sysctl.d/90-lvsctl.conf";
/// Kernel modules a role needs before its sysctls and addresses (systemd-modules-load runs
/// before systemd-sysctl at boot; apply loads them first too).
pub const MODULES_FILE: &str = "/etc/modules-load.d/lvsctl.conf";
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
    /// lvsctl's iptables chains (the router's nat chains, a director's mangle chain of firewall
    /// marks): `iptables-restore --test`, every jumped-to chain declared.
    NatRules,
    /// /etc/sysctl.d/90-lvsctl.conf.
    Sysctl,
    /// A network-scripts `ifcfg-<device>` file (addresses).
    Ifcfg,
    /// A network-scripts `route-<device>` file (routes).
    Route,
    /// /etc/modules-load.d/lvsctl.conf.
    ModulesLoad,
    /// A systemd unit lvsctl owns (`systemd-analyze verify`; a daemon-reload after install).
    SystemdUnit,
    /// /etc/lvsctl/boot.sh, which lvsctl's units run at boot.
    BootScript,
    /// Debian's /etc/default/ipvsadm (the ipvsadm engine's loader switch).
    IpvsadmDefault,
    /// /etc/lvsctl/drained: the real servers `lvsctl drain` took out (`model::drained`).
    DrainMarks,
    /// A file of an old generation record this lvsctl does not know: written as it was,
    /// nothing checks it.
    Other,
}

impl FileKind {
    /// Written by `persistence::finish`, never by a role builder (so `unfinished` can take
    /// them out again).
    pub fn is_boot(self) -> bool {
        matches!(self, FileKind::SystemdUnit | FileKind::BootScript | FileKind::Ifcfg | FileKind::Route | FileKind::IpvsadmRules | FileKind::IpvsadmDefault)
    }

    /// The kind of a file lvsctl writes at `path` (the naming lives in the role builders'
    /// constants; this reads it back, e.g. for a previous render or an old record).
    pub fn of_path(path: &str) -> Option<FileKind> {
        let name = path.rsplit('/').next().unwrap_or(path);
        Some(match path {
            director::KEEPALIVED_CONF => FileKind::KeepalivedConf,
            router::RULES_FILE | router::RULES6_FILE | fwmark::RULES_FILE => FileKind::NatRules,
            SYSCTL_FILE => FileKind::Sysctl,
            MODULES_FILE => FileKind::ModulesLoad,
            persistence::DEBIAN_IPVSADM_RULES | persistence::REDHAT_IPVSADM_RULES => FileKind::IpvsadmRules,
            persistence::DEBIAN_IPVSADM_DEFAULT => FileKind::IpvsadmDefault,
            persistence::BOOT_SCRIPT => FileKind::BootScript,
            crate::model::drained::DRAINED_FILE => FileKind::DrainMarks,
            _ if path.starts_with(persistence::UNIT_DIR) && name.starts_with("lvsctl") && name.ends_with(".service") => FileKind::SystemdUnit,
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
    /// IPv4 or IPv6; an IPv6 address has no label (the kernel ignores one).
    pub ip: IpAddr,
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
    /// iptables chains lvsctl owns on this host: `LVSCTL-PREROUTING` (a bare name is the nat
    /// table's, as records before firewall marks say), `mangle:LVSCTL-FWMARK`.
    pub nat_chains: Vec<String>,
    pub services: Vec<Service>,
    /// Directors: the IPVS table keepalived (or the ipvsadm rules) must program into the
    /// kernel. Not a file: compared with the kernel's table by `changes` and `status`.
    pub ipvs: Vec<crate::ipvs::ExpectedService>,
    /// Kernel modules activation loads before its sysctls and addresses (a TUN real server
    /// needs `ipip`: it creates tunl0, whose rp_filter and VIPs come next). At boot
    /// /etc/modules-load.d loads them.
    pub kernel_modules: Vec<String>,
    /// How the host keeps all this across reboots (`persistence::finish` sets it).
    pub persistence: Option<persistence::Persistence>,
    /// Units enabled at boot (keepalived, lvsctl's own, the ipvsadm loader).
    pub boot_units: Vec<String>,
    /// The ipvsadm engine's rules, placed by `persistence::finish` where the host's
    /// distribution loads them.
    #[serde(skip)]
    pub ipvsadm_rules: Option<String>,
    /// What each bound address is for (comments of the network-scripts files).
    #[serde(skip)]
    pub purposes: BTreeMap<IpAddr, &'static str>,
    /// The inventory's `lvsctl_persistence` and `lvsctl_os_family`, if set.
    #[serde(skip)]
    pub wanted: (Option<persistence::Backend>, Option<persistence::Family>),
    /// Live plans: this plan finished for every persistence and family, one of which
    /// `for_facts` takes once the host's facts are known (`with_alternatives`).
    #[serde(skip)]
    pub alternatives: Vec<HostPlan>,
}

impl HostPlan {
    pub(crate) fn new(cluster: &str, host: &str) -> HostPlan {
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
            persistence: None,
            boot_units: Vec::new(),
            ipvsadm_rules: None,
            purposes: BTreeMap::new(),
            wanted: (None, None),
            alternatives: Vec::new(),
        }
    }

    /// Give a live plan its alternatives: finished for every persistence and family, so the
    /// probe reads what any of them manages and `for_facts` can pick one without templates.
    pub fn with_alternatives(&mut self, templates: &Templates) -> Result<()> {
        let mut alts = Vec::new();
        for backend in persistence::Backend::ALL {
            for family in persistence::Family::ALL {
                alts.push(self.refinish(&persistence::Persistence { backend, family, reason: String::new() }, templates)?);
            }
        }
        self.alternatives = alts;
        Ok(())
    }

    /// The plan for a host with these facts: the alternative `persistence::choose` picks
    /// (this plan itself when it has none: offline).
    pub fn for_facts(&self, facts: &crate::facts::Facts) -> HostPlan {
        let how = persistence::choose(self.wanted.0, self.wanted.1, &facts.boot);
        match self.alternatives.iter().find(|a| a.persistence.as_ref().is_some_and(|p| p.backend == how.backend && p.family == how.family)) {
            Some(alt) => {
                let mut p = alt.clone();
                if facts.boot.init.as_deref().is_some_and(|i| i != "systemd") {
                    persistence::without_units(&mut p);
                }
                p.persistence = Some(how);
                p
            }
            None => self.clone(),
        }
    }

    /// The plan as the role builders made it, before `persistence::finish`.
    pub fn unfinished(&self) -> HostPlan {
        let mut p = self.clone();
        p.files.retain(|f| !f.kind.is_boot());
        if p.ipvsadm_rules.is_some() {
            p.services.retain(|s| s.name != "ipvsadm");
        }
        p.persistence = None;
        p.boot_units.clear();
        p.alternatives.clear();
        p
    }

    /// The plan made to persist the way `how` says (live plans: once the facts are in).
    pub fn refinish(&self, how: &persistence::Persistence, templates: &Templates) -> Result<HostPlan> {
        let mut p = self.unfinished();
        persistence::finish(&mut p, how, templates)?;
        Ok(p)
    }

    /// The host's iptables-restore files (the router's IPv4 and IPv6 ones, a director's mark
    /// rules), each with the chains it declares and whether ip6tables loads it.
    pub fn nat_files(&self) -> Vec<(&ManagedFile, Vec<String>, bool)> {
        self.files
            .iter()
            .filter(|f| f.kind == FileKind::NatRules)
            .map(|f| {
                let v6 = is_ip6tables_file(&f.path);
                (f, fwmark::declared_chains(&f.content, v6), v6)
            })
            .collect()
    }

    pub fn file_of_kind(&self, kind: FileKind) -> Option<&ManagedFile> {
        self.files.iter().find(|f| f.kind == kind)
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

    fn kernel_module(&mut self, name: &str) {
        if !self.kernel_modules.iter().any(|m| m == name) {
            self.kernel_modules.push(name.to_string());
        }
    }

    /// The modules-load.d file of the modules the roles asked for, each with its reason.
    fn modules_file(&mut self, cluster: &str) {
        if self.kernel_modules.is_empty() {
            return;
        }
        let mut text = format!("# Managed by lvsctl (cluster {cluster}): kernel modules loaded at boot, before the sysctls\n");
        for m in &self.kernel_modules {
            let why = match m.as_str() {
                "ipip" => "LVS-TUN real servers decapsulate IPIP on tunl0",
                "ip6_tunnel" => "LVS-TUN real servers of IPv6 VIPs decapsulate IPv6-in-IPv6 on ip6tnl0",
                "nf_conntrack" => "the router's NAT; its table size is a sysctl of this module",
                "ip_vs" => "IPVS, before its net.ipv4.vs sysctls",
                _ => "needed by lvsctl's configuration",
            };
            text.push_str(&format!("# {why}\n{m}\n"));
        }
        self.add_file(MODULES_FILE.into(), text, 0o644, false);
    }

    pub(crate) fn add_file(&mut self, path: String, content: String, mode: u32, secret: bool) {
        let kind = FileKind::of_path(&path).expect("every file a role builder writes has a kind");
        self.files.push(ManagedFile { path, kind, content, mode, owner: "root".into(), group: "root".into(), secret });
    }

    /// The rollout stage: real servers first, then BACKUP directors, the MASTER, the router.
    pub fn stage(&self) -> Role {
        self.roles.iter().copied().max().unwrap_or(Role::RealServer)
    }
}

/// Live commands: every plan with its alternatives (`HostPlan::with_alternatives`).
pub fn with_alternatives(plans: &mut [HostPlan], templates: &Templates) -> Result<()> {
    plans.iter_mut().try_for_each(|p| p.with_alternatives(templates))
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
    real_server::plan_all(cluster, &mut plans)?;
    if let Some(r) = &cluster.router {
        let p = plans.get_mut(&r.host).expect("the router is a cluster host");
        p.roles.push(Role::Router);
        router::plan(cluster, r, templates, p)?;
    }
    let mut out: Vec<HostPlan> = plans.into_values().collect();
    for p in &mut out {
        p.roles.sort();
        p.roles.dedup();
        p.modules_file(&cluster.name);
        let ctx = sysctl_context(cluster, p);
        let content = templates.render("sysctl.conf.j2", ctx)?;
        p.add_file(SYSCTL_FILE.to_string(), content, 0o644, false);
        let host = &cluster.hosts[&p.host];
        p.wanted = (host.persistence, host.os_family);
        persistence::finish(p, &persistence::Persistence::planned(host.persistence, host.os_family), templates)?;
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

/// Whether ip6tables (not iptables) loads this rules file.
pub fn is_ip6tables_file(path: &str) -> bool {
    path == router::RULES6_FILE
}

/// The prefix length that makes `ip` a single address (/32, /128).
pub fn host_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv6() { 128 } else { 32 }
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
fn ifcfg_file(templates: &Templates, cluster: &str, purpose: &str, device: &str, device_type: Option<&str>, name: Option<&str>, addrs: &[(Ipv4Addr, u8)]) -> Result<String> {
    let addresses = addrs
        .iter()
        .enumerate()
        .map(|(i, (ip, prefix))| IfcfgAddr { suffix: if i == 0 { String::new() } else { i.to_string() }, ip: *ip, netmask: netmask(*prefix) })
        .collect();
    templates.render("ifcfg.j2", IfcfgCtx { cluster, purpose, device, device_type, name, addresses })
}

/// The sysctl key of a per-interface setting. In sysctl keys `.` separates levels, so an
/// interface name containing a dot (a VLAN such as eth0.100) is written with `/`.
pub fn sysctl_key(interface: &str, setting: &str) -> String {
    format!("net.ipv4.conf.{}.{setting}", interface.replace('.', "/"))
}
