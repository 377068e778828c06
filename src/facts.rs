//! Facts: the state of a host that a plan is compared with.
//!
//! Offline there are two sources: an empty host (nothing managed yet), and a previous
//! `lvsctl render` directory (`plan --offline --against DIR`), whose files are read back and
//! whose runtime state is taken to be what those files describe (the sysctl file's values,
//! the ifcfg files' addresses). Live facts probed over SSH fill the same struct, so the change
//! computation does not care where facts came from.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use crate::error::{Error, Result};
use crate::plan::{Address, FileKind, Route, SYSCTL_FILE};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFact {
    pub content: String,
    pub mode: u32,
    pub owner: String,
    pub group: String,
}

/// What lvsctl applied to a host last time (`remote::layout::MANIFEST`, written by apply), so
/// a later plan removes exactly what lvsctl put there and the topology no longer has, and
/// never anything else the host happens to have (its own addresses, other tools' files).
/// (Manifests of older versions also hold a `generation`, ignored: `$S/generation` is it.)
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub cluster: String,
    pub files: Vec<String>,
    pub sysctls: Vec<String>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    pub nat_chains: Vec<String>,
    /// Units lvsctl enabled (manifests before persistence have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boot_units: Vec<String>,
}

/// keepalived as found on a host.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeepalivedFact {
    pub installed: bool,
    pub version: Option<String>,
    pub running: bool,
    pub pid: Option<u32>,
}

/// A director's IPVS table as the probe found it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IpvsFact {
    /// Not asked for (not a director), or offline.
    #[default]
    NotProbed,
    /// /proc/net/ip_vs is absent: the kernel has no IPVS (not built, or the module not
    /// loaded yet, which keepalived or ipvsadm-restore do on first use). Not an error: the
    /// netns lab's kernel has none.
    NoIpvs,
    /// The table (possibly empty).
    Table(crate::ipvs::Table),
}

/// A sysctl file other than ours that sets a key we manage: at boot, whichever file loads
/// last wins, so the operator must know.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SysctlOverride {
    pub key: String,
    pub value: String,
    pub file: String,
}

#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Files that exist among those the plan manages or lvsctl managed before.
    pub files: BTreeMap<String, FileFact>,
    /// Runtime values of sysctls (only the keys asked about).
    pub sysctls: BTreeMap<String, String>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    pub nat_chains: Vec<String>,
    /// Daemon name -> running.
    pub services: BTreeMap<String, bool>,
    /// What lvsctl applied last time, to find what the topology dropped.
    pub manifest: Manifest,
    pub keepalived: KeepalivedFact,
    /// `ID` and `ID_LIKE` of /etc/os-release, e.g. "debian" or "rhel fedora".
    pub os_family: Option<String>,
    pub sysctl_overrides: Vec<SysctlOverride>,
    /// Directors: the kernel's IPVS table.
    pub ipvs: IpvsFact,
    /// How the host boots (init system, network stacks; `os`/`os_version` are filled by
    /// `persistence_facts`).
    pub boot: crate::plan::persistence::BootFacts,
    /// Unit -> enabled at boot (the units the request asked about).
    pub enabled: BTreeMap<String, bool>,
    /// Of those, the ones masked (never started, enabled or not).
    pub masked: Vec<String>,
}

impl Facts {
    /// A host lvsctl has never touched, with nothing of ours on it.
    pub fn empty() -> Facts {
        Facts::default()
    }

