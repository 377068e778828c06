//! What an inventory file declares, whatever its format: groups (with their vars, children
//! and hosts) and hosts (with their own vars), before any variable is merged.
//!
//! Both readers (YAML and INI) fill a `Source` through the same few operations Ansible's
//! `InventoryData` offers (add a group, a child, a host, set a variable), so the rules that
//! do not depend on the format live here once: a group that would become its own ancestor is
//! refused, `ansible_group_priority` is a group's priority rather than a variable, and
//! `reconcile` puts parentless groups under `all` and group-less hosts in `ungrouped`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::{Diagnostics, Span};
use crate::yaml::{describe, Node, Value};

/// A variable's value and the file it was written in (the inventory, or a group_vars/ or
/// host_vars/ file), typed the way Ansible types it.
#[derive(Debug, Clone)]
pub struct Var {
    pub node: Node,
    pub file: Arc<Path>,
}

impl Var {
    pub fn span(&self) -> Span {
        self.node.span(&self.file)
    }
}

pub type Vars = BTreeMap<String, Var>;

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub vars: Vars,
    /// `ansible_group_priority`: among groups of the same depth, the higher wins.
    pub priority: i64,
    pub children: Vec<usize>,
    pub parents: Vec<usize>,
    /// Hosts listed in this group itself (not through children).
    pub hosts: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct HostEntry {
    pub name: String,
    /// Where the host is first named.
    pub span: Span,
    pub vars: Vars,
    /// Groups the host is listed in directly.
    pub groups: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub file: Arc<Path>,
    pub groups: Vec<Group>,
    group_ids: HashMap<String, usize>,
    pub hosts: Vec<HostEntry>,
    host_ids: HashMap<String, usize>,
}

pub const ALL: usize = 0;
pub const UNGROUPED: usize = 1;

impl Source {
    /// An empty inventory: `all`, and `ungrouped` under it.
    pub fn new(file: &Path) -> Source {
        let mut s = Source { file: Arc::from(file), groups: Vec::new(), group_ids: HashMap::new(), hosts: Vec::new(), host_ids: HashMap::new() };
        s.add_group("all");
        s.add_group("ungrouped");
        s.link(ALL, UNGROUPED);
        s
    }

    pub fn group_id(&self, name: &str) -> Option<usize> {
        self.group_ids.get(name).copied()
    }

    pub fn add_group(&mut self, name: &str) -> usize {
        if let Some(id) = self.group_id(name) {
            return id;
        }
        let id = self.groups.len();
        self.groups.push(Group { name: name.to_string(), vars: Vars::new(), priority: 1, children: Vec::new(), parents: Vec::new(), hosts: Vec::new() });
        self.group_ids.insert(name.to_string(), id);
        id
    }

    fn link(&mut self, parent: usize, child: usize) {
        if !self.groups[parent].children.contains(&child) {
            self.groups[parent].children.push(child);
            self.groups[child].parents.push(parent);
        }
    }

    /// Make `child` a child group of `parent`, refusing loops as Ansible does.
    pub fn add_child(&mut self, parent: usize, child: usize, span: &Span, d: &mut Diagnostics) {
        if parent == child || self.ancestors(parent).contains(&child) {
            let (p, c) = (&self.groups[parent].name, &self.groups[child].name);
            d.error(span.clone(), format!("group `{c}` cannot be a child of `{p}`: `{p}` is already inside `{c}` (a loop)"))
                .hint("a group's children must not contain the group itself, directly or through other groups");
            return;
        }
        self.link(parent, child);
    }

    /// Every group `g` is in, through its parents, up to `all` (not `g` itself).
    pub fn ancestors(&self, g: usize) -> Vec<usize> {
        let mut seen = Vec::new();
        let mut todo = self.groups[g].parents.clone();
        while let Some(p) = todo.pop() {
            if !seen.contains(&p) {
                seen.push(p);
                todo.extend(self.groups[p].parents.iter().copied());
            }
        }
        seen
    }

    /// Add `name` to `group` (once). A port from a `host:port` pattern becomes the host's
    /// `ansible_port` only where the host is first named, as in Ansible.
    pub fn add_host(&mut self, name: &str, span: Span, group: usize, port: Option<Var>) -> usize {
        let id = match self.host_ids.get(name) {
            Some(id) => *id,
            None => {
                let id = self.hosts.len();
                let mut vars = Vars::new();
                if let Some(port) = port {
                    vars.insert("ansible_port".to_string(), port);
                }
                self.hosts.push(HostEntry { name: name.to_string(), span, vars, groups: Vec::new() });
                self.host_ids.insert(name.to_string(), id);
                id
            }
        };
        if !self.hosts[id].groups.contains(&group) {
            self.hosts[id].groups.push(group);
            self.groups[group].hosts.push(id);
        }
        id
    }

    /// A group variable; `ansible_group_priority` sets the group's priority instead.
    pub fn set_group_var(&mut self, g: usize, key: String, var: Var, d: &mut Diagnostics) {
        if key == "ansible_group_priority" {
            match priority_of(&var.node) {
                Some(p) => self.groups[g].priority = p,
                None => {
                    d.error(var.span(), format!("group `{}`: `ansible_group_priority` must be a whole number, found {}", self.groups[g].name, describe(&var.node)));
                }
            }
            return;
        }
        self.groups[g].vars.insert(key, var);
    }

    pub fn set_host_var(&mut self, h: usize, key: String, var: Var) {
        self.hosts[h].vars.insert(key, var);
    }

    /// Ansible's `reconcile_inventory`: every group without a parent goes under `all`; a
    /// host in no group but `all` goes to `ungrouped`, and a host in `ungrouped` that is also
    /// in another group leaves it.
    pub fn reconcile(&mut self) {
        for g in 0..self.groups.len() {
            if g != ALL && self.groups[g].parents.is_empty() {
                self.link(ALL, g);
            }
        }
        for h in 0..self.hosts.len() {
            let mut groups: Vec<usize> = self.hosts[h].groups.clone();
            for g in self.hosts[h].groups.clone() {
                groups.extend(self.ancestors(g));
            }
            let others = groups.iter().any(|g| *g != ALL && *g != UNGROUPED);
            if self.hosts[h].groups.contains(&UNGROUPED) && others {
                self.hosts[h].groups.retain(|g| *g != UNGROUPED);
                self.groups[UNGROUPED].hosts.retain(|x| *x != h);
            } else if !others && !groups.contains(&UNGROUPED) {
                self.hosts[h].groups.push(UNGROUPED);
                self.groups[UNGROUPED].hosts.push(h);
            }
        }
    }

    /// Each group's depth: the longest way down from `all` (0), as Ansible counts it.
    pub fn depths(&self) -> Vec<u32> {
        fn depth(s: &Source, g: usize, memo: &mut Vec<Option<u32>>) -> u32 {
            if let Some(d) = memo[g] {
                return d;
            }
            let d = s.groups[g].parents.iter().map(|p| depth(s, *p, memo) + 1).max().unwrap_or(0);
            memo[g] = Some(d);
            d
        }
        let mut memo = vec![None; self.groups.len()];
        (0..self.groups.len()).map(|g| depth(self, g, &mut memo)).collect()
    }
}

/// Python's `int(value)` on what `ansible_group_priority` holds.
fn priority_of(node: &Node) -> Option<i64> {
    match &node.value {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::Str(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
                return None;
            }
            t.replace('_', "").parse().ok()
        }
        _ => None,
    }
}
