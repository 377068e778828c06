//! Persistence: what brings a host back to its plan after a reboot with no lvsctl run.
//!
//! Most of a plan persists by itself: keepalived.conf, sysctl.d and modules-load.d files are
//! read at boot by their owners. Three things need a loader lvsctl must provide: the
//! addresses and routes it adds (real-server VIPs on lo and tunl0, a director's static VIPs, a
//! NAT real server's default route), the router's nat chains, and the daemons (keepalived; the
//! ipvsadm engine's table). Which loader an operator accepts depends on the host's
//! distribution, init system and network stack, which only the probe sees: so the role
//! builders leave this part out, and `finish` adds it to a host's plan once the `Persistence`
//! is known (from the inventory variable `lvsctl_persistence`, else the facts: `choose`;
//! offline, the variable or `Backend::Systemd`).
//!
//! Backends:
//! - `systemd`: units lvsctl owns, all running one script it renders, `/etc/lvsctl/boot.sh`:
//!   `lvsctl-boot.service` (after systemd-sysctl, so the ARP sysctls are set before any VIP
//!   is bound, as at apply time; before keepalived and network-pre.target: it first rolls back
//!   an apply a power cut interrupted, then binds the VIPs on lo and tunl0),
//!   `lvsctl-network.service` (after network-online.target: addresses on interfaces the
//!   network stack configures, which NetworkManager or networkd would flush if bound before,
//!   and routes, whose gateway must be on-link) and `lvsctl-nat.service` (the router's chains,
//!   after the distribution's firewall loader, restarted and reloaded with it, since its
//!   restore flushes the nat table). The same on every systemd family and network stack.
//! - `network-scripts`: `ifcfg-`/`route-` files, read by the legacy network service of
//!   RHEL/CentOS 6-8 (the seed documents' way); lvsctl-boot.service stays for the recovery
//!   and the router's chains.
//! - `none`: nothing at boot (`plan` says the host will not survive a reboot).
//!
//! The daemons are enabled at boot through the init system (`boot_units`), and the ipvsadm
//! engine's rules go where the host's distribution loads them: Debian's init script reads
//! `/etc/ipvsadm.rules` when `/etc/default/ipvsadm` says `AUTO="true"`; RHEL's ipvsadm.service
//! reads `/etc/sysconfig/ipvsadm`.

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::{ifcfg_file, Address, HostPlan, Route, Service, NETWORK_SCRIPTS};
use crate::error::Result;
use crate::render::Templates;

pub const BOOT_SCRIPT: &str = "/etc/lvsctl/boot.sh";
pub const UNIT_DIR: &str = "/etc/systemd/system";
pub const BOOT_UNIT: &str = "lvsctl-boot.service";
pub const NETWORK_UNIT: &str = "lvsctl-network.service";
pub const NAT_UNIT: &str = "lvsctl-nat.service";
pub const DEBIAN_IPVSADM_RULES: &str = "/etc/ipvsadm.rules";
pub const DEBIAN_IPVSADM_DEFAULT: &str = "/etc/default/ipvsadm";
pub const REDHAT_IPVSADM_RULES: &str = "/etc/sysconfig/ipvsadm";

/// The crash recovery both the boot script and the transaction run (`remote/sh/recover.sh`).
pub const RECOVER_LIBRARY: &str = include_str!("../remote/sh/recover.sh");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Systemd,
    NetworkScripts,
    None,
}

impl Backend {
    pub const NAMES: [&'static str; 3] = ["systemd", "network-scripts", "none"];
    pub const ALL: [Backend; 3] = [Backend::Systemd, Backend::NetworkScripts, Backend::None];

    pub fn parse(s: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        Backend::NAMES[self as usize]
    }
}

/// The distribution family, for the ipvsadm engine's loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Debian,
    Redhat,
}

impl Family {
    pub const NAMES: [&'static str; 2] = ["debian", "redhat"];
    pub const ALL: [Family; 2] = [Family::Debian, Family::Redhat];

    pub fn parse(s: &str) -> Option<Family> {
        match s.to_ascii_lowercase().as_str() {
            "debian" | "ubuntu" => Some(Family::Debian),
            "redhat" | "rhel" | "centos" | "fedora" | "rocky" | "almalinux" => Some(Family::Redhat),
            _ => None,
        }
    }

    /// From os-release's `ID ID_LIKE` words.
    pub fn of_os(os: &str) -> Option<Family> {
        os.split_whitespace().find_map(Family::parse)
    }

    pub fn as_str(self) -> &'static str {
        Family::NAMES[self as usize]
    }

