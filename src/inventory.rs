//! The inventory: how to reach each host, in Ansible's YAML inventory layout.
//!
//! Operators already have Ansible inventories, so we read them as they are: groups under
//! `all` (or at the top level), `hosts`, `vars`, nested `children`. Variables merge like
//! Ansible's: `all` vars, then group vars from the outermost group in, then host vars.
//! Only the variables lvsctl understands are read and checked; any other variable belongs to
//! some other tool and is ignored, never an error.
//!
//! Relative paths in variables (the private key, the known_hosts file) are resolved against
//! the inventory file's directory, so an inventory works from any working directory.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostics, Span};
use crate::yaml::{describe, Document, Map, Node, Value};

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
    /// Data-plane address (`address`, default `ansible_host` when that is an IP).
    pub address: Option<Ipv4Addr>,
    /// Per-host override of the topology's interface.
    pub interface: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub path: PathBuf,
    pub hosts: BTreeMap<String, Host>,
}

impl Inventory {
    pub fn load(path: &Path, d: &mut Diagnostics) -> Option<Inventory> {
        let doc = Document::load(path, d)?;
        Some(Inventory::from_document(&doc, d))
    }

    pub fn from_document(doc: &Document, d: &mut Diagnostics) -> Inventory {
        let file = doc.path.as_path();
        let mut collector = Collector { file, hosts: BTreeMap::new() };
        if let Some(root) = Map::new(file, "", &doc.root, d) {
            let top: Vec<_> = root.entries().collect();
            for (name, _key, node) in top {
                // `all` is the root group; other top-level keys are groups in their own right.
                collector.group(&name, node, 0, &[], d);
            }
        }
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut hosts = BTreeMap::new();
        for (name, raw) in collector.hosts {
            if let Some(host) = raw.resolve(&name, file, &base, d) {
                hosts.insert(name, host);
            }
        }
        Inventory { path: file.to_path_buf(), hosts }
    }

    pub fn get(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }
}

/// Vars of one host as found, each with the precedence it was set at.
struct RawHost<'a> {
    span: Span,
    /// (precedence, group name, var name) -> value; highest precedence wins.
    vars: BTreeMap<String, (u32, String, &'a Node)>,
    groups: Vec<String>,
}

struct Collector<'a> {
    file: &'a Path,
    hosts: BTreeMap<String, RawHost<'a>>,
}

const HOST_VAR_LEVEL: u32 = 1_000;

impl<'a> Collector<'a> {
    fn group(&mut self, name: &str, node: &'a Node, depth: u32, parents: &[(u32, String, Map<'a>)], d: &mut Diagnostics) {
        let Some(map) = Map::new(self.file, name, node, d) else { return };
        let mut chain: Vec<(u32, String, Map<'a>)> = parents.iter().map(|(l, n, m)| (*l, n.clone(), clone_map(m))).collect();
        if let Some(vars) = map.map("vars", d) {
            chain.push((depth, name.to_string(), vars));
        }
        if let Some(hosts) = map.get("hosts") {
            match &hosts.value {
                Value::Map(_) => {
                    let hosts = Map::new(self.file, map.key_path("hosts"), hosts, d).expect("checked mapping");
                    for (host, key, vars) in hosts.entries() {
                        self.host(&host, key, vars, name, &chain, d);
                    }
                }
                Value::Null => {}
                _ => {
                    d.error(hosts.span(self.file), format!("`{}` must be a mapping of host names, found {}", map.key_path("hosts"), describe(hosts)))
                        .hint("write hosts as `hosts: { web1: {}, web2: {} }`");
                }
            }
        }
        if let Some(children) = map.map("children", d) {
            for (child, _key, node) in children.entries() {
                self.group(&child, node, depth + 1, &chain, d);
            }
        }
    }

    fn host(&mut self, name: &str, key: &'a Node, vars: &'a Node, group: &str, chain: &[(u32, String, Map<'a>)], d: &mut Diagnostics) {
        if !valid_host_name(name) {
            d.error(key.span(self.file), format!("host name `{name}` is not usable"))
                .hint("host names may hold letters, digits, `.`, `_` and `-` and must not start with `.` or `-`");
            return;
        }
        let entry = self.hosts.entry(name.to_string()).or_insert_with(|| RawHost {
            span: key.span(self.file),
            vars: BTreeMap::new(),
            groups: Vec::new(),
        });
        if group != "all" && group != "ungrouped" && !entry.groups.iter().any(|g| g == group) {
            entry.groups.push(group.to_string());
        }
        for (level, gname, map) in chain {
            for (var, _k, value) in map.entries() {
                set_var(&mut entry.vars, var, *level, gname, value);
            }
        }
        if let Some(map) = Map::new(self.file, name, vars, d) {
            for (var, _k, value) in map.entries() {
                set_var(&mut entry.vars, var, HOST_VAR_LEVEL, name, value);
            }
        }
    }
}

fn clone_map<'a>(m: &Map<'a>) -> Map<'a> {
    // Maps are views; re-create one over the same entries.
    m.reborrow()
}

