//! The inventory: how to reach each host, read from an Ansible inventory as Ansible reads it.
//!
//! Operators already have Ansible inventories, so we take them as they are: YAML (groups with
//! `hosts`, `vars` and `children`) or INI (`[group]`, `[group:children]`, `[group:vars]`,
//! inline host vars, host ranges), told apart the way Ansible tells them apart, plus the
//! `group_vars/` and `host_vars/` directories beside the file. Each format fills the same
//! `Source` (what the file declares); this module then merges every host's variables with
//! Ansible's precedence, lowest first:
//!
//! 1. `all`'s vars in the inventory file, then each other group's, ordered by depth (parents
//!    before children), then `ansible_group_priority`, then name;
//! 2. `group_vars/all`, then `group_vars/<group>` in the same order;
//! 3. the host's own vars in the inventory file, then `host_vars/<host>`.
//!
//! Only the variables lvsctl understands (`KNOWN`) are read and checked, typed as Ansible
//! types them (an INI value through Python's `literal_eval`, YAML by YAML 1.1 rules); any
//! other variable belongs to some other tool and is ignored, never an error. Relative paths
//! in variables (the private key, the known_hosts file) are resolved against the inventory
//! file's directory, so an inventory works from any working directory.

mod ini;
pub mod jump;
mod literal;
mod pattern;
mod source;
mod vars_dirs;
mod yaml_inventory;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::yaml::{describe, Document, Node, Value};
use source::{Source, Var, ALL};
use vars_dirs::{Kind, VarsDirs};

/// The variables lvsctl reads; every other variable is left to other tools.
pub const KNOWN: [&str; 18] = [
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "ansible_become",
    "ansible_become_user",
    "ansible_become_password",
    "ansible_become_pass",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "lvsctl_jump_host",
    "ssh_known_hosts_file",
    "address",
    "ipv6_address",
    "interface",
    "lvsctl_persistence",
    "lvsctl_os_family",
    "lvsctl_ipvs_sysctls",
];

/// One host as the inventory describes it.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    /// Where the host's name is first written in the inventory.
    pub span: Span,
    /// The SSH address (`ansible_host`, default the host name).
    pub ssh_host: String,
    pub port: u16,
    pub user: String,
    pub key_file: Option<PathBuf>,
    pub known_hosts_file: Option<PathBuf>,
    /// `ansible_become`: run remote work through sudo.
    pub become_root: bool,
    pub become_user: String,
    /// `ansible_become_password` (or Ansible's older `ansible_become_pass`): what sudo asks
    /// for. Never printed (`lvsctl inventory` masks it).
    pub become_password: Option<crate::secret::Secret>,
    /// The jump hosts on the way, in order (`lvsctl_jump_host`, or ProxyJump in the ssh args).
    pub jump: Vec<jump::Hop>,
    /// Data-plane address (`address`, default `ansible_host` when that is an IPv4 address).
    pub address: Option<Ipv4Addr>,
    /// Data-plane IPv6 address, for IPv6 services (`ipv6_address`, default `ansible_host`
    /// when that is an IPv6 address).
    pub address6: Option<Ipv6Addr>,
    /// Per-host override of the topology's interface.
    pub interface: Option<String>,
    /// `lvsctl_persistence`: how the host keeps lvsctl's state across reboots, when the
    /// inventory says so (else chosen from the probed facts: `plan::persistence`).
    pub persistence: Option<crate::plan::persistence::Backend>,
    /// `lvsctl_os_family`: the distribution family for offline plans (live plans probe it).
    pub os_family: Option<crate::plan::persistence::Family>,
    /// `lvsctl_ipvs_sysctls` (default true): a director gets IPVS's `net.ipv4.vs.*` sysctls.
    /// False only where the kernel has no IPVS at all (the netns test lab on a runner without
    /// it), since those keys exist only with the ip_vs module.
    pub ipvs_sysctls: bool,
    /// Every group the host is in, directly or through child groups, sorted; without `all`
    /// (Ansible's `group_names`).
    pub groups: Vec<String>,
    /// The `KNOWN` variables set for this host after merging, as Ansible types them, each
    /// with the place that set it.
    pub vars: BTreeMap<String, SetVar>,
}

impl Host {
    /// The host's data-plane address of `like`'s family (a real server of an IPv6 VIP is
    /// reached at its IPv6 address).
    pub fn address_for(&self, like: std::net::IpAddr) -> Option<std::net::IpAddr> {
        match like {
            std::net::IpAddr::V4(_) => self.address.map(std::net::IpAddr::V4),
            std::net::IpAddr::V6(_) => self.address6.map(std::net::IpAddr::V6),
        }
    }
}