    fn ipvsadm_rules(self) -> &'static str {
        match self {
            Family::Debian => DEBIAN_IPVSADM_RULES,
            Family::Redhat => REDHAT_IPVSADM_RULES,
        }
    }
}

/// How one host keeps its state across reboots, and why that way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Persistence {
    pub backend: Backend,
    pub family: Family,
    /// What the choice rests on, shown in the plan: "inventory", "offline default", or the
    /// facts ("debian 12, systemd, ifupdown").
    pub reason: String,
}

impl Persistence {
    /// The plan's line: "systemd units (debian 12, systemd, ifupdown)".
    pub fn describe(&self) -> String {
        let what = match self.backend {
            Backend::Systemd => "systemd units (lvsctl-boot.service and its kin)",
            Backend::NetworkScripts => "network-scripts ifcfg files (+ lvsctl-boot.service)",
            Backend::None => "none: lvsctl's addresses, routes and nat chains do not survive a reboot (daemons are enabled)",
        };
        format!("{what}; {}", self.reason)
    }

    /// Offline, or before the facts are in: the inventory's choice, else the default.
    pub fn planned(backend: Option<Backend>, family: Option<Family>) -> Persistence {
        let reason = match (backend, family) {
            (Some(_), _) => "lvsctl_persistence in the inventory".to_string(),
            (None, _) => "default (no facts: set lvsctl_persistence to choose)".to_string(),
        };
        Persistence { backend: backend.unwrap_or(Backend::Systemd), family: family.unwrap_or(Family::Redhat), reason }
    }
}

/// What the probe tells about how a host boots (`facts::SystemFacts`), as the choice needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootFacts {
    /// os-release `ID ID_LIKE`.
    pub os: Option<String>,
    pub os_version: Option<String>,
    /// "systemd", "openrc", "sysvinit".
    pub init: Option<String>,
    /// The network stacks found active: "network-scripts", "NetworkManager",
    /// "systemd-networkd", "netplan", "ifupdown".
    pub network: Vec<String>,
}

/// The persistence of a host: the inventory's, else what its facts call for.
pub fn choose(var: Option<Backend>, family_var: Option<Family>, f: &BootFacts) -> Persistence {
    let family = family_var.or_else(|| f.os.as_deref().and_then(Family::of_os)).unwrap_or(Family::Redhat);
    let mut seen: Vec<String> = Vec::new();
    if let Some(os) = &f.os {
        seen.push(format!("{}{}", os.split_whitespace().next().unwrap_or(os), f.os_version.as_ref().map(|v| format!(" {v}")).unwrap_or_default()));
    }
    seen.push(f.init.clone().unwrap_or_else(|| "init unknown".into()));
    seen.push(if f.network.is_empty() { "no network stack found".into() } else { f.network.join("+") });
    let facts = seen.join(", ");
    if let Some(b) = var {
        return Persistence { backend: b, family, reason: format!("lvsctl_persistence in the inventory; {facts}") };
    }
    let backend = if f.network.iter().any(|n| n == "network-scripts") {
        Backend::NetworkScripts
    } else if f.init.as_deref() == Some("systemd") {
        Backend::Systemd
    } else {
        Backend::None
    };
    Persistence { backend, family, reason: facts }
}

/// A unit lvsctl owns, as its template renders it.
#[derive(Serialize)]
struct UnitCtx<'a> {
    description: &'a str,
    phase: &'a str,
    default_dependencies: bool,
    after: Vec<&'a str>,
    before: Vec<&'a str>,
    wants: Vec<&'a str>,
    part_of: Vec<&'a str>,
    reload: bool,
    script: &'static str,
}

#[derive(Serialize)]
struct BootCtx<'a> {
    cluster: &'a str,
    host: &'a str,
    recover: &'static str,
    modules: &'a [String],
    sysctl_file: &'static str,
    modules_file: &'static str,
    early: Vec<&'a Address>,
    late: Vec<&'a Address>,
    routes: &'a [Route],
    nat: Vec<NatCtx<'a>>,
}