fn set_var<'a>(vars: &mut BTreeMap<String, (u32, String, &'a Node)>, var: String, level: u32, group: &str, value: &'a Node) {
    let replace = match vars.get(&var) {
        None => true,
        // Deeper groups win; at the same depth Ansible orders groups by name.
        Some((l, g, _)) => (level, group) >= (*l, g.as_str()),
    };
    if replace {
        vars.insert(var, (level, group.to_string(), value));
    }
}

/// Names become directory names (`render --out DIR/<host>`) and keepalived router_ids.
pub fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl RawHost<'_> {
    fn resolve(self, name: &str, file: &Path, base: &Path, d: &mut Diagnostics) -> Option<Host> {
        let text = |var: &str, d: &mut Diagnostics| -> Option<(String, Span)> {
            let (_, _, node) = self.vars.get(var)?;
            if node.is_null() {
                return None;
            }
            match node.text() {
                Some(t) => Some((t, node.span(file))),
                None => {
                    d.error(node.span(file), format!("host `{name}`: `{var}` must be a single value, found {}", node.kind()));
                    None
                }
            }
        };
        let ssh_host = text("ansible_host", d).map(|(t, _)| t).unwrap_or_else(|| name.to_string());
        let port = match text("ansible_port", d) {
            None => 22,
            Some((t, span)) => match t.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => {
                    d.error(span, format!("host `{name}`: `ansible_port` is `{t}`, not a port number (1..65535)"));
                    22
                }
            },
        };
        let user = text("ansible_user", d).map(|(t, _)| t).unwrap_or_else(|| "root".to_string());
        let key_file = text("ansible_ssh_private_key_file", d).map(|(t, _)| resolve_path(base, &t));
        let known_hosts_file = text("ssh_known_hosts_file", d).map(|(t, _)| resolve_path(base, &t));
        let become_root = match self.vars.get("ansible_become").map(|(_, _, n)| *n) {
            None => false,
            Some(n) => match (&n.value, n.text().as_deref()) {
                (Value::Bool(b), _) => *b,
                (_, Some("true" | "True" | "yes" | "1")) => true,
                (_, Some("false" | "False" | "no" | "0")) => false,
                _ => {
                    d.error(n.span(file), format!("host `{name}`: `ansible_become` must be true or false, found {}", describe(n)));
                    false
                }
            },
        };
        let become_user = text("ansible_become_user", d).map(|(t, _)| t).unwrap_or_else(|| "root".to_string());
        let address = match text("address", d) {
            Some((t, span)) => match t.parse::<Ipv4Addr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    d.error(span, format!("host `{name}`: `address` is `{t}`, not an IPv4 address"));
                    None
                }
            },
            None => ssh_host.parse::<Ipv4Addr>().ok(),
        };
        // Reaches config files (ifcfg names, route files): checked like any config value.
        let interface = text("interface", d)
            .filter(|(t, span)| crate::token::check_interface(&crate::yaml::Sp { value: t.clone(), span: span.clone() }, &format!("{name}: interface"), d))
            .map(|(t, _)| t);
        Some(Host {
            name: name.to_string(),
            span: self.span,
            ssh_host,
            port,
            user,
            key_file,
            known_hosts_file,
            become_root,
            become_user,
            address,
            interface,
            groups: self.groups,
        })
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
        assert_eq!(web1.groups, vec!["real_servers".to_string()]);
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
}