/// A variable's merged value and where it was written.
#[derive(Debug, Clone)]
pub struct SetVar {
    pub value: serde_json::Value,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub path: PathBuf,
    pub hosts: BTreeMap<String, Host>,
}

/// How Ansible would read an inventory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Ini,
}

impl Inventory {
    pub fn load(path: &Path, d: &mut Diagnostics) -> Option<Inventory> {
        match std::fs::read_to_string(path) {
            Ok(text) => Inventory::parse(path, &text, d),
            Err(e) => {
                d.error(Span::new(path, Pos::default()), format!("cannot read file: {e}"));
                None
            }
        }
    }

    /// Read an inventory's text (`path` names it in messages and locates group_vars/ and
    /// host_vars/). Ansible's rule for the format: `.yml`, `.yaml` and `.json` are YAML; a
    /// file without an extension is YAML when it reads as a YAML mapping, else INI; any other
    /// extension (`.ini`, `.cfg`, ...) is INI.
    pub fn parse(path: &Path, text: &str, d: &mut Diagnostics) -> Option<Inventory> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let json = serde_json::from_str::<serde_json::Value>(text).is_ok();
        let source = match ext.as_deref() {
            Some("yml" | "yaml" | "json") => yaml_inventory::read(&Document::parse(path, text, d)?, json, d),
            Some(_) => ini::parse(path, text, d),
            None => {
                let mut yaml_d = Diagnostics::default();
                match Document::parse(path, text, &mut yaml_d) {
                    Some(doc) if matches!(doc.root.value, Value::Map(_)) => {
                        d.extend(yaml_d);
                        yaml_inventory::read(&doc, json, d)
                    }
                    // Broken YAML that looks like YAML: report it as such, not as bad INI.
                    None if looks_like_yaml(text) => {
                        d.extend(yaml_d);
                        return None;
                    }
                    _ => ini::parse(path, text, d),
                }
            }
        };
        Some(Inventory::resolve(source, d))
    }

    pub fn from_document(doc: &Document, d: &mut Diagnostics) -> Inventory {
        Inventory::resolve(yaml_inventory::read(doc, false, d), d)
    }

    /// The format `path` would be read as (for messages and `lvsctl inventory`).
    pub fn format_of(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("yml" | "yaml" | "json") => Format::Yaml,
            Some(_) => Format::Ini,
            None => match Document::parse(path, text, &mut Diagnostics::default()) {
                Some(doc) if matches!(doc.root.value, Value::Map(_)) => Format::Yaml,
                None if looks_like_yaml(text) => Format::Yaml,
                _ => Format::Ini,
            },
        }
    }

    fn resolve(mut src: Source, d: &mut Diagnostics) -> Inventory {
        src.reconcile();
        let file: &Path = &src.file;
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let dirs = VarsDirs::new(&base, d);
        let depth = src.depths();
        let group_files: Vec<source::Vars> = src.groups.iter().map(|g| dirs.load(Kind::Group, &g.name, d)).collect();
        let mut hosts = BTreeMap::new();
        for h in &src.hosts {
            if !valid_host_name(&h.name) {
                d.error(h.span.clone(), format!("host name `{}` is not usable", h.name))
                    .hint("host names may hold letters, digits, `.`, `_` and `-` and must not start with `.` or `-`");
                continue;
            }
            let mut groups: Vec<usize> = Vec::new();
            for g in &h.groups {
                for a in std::iter::once(*g).chain(src.ancestors(*g)) {
                    if a != ALL && !groups.contains(&a) {
                        groups.push(a);
                    }
                }
            }
            groups.sort_by(|a, b| {
                let (ga, gb) = (&src.groups[*a], &src.groups[*b]);
                (depth[*a], ga.priority, &ga.name).cmp(&(depth[*b], gb.priority, &gb.name))
            });
            let host_files = dirs.load(Kind::Host, &h.name, d);
            let layers = std::iter::once(&src.groups[ALL].vars)
                .chain(groups.iter().map(|g| &src.groups[*g].vars))
                .chain(std::iter::once(&group_files[ALL]))
                .chain(groups.iter().map(|g| &group_files[*g]))
                .chain([&h.vars, &host_files]);
            let mut vars: BTreeMap<&str, &Var> = BTreeMap::new();
            for layer in layers {
                for k in KNOWN {
                    if let Some(v) = layer.get(k) {
                        vars.insert(k, v);
                    }
                }
            }
            let mut group_names: Vec<String> = groups.iter().map(|g| src.groups[*g].name.clone()).collect();
            group_names.sort();
            let host = Resolver { name: &h.name, vars: &vars }.host(h.span.clone(), group_names, &base, d);
            hosts.insert(h.name.clone(), host);
        }
        Inventory { path: file.to_path_buf(), hosts }
    }

    pub fn get(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }
}