#[derive(Serialize)]
struct NatCtx<'a> {
    file: &'a str,
    chains: Vec<String>,
    /// `iptables`, or `ip6tables` for the router's IPv6 rules.
    tool: &'static str,
}

/// The firewall loaders the router's chains load after (their restore flushes the nat table).
const FIREWALL_LOADERS: [&str; 4] = ["netfilter-persistent.service", "iptables.service", "firewalld.service", "ufw.service"];

/// Add to `p` what makes it survive a reboot the way `how` says; `None` leaves the runtime
/// part as it is. Called once per plan, on a plan from the role builders.
pub fn finish(p: &mut HostPlan, how: &Persistence, templates: &Templates) -> Result<()> {
    let cluster = p.cluster.clone();
    p.persistence = Some(how.clone());
    // The daemons start at boot whatever keeps the addresses: keepalived; the ipvsadm
    // engine's rules where the distribution's loader reads them, with the loader on.
    if p.services.iter().any(|s| s.name == "keepalived") {
        p.boot_units.push("keepalived".into());
    }
    if let Some(rules) = p.ipvsadm_rules.clone() {
        let path = how.family.ipvsadm_rules();
        p.add_file(path.into(), rules, 0o600, false);
        p.services.push(Service { name: "ipvsadm".into(), reload_on: vec![path.into()], rules_file: Some(path.into()) });
        if how.family == Family::Debian {
            let text = format!("# Managed by lvsctl (cluster {cluster}): Debian's ipvsadm init script loads\n# {DEBIAN_IPVSADM_RULES} at boot only with AUTO=\"true\".\nAUTO=\"true\"\nDAEMON=\"none\"\n");
            p.add_file(DEBIAN_IPVSADM_DEFAULT.into(), text, 0o644, false);
        }
        p.boot_units.push("ipvsadm".into());
    }
    if how.backend == Backend::None {
        p.files.sort_by(|a, b| a.path.cmp(&b.path));
        return Ok(());
    }
    let ifcfg = how.backend == Backend::NetworkScripts;
    // On lo, tunl0 and ip6tnl0 nothing else manages addresses: bound early. Elsewhere the network stack
    // configures the interface first.
    // network-scripts: the ifcfg files carry the IPv4 addresses (their aliases, `ifcfg-lo:0`,
    // are IPv4 only); IPv6 addresses stay with the boot script.
    let early_dev = |a: &&Address| a.dev == "lo" || a.dev == "tunl0" || a.dev == super::real_server::TUN6_DEV;
    let (early, late): (Vec<&Address>, Vec<&Address>) = p.addresses.iter().filter(|a| !ifcfg || a.ip.is_ipv6()).partition(early_dev);
    let routes: &[Route] = if ifcfg { &[] } else { &p.routes };
    let nat: Vec<NatCtx> = p.nat_files().into_iter().map(|(f, chains, v6)| NatCtx { file: &f.path, chains, tool: if v6 { "ip6tables" } else { "iptables" } }).collect();
    let boot = BootCtx {
        cluster: &cluster,
        host: &p.host,
        recover: RECOVER_LIBRARY,
        modules: &p.kernel_modules,
        sysctl_file: super::SYSCTL_FILE,
        modules_file: super::MODULES_FILE,
        early,
        late: late.clone(),
        routes,
        nat,
    };
    let has_nat = !boot.nat.is_empty();
    let script = templates.render("boot.sh.j2", boot)?;
    let mut files = vec![(BOOT_SCRIPT.to_string(), script, 0o755)];
    let render = |u: UnitCtx| templates.render("lvsctl.service.j2", u);
    // Early, outside the default dependencies (which would order it after basic.target, and
    // network-pre.target with it): right after the sysctls, before any network stack.
    let boot_unit = render(UnitCtx {
        description: "lvsctl: recover an interrupted apply, bind the VIPs on lo and tunl0",
        phase: "early",
        default_dependencies: false,
        after: vec!["local-fs.target", "systemd-modules-load.service", "systemd-sysctl.service"],
        before: vec!["network-pre.target", "keepalived.service", "ipvsadm.service", "network.service", "NetworkManager.service", "systemd-networkd.service"],
        wants: vec!["network-pre.target"],
        part_of: Vec::new(),
        reload: false,
        script: BOOT_SCRIPT,
    })?;
    files.push((format!("{UNIT_DIR}/{BOOT_UNIT}"), boot_unit, 0o644));
    p.boot_units.push(BOOT_UNIT.into());
    if !late.is_empty() || !routes.is_empty() {
        let u = render(UnitCtx {
            description: "lvsctl: addresses and routes on interfaces the network stack configures",
            phase: "network",
            default_dependencies: true,
            after: vec!["network-online.target", BOOT_UNIT],
            before: vec!["keepalived.service", "ipvsadm.service"],
            wants: vec!["network-online.target"],
            part_of: Vec::new(),
            reload: false,
            script: BOOT_SCRIPT,
        })?;
        files.push((format!("{UNIT_DIR}/{NETWORK_UNIT}"), u, 0o644));
        p.boot_units.push(NETWORK_UNIT.into());
    }
    if has_nat {
        let mut after = vec!["local-fs.target", BOOT_UNIT];
        after.extend(FIREWALL_LOADERS);
        let u = render(UnitCtx {
            description: "lvsctl: its iptables chains (router NAT, director firewall marks), after (and with) the firewall loader",
            phase: "nat",
            default_dependencies: false,
            after,
            before: vec!["network-pre.target"],
            wants: vec!["network-pre.target"],
            part_of: FIREWALL_LOADERS.to_vec(),
            reload: true,
            script: BOOT_SCRIPT,
        })?;
        files.push((format!("{UNIT_DIR}/{NAT_UNIT}"), u, 0o644));
        p.boot_units.push(NAT_UNIT.into());
    }
    for (path, content, mode) in files {
        p.add_file(path, content, mode, false);
    }
    if ifcfg {
        network_scripts(p, templates)?;
    }
    p.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(())
}