    /// The state a host would be in had the render in `dir` been applied to it.
    pub fn from_render_dir(dir: &Path, host: &str) -> Result<Facts> {
        let root = dir.join(host);
        let mut facts = Facts::default();
        if !root.is_dir() {
            return Ok(facts);
        }
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|source| Error::Read { path: d.clone(), source })?;
            for entry in entries {
                let entry = entry.map_err(|source| Error::Read { path: d.clone(), source })?;
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let content = std::fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
                let mode = file_mode(&path);
                let rel = format!("/{}", path.strip_prefix(&root).unwrap_or(&path).to_string_lossy());
                facts.manifest.files.push(rel.clone());
                facts.files.insert(rel, FileFact { content, mode, owner: "root".into(), group: "root".into() });
            }
        }
        facts.manifest.files.sort();
        if let Some(f) = facts.files.get(SYSCTL_FILE) {
            facts.sysctls = parse_sysctl_file(&f.content);
            facts.manifest.sysctls = facts.sysctls.keys().cloned().collect();
        }
        // A render directory holds what lvsctl wrote: each file's kind says what it means at
        // runtime once applied.
        for (path, f) in &facts.files {
            let name = path.rsplit('/').next().unwrap_or(path);
            match FileKind::of_path(path) {
                // Applied, these were enabled too (the plan's `boot_units`).
                Some(FileKind::Ifcfg) => {
                    let addrs = parse_ifcfg(name.trim_start_matches("ifcfg-"), &f.content);
                    facts.manifest.addresses.extend(addrs.iter().cloned());
                    facts.addresses.extend(addrs);
                }
                Some(FileKind::KeepalivedConf) => {
                    facts.services.insert("keepalived".into(), true);
                    facts.enabled.insert("keepalived".into(), true);
                }
                Some(FileKind::IpvsadmRules) => {
                    facts.services.insert("ipvsadm".into(), true);
                    facts.enabled.insert("ipvsadm".into(), true);
                }
                Some(FileKind::BootScript) => {
                    let (addrs, routes) = parse_boot_script(&f.content);
                    facts.manifest.addresses.extend(addrs.iter().cloned());
                    facts.addresses.extend(addrs);
                    facts.manifest.routes.extend(routes.iter().cloned());
                    facts.routes.extend(routes);
                }
                Some(FileKind::SystemdUnit) => {
                    facts.enabled.insert(name.to_string(), true);
                    facts.manifest.boot_units.push(name.to_string());
                }
                Some(FileKind::NatRules) => {
                    let chains = crate::plan::fwmark::declared_chains(&f.content, crate::plan::is_ip6tables_file(path));
                    facts.nat_chains.extend(chains.iter().cloned());
                    facts.manifest.nat_chains.extend(chains);
                }
                Some(FileKind::Route) => {
                    let dev = name.trim_start_matches("route-");
                    for line in f.content.lines().filter(|l| l.starts_with("default via ")) {
                        if let Some(via) = line.split_whitespace().nth(2).and_then(|v| v.parse().ok()) {
                            let route = Route { destination: "default".into(), via, dev: dev.to_string() };
                            facts.manifest.routes.push(route.clone());
                            facts.routes.push(route);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(facts)
    }
}

#[cfg(unix)]
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o644)
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> u32 {
    0o644
}

/// The addresses and routes lvsctl's boot script binds (`try ip addr replace IP/P dev D
/// [label L]`, `try ip route replace default via V dev D`).
pub fn parse_boot_script(text: &str) -> (Vec<Address>, Vec<Route>) {
    let (mut addrs, mut routes) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w[..] {
            ["try", "ip", "addr", "replace", cidr, "dev", dev, ref rest @ ..] => {
                let Some((ip, prefix)) = cidr.split_once('/') else { continue };
                let (Ok(ip), Ok(prefix)) = (ip.parse(), prefix.parse()) else { continue };
                let label = match rest {
                    ["label", l] => Some(l.to_string()),
                    _ => None,
                };
                addrs.push(Address { ip, prefix, dev: dev.to_string(), label });
            }
            ["try", "ip", "route", "replace", dest, "via", via, "dev", dev] => {
                if let Ok(via) = via.parse() {
                    routes.push(Route { destination: dest.to_string(), via, dev: dev.to_string() });
                }
            }
            _ => {}
        }
    }
    (addrs, routes)
}

/// `key = value` lines of a sysctl.d file.
pub fn parse_sysctl_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().trim_start_matches('-').to_string(), v.trim().to_string()))
        .collect()
}

/// Addresses of an ifcfg file named `ifcfg-<name>` (IPADDR/NETMASK, IPADDR1/NETMASK1, ...).
pub fn parse_ifcfg(name: &str, text: &str) -> Vec<Address> {
    let vars: BTreeMap<&str, &str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
        .collect();
    let device = vars.get("DEVICE").copied().unwrap_or(name);
    let (dev, label) = match device.split_once(':') {
        Some((dev, _)) => (dev.to_string(), Some(device.to_string())),
        None => (device.to_string(), None),
    };
    let mut out = Vec::new();
    for suffix in std::iter::once(String::new()).chain((0..16).map(|i| i.to_string())) {
        let Some(ip) = vars.get(format!("IPADDR{suffix}").as_str()).and_then(|v| v.parse::<Ipv4Addr>().ok()) else { continue };
        let prefix = vars
            .get(format!("NETMASK{suffix}").as_str())
            .and_then(|m| m.parse::<Ipv4Addr>().ok())
            .map(|m| u32::from(m).count_ones() as u8)
            .or_else(|| vars.get(format!("PREFIX{suffix}").as_str()).and_then(|p| p.parse().ok()))
            .unwrap_or(32);
        out.push(Address { ip: ip.into(), prefix, dev: dev.clone(), label: label.clone() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ifcfg_and_sysctl_files() {
        let a = parse_ifcfg("lo:0", "# x\nDEVICE=lo:0\nIPADDR=10.0.0.100\nNETMASK=255.255.255.255\nONBOOT=yes\n");
        assert_eq!(a, vec![Address { ip: "10.0.0.100".parse().unwrap(), prefix: 32, dev: "lo".into(), label: Some("lo:0".into()) }]);
        let t = parse_ifcfg("tunl0", "DEVICE=tunl0\nIPADDR=10.0.0.1\nNETMASK=255.255.255.255\nIPADDR1=10.0.0.2\nNETMASK1=255.255.255.0\n");
        assert_eq!(t.len(), 2);
        assert_eq!((t[1].prefix, t[1].label.clone()), (24, None));
        let s = parse_sysctl_file("# c\nnet.ipv4.ip_forward = 1\n-net.x=0\n");
        assert_eq!(s.get("net.ipv4.ip_forward").map(String::as_str), Some("1"));
        assert_eq!(s.get("net.x").map(String::as_str), Some("0"));
    }
}