/// A file without an extension that fails to parse as YAML is still reported as YAML when
/// its first line reads like YAML (`---`, or `key:`).
fn looks_like_yaml(text: &str) -> bool {
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';')) else { return false };
    if first.starts_with("---") || first.starts_with("%YAML") {
        return true;
    }
    match first.split_once(':') {
        Some((key, rest)) => {
            !key.is_empty() && !key.contains(|c: char| c.is_whitespace() || "[]=#;".contains(c)) && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        }
        None => false,
    }
}

/// Names become directory names (`render --out DIR/<host>`) and keepalived router_ids.
pub fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A node as JSON, the way `ansible-inventory --list` prints the value.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or_else(|| J::String(node.raw.clone())),
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(entries.iter().map(|(k, v)| (k.text().unwrap_or_default(), to_json(v))).collect()),
    }
}

/// Reads one host's merged variables with the meaning Ansible gives them.
struct Resolver<'a> {
    name: &'a str,
    vars: &'a BTreeMap<&'a str, &'a Var>,
}

impl Resolver<'_> {
    /// A variable as text: strings as they are, numbers and booleans as written.
    fn text(&self, var: &str, d: &mut Diagnostics) -> Option<(String, Span)> {
        let v = self.vars.get(var)?;
        match &v.node.value {
            Value::Null => None,
            Value::Seq(_) | Value::Map(_) => {
                d.error(v.span(), format!("host `{}`: `{var}` must be a single value, found {}", self.name, v.node.kind()));
                None
            }
            Value::Str(s) if s.starts_with("$ANSIBLE_VAULT;") => {
                d.error(v.span(), format!("host `{}`: `{var}` is encrypted with ansible-vault, which lvsctl cannot decrypt", self.name))
                    .hint("write this variable in clear text (only secrets belong in the vault)");
                None
            }
            _ => v.node.text().map(|t| (t, v.span())),
        }
    }

    /// `ansible_port` as Ansible's integer options take it: a number, or text holding a
    /// whole number (`"2222"`, `2222.0`).
    fn port(&self, d: &mut Diagnostics) -> u16 {
        let Some(v) = self.vars.get("ansible_port") else { return 22 };
        let n = match &v.node.value {
            Value::Null => return 22,
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(p) if p.fract() == 0.0 && (1.0..=65535.0).contains(&p) => p as u16,
            _ => {
                d.error(v.span(), format!("host `{}`: `ansible_port` is {}, not a port number (1..65535)", self.name, describe(&v.node)));
                22
            }
        }
    }

    /// The sudo password, from `ansible_become_password` or else `ansible_become_pass`. A
    /// vault-encrypted one cannot be read here: the error says how to pass it instead.
    fn become_password(&self, d: &mut Diagnostics) -> Option<crate::secret::Secret> {
        let var = ["ansible_become_password", "ansible_become_pass"].into_iter().find(|v| self.vars.contains_key(v))?;
        let v = self.vars.get(var)?;
        if let Value::Str(s) = &v.node.value {
            if s.starts_with("$ANSIBLE_VAULT;") {
                d.error(v.span(), format!("host `{}`: `{var}` is encrypted with ansible-vault, which lvsctl cannot decrypt", self.name))
                    .hint("leave it out and run with --ask-become-pass (-K), or set LVSCTL_BECOME_PASSWORD");
                return None;
            }
        }
        self.text(var, d).map(|(t, _)| crate::secret::Secret::new(t))
    }

    /// The jump hosts: `lvsctl_jump_host`, else a ProxyJump (or `ssh -W` ProxyCommand) in
    /// `ansible_ssh_common_args`, else in `ansible_ssh_extra_args` (`inventory::jump`).
    fn jump(&self, d: &mut Diagnostics) -> Vec<jump::Hop> {
        if let Some((t, span)) = self.text("lvsctl_jump_host", d) {
            return jump::parse_spec(&t).unwrap_or_else(|e| {
                d.error(span, format!("host `{}`: `lvsctl_jump_host`: {e}", self.name));
                Vec::new()
            });
        }
        for var in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            let Some((t, span)) = self.text(var, d) else { continue };
            match jump::from_ssh_args(&t) {
                Ok(Some(hops)) => return hops,
                Ok(None) => {}
                Err(e) => {
                    d.error(span, format!("host `{}`: `{var}`: {e}", self.name));
                    return Vec::new();
                }
            }
        }
        Vec::new()
    }

    /// A boolean variable as Ansible's `boolean()` reads it; None when unset.
    fn boolean(&self, var: &str, d: &mut Diagnostics) -> Option<bool> {
        let v = self.vars.get(var)?;
        let b = match &v.node.value {
            Value::Null => Some(false),
            Value::Bool(b) => Some(*b),
            Value::Int(1) => Some(true),
            Value::Int(0) => Some(false),
            Value::Float(f) if *f == 1.0 || *f == 0.0 => Some(*f == 1.0),
            Value::Str(s) => match s.trim().to_lowercase().as_str() {
                "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
                "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if b.is_none() {
            d.error(v.span(), format!("host `{}`: `{var}` must be true or false, found {}", self.name, describe(&v.node)));
        }
        b
    }

    fn host(&self, span: Span, groups: Vec<String>, base: &Path, d: &mut Diagnostics) -> Host {
        let name = self.name;
        let ssh_host = self.text("ansible_host", d).map(|(t, _)| t).unwrap_or_else(|| name.to_string());
        let port = self.port(d);
        let user = self.text("ansible_user", d).map(|(t, _)| t).unwrap_or_else(|| "root".to_string());
        let key_file = self.text("ansible_ssh_private_key_file", d).map(|(t, _)| resolve_path(base, &t));
        let known_hosts_file = self.text("ssh_known_hosts_file", d).map(|(t, _)| resolve_path(base, &t));
        let become_root = self.boolean("ansible_become", d).unwrap_or(false);
        let ipvs_sysctls = self.boolean("lvsctl_ipvs_sysctls", d).unwrap_or(true);
        let become_user = self.text("ansible_become_user", d).map(|(t, _)| t).unwrap_or_else(|| "root".to_string());
        let become_password = self.become_password(d);
        let jump = self.jump(d);
        let address = match self.text("address", d) {
            Some((t, span)) => match t.parse::<Ipv4Addr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    let diag = d.error(span, format!("host `{name}`: `address` is `{t}`, not an IPv4 address"));
                    if t.parse::<Ipv6Addr>().is_ok() {
                        diag.hint("a host's IPv6 address is `ipv6_address`");
                    }
                    None
                }
            },
            None => ssh_host.parse::<Ipv4Addr>().ok(),
        };
        let address6 = match self.text("ipv6_address", d) {
            Some((t, span)) => match t.parse::<Ipv6Addr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    d.error(span, format!("host `{name}`: `ipv6_address` is `{t}`, not an IPv6 address"));
                    None
                }
            },
            None => ssh_host.trim_start_matches('[').trim_end_matches(']').parse::<Ipv6Addr>().ok(),
        };
        // Reaches config files (ifcfg names, route files): checked like any config value.
        let interface = self
            .text("interface", d)
            .filter(|(t, span)| crate::token::check_interface(&crate::yaml::Sp { value: t.clone(), span: span.clone() }, &format!("{name}: interface"), d))
            .map(|(t, _)| t);
        let persistence = self.text("lvsctl_persistence", d).and_then(|(t, span)| match crate::plan::persistence::Backend::parse(&t) {
            Some(b) => Some(b),
            None => {
                d.error(span, format!("host `{name}`: `lvsctl_persistence` is `{t}`; expected one of: {}", crate::plan::persistence::Backend::NAMES.join(", ")));
                None
            }
        });
        let os_family = self.text("lvsctl_os_family", d).and_then(|(t, span)| match crate::plan::persistence::Family::parse(&t) {
            Some(f) => Some(f),
            None => {
                d.error(span, format!("host `{name}`: `lvsctl_os_family` is `{t}`; expected one of: {}", crate::plan::persistence::Family::NAMES.join(", ")));
                None
            }
        });
        // The sudo password is kept as set, never as itself (it lives in `become_password`).
        let shown = |k: &str, v: &Var| match k {
            "ansible_become_password" | "ansible_become_pass" => serde_json::Value::String("********".into()),
            _ => to_json(&v.node),
        };
        let vars = self.vars.iter().map(|(k, v)| (k.to_string(), SetVar { value: shown(k, v), span: v.span() })).collect();
        Host {
            name: name.to_string(),
            span,
            ssh_host,
            port,
            user,
            key_file,
            known_hosts_file,
            become_root,
            ipvs_sysctls,
            become_user,
            become_password,
            jump,
            address,
            address6,
            interface,
            persistence,
            os_family,
            groups,
            vars,
        }
    }
}