/// The network-scripts files: an ifcfg file per labelled address (`ifcfg-lo:0`), one for
/// tunl0 with every TUN VIP, a route file per device.
fn network_scripts(p: &mut HostPlan, templates: &Templates) -> Result<()> {
    let mut files = Vec::new();
    let v4 = |a: &Address| match a.ip {
        IpAddr::V4(ip) => Some((ip, a.prefix)),
        IpAddr::V6(_) => None,
    };
    let tun: Vec<(Ipv4Addr, u8)> = p.addresses.iter().filter(|a| a.dev == "tunl0").filter_map(v4).collect();
    for (a, ip) in p.addresses.iter().filter(|a| a.dev != "tunl0").filter_map(|a| v4(a).map(|(ip, _)| (a, ip))) {
        let label = a.label.clone().unwrap_or_else(|| a.dev.clone());
        let purpose = p.purposes.get(&a.ip).copied().unwrap_or("address bound by lvsctl");
        let name = (a.dev == "lo").then_some("loopback");
        files.push((format!("{NETWORK_SCRIPTS}/ifcfg-{label}"), ifcfg_file(templates, &p.cluster, purpose, &label, None, name, &[(ip, a.prefix)])?));
    }
    if !tun.is_empty() {
        files.push((format!("{NETWORK_SCRIPTS}/ifcfg-tunl0"), ifcfg_file(templates, &p.cluster, "VIPs of an LVS-TUN real server", "tunl0", Some("IPIP"), None, &tun)?));
    }
    for r in &p.routes {
        #[derive(Serialize)]
        struct Ctx<'a> {
            cluster: &'a str,
            gateway: Ipv4Addr,
            device: &'a str,
        }
        files.push((format!("{NETWORK_SCRIPTS}/route-{}", r.dev), templates.render("route.j2", Ctx { cluster: &p.cluster, gateway: r.via, device: &r.dev })?));
    }
    for (path, content) in files {
        p.add_file(path, content, 0o644, false);
    }
    Ok(())
}

/// A host without systemd: nothing would run lvsctl's units, so they and their script are
/// neither written nor enabled (the network-scripts files and the daemons stay).
pub fn without_units(p: &mut HostPlan) {
    p.files.retain(|f| !matches!(f.kind, super::FileKind::SystemdUnit | super::FileKind::BootScript));
    p.boot_units.retain(|u| !u.starts_with("lvsctl-"));
}