fn resolve_path(base: &Path, p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(text: &str) -> (Inventory, Diagnostics) {
        let mut d = Diagnostics::default();
        let doc = Document::parse(Path::new("inv/lab.yml"), text, &mut d).unwrap();
        (Inventory::from_document(&doc, &mut d), d)
    }

    #[test]
    fn reads_groups_vars_and_precedence() {
        let (i, d) = inv(r#"
all:
  vars: { ansible_user: root, ansible_ssh_private_key_file: ../.lab/id, some_other_tool: {x: 1} }
  children:
    directors:
      vars: { ansible_port: 2222, interface: eth0 }
      hosts:
        lvs1: { ansible_host: 10.0.0.11 }
        lvs2: { ansible_host: 10.0.0.12, ansible_port: 22, address: 10.1.0.12, interface: ens3 }
    web:
      children:
        real_servers:
          hosts: { web1: { ansible_host: web1.example.com, address: 10.0.0.21 } }
"#);
        assert!(d.is_empty(), "{:?}", d.sorted());
        let lvs1 = i.get("lvs1").unwrap();
        assert_eq!((lvs1.port, lvs1.user.as_str(), lvs1.interface.as_deref()), (2222, "root", Some("eth0")));
        assert_eq!(lvs1.key_file.as_deref(), Some(Path::new("inv/../.lab/id")));
        assert_eq!(lvs1.address, Some("10.0.0.11".parse().unwrap()));
        let lvs2 = i.get("lvs2").unwrap();
        assert_eq!((lvs2.port, lvs2.interface.as_deref()), (22, Some("ens3")));
        assert_eq!(lvs2.address, Some("10.1.0.12".parse().unwrap()));
        let web1 = i.get("web1").unwrap();
        assert_eq!(web1.groups, ["real_servers", "web"]);
        assert_eq!(web1.ssh_host, "web1.example.com");
    }

    #[test]
    fn bad_known_vars_are_errors_unknown_vars_are_not() {
        let (_, d) = inv("all:\n  hosts:\n    a: { ansible_port: http, foo: bar }\n    ../x: {}\n");
        let msgs: Vec<String> = d.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("3:24: error: host `a`: `ansible_port` is `http`"), "{msgs:?}");
        assert!(msgs[1].contains("4:5: error: host name `../x` is not usable"), "{msgs:?}");
    }

    /// A scratch directory with the given files (path, content), removed on drop.
    struct Dir(PathBuf);
    impl Dir {
        fn new(tag: &str, files: &[(&str, &str)]) -> Dir {
            let dir = std::env::temp_dir().join(format!("lvsctl-inv-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for (path, text) in files {
                let p = dir.join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text).unwrap();
            }
            Dir(dir)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn ini(text: &str) -> (Inventory, Vec<String>) {
        let mut d = Diagnostics::default();
        let i = Inventory::parse(Path::new("inv/hosts.ini"), text, &mut d).unwrap();
        (i, d.sorted().iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn ini_groups_children_ranges_and_precedence() {
        let (i, d) = ini("\
lone ansible_port=2200
[all:vars]
ansible_user=deploy
[lb:children]
directors
[directors]
lvs[1:2] ansible_become=True
[directors:vars]
ansible_port='2222'
interface=eth1
[lb:vars]
interface=eth0
ansible_port=2022
[real_servers]
web[01:02]:2201
");
        assert!(d.is_empty(), "{d:?}");
        let names: Vec<&str> = i.hosts.keys().map(String::as_str).collect();
        assert_eq!(names, ["lone", "lvs1", "lvs2", "web01", "web02"]);
        let lvs1 = i.get("lvs1").unwrap();
        // directors (depth 2) beats lb (depth 1); a quoted INI value is text.
        assert_eq!((lvs1.port, lvs1.interface.as_deref(), lvs1.become_root), (2222, Some("eth1"), true));
        assert_eq!(lvs1.vars["ansible_port"].value, serde_json::json!("2222"));
        assert_eq!(lvs1.groups, ["directors", "lb"]);
        assert_eq!((lvs1.user.as_str(), lvs1.vars["ansible_user"].span.to_string().as_str()), ("deploy", "inv/hosts.ini:3:14"));
        let web = i.get("web02").unwrap();
        assert_eq!((web.port, web.groups.as_slice()), (2201, ["real_servers".to_string()].as_slice()));
        assert_eq!(i.get("lone").unwrap().groups, ["ungrouped"]);
    }

    #[test]
    fn ini_errors_point_at_line_and_column() {
        let (_, d) = ini("[web]\nweb1 ansible_port=http\nweb2 user\n[db:children]\nmissing\n");
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[0].starts_with("inv/hosts.ini:2:19: error: host `web1`: `ansible_port` is `http`"), "{d:?}");
        assert!(d[1].starts_with("inv/hosts.ini:3:6: error: expected `key=value` after the host, found `user`"), "{d:?}");
        assert!(d[2].starts_with("inv/hosts.ini:5:1: error: `[db:children]` names group `missing`, which is declared nowhere"), "{d:?}");
    }

    #[test]
    fn the_format_is_told_apart_as_ansible_does() {
        let yaml_text = "web:\n  hosts:\n    web1:\n";
        let ini_text = "[web]\nweb1 ansible_host=10.0.0.1\n";
        for (path, text, format) in [
            ("hosts", yaml_text, Format::Yaml),
            ("hosts", ini_text, Format::Ini),
            ("hosts", "web1\n", Format::Ini),
            ("hosts.yml", yaml_text, Format::Yaml),
            ("hosts.json", "{\"web\": {}}", Format::Yaml),
            ("hosts.ini", ini_text, Format::Ini),
            ("hosts.cfg", ini_text, Format::Ini),
            // Broken YAML that reads like YAML is reported as YAML, not as bad INI.
            ("hosts", "all:\n  hosts: [\n", Format::Yaml),
        ] {
            assert_eq!(Inventory::format_of(Path::new(path), text), format, "{path}: {text:?}");
        }
        let mut d = Diagnostics::default();
        assert!(Inventory::parse(Path::new("hosts"), "all:\n  hosts: [\n", &mut d).is_none());
        assert!(d.sorted()[0].message.starts_with("invalid YAML"), "{:?}", d.sorted());
        let mut d = Diagnostics::default();
        let i = Inventory::parse(Path::new("hosts"), ini_text, &mut d).unwrap();
        assert_eq!(i.get("web1").unwrap().ssh_host, "10.0.0.1");
    }

    #[test]
    fn vars_directories_override_the_file_and_vault_files_are_skipped() {
        let dir = Dir::new(
            "vars",
            &[
                ("hosts.ini", "[web]\nweb1 ansible_user=inline\nweb2\n[web:vars]\nansible_port=2200\ninterface=eth1\n"),
                ("group_vars/all.yml", "interface: eth9\nansible_user: all_file\n"),
                ("group_vars/web/a.yml", "ansible_port: 2201\n"),
                ("group_vars/web/b.yaml", "ansible_port: 2202\n"),
                ("group_vars/web/notes.txt", "not: [yaml\n"),
                ("host_vars/web2", "ansible_become: yes\n"),
                ("host_vars/web1.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n"),
            ],
        );
        let mut d = Diagnostics::default();
        let i = Inventory::load(&dir.0.join("hosts.ini"), &mut d).unwrap();
        let msgs: Vec<String> = d.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("host_vars/web1.yml:1:1: warning: encrypted with ansible-vault"), "{msgs:?}");
        // A vaulted value of a variable lvsctl reads is an error; of any other, nothing.
        let dir = Dir::new("vault", &[("hosts.ini", "web1\n"), ("host_vars/web1.yml", "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nansible_user: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6364\n")]);
        let mut d2 = Diagnostics::default();
        Inventory::load(&dir.0.join("hosts.ini"), &mut d2).unwrap();
        let msgs2: Vec<String> = d2.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(msgs2.len(), 1, "{msgs2:?}");
        assert!(msgs2[0].contains("host_vars/web1.yml:5:3: error: host `web1`: `ansible_user` is encrypted with ansible-vault"), "{msgs2:?}");
        let (web1, web2) = (i.get("web1").unwrap(), i.get("web2").unwrap());
        // group_vars/all beats the file's [web:vars]; group_vars/web beats group_vars/all;
        // the file's host vars beat every group var.
        assert_eq!((web1.port, web1.interface.as_deref(), web1.user.as_str()), (2202, Some("eth9"), "inline"));
        assert_eq!((web2.user.as_str(), web2.become_root), ("all_file", true));
    }
}
