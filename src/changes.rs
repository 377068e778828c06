//! Changes: what it takes to bring a host from its facts to its plan.
//!
//! Pure and deterministic: the same plan and facts always give the same list, in the order
//! apply performs them (files, then sysctls with the ARP ones first, then addresses, routes,
//! firewall chains, services). Diffs are computed on the real contents and shown masked
//! (`Secrets`), so a secret never reaches the output even when it is what changed.

use serde::Serialize;

use crate::diff::unified;
use crate::facts::Facts;
use crate::plan::{Address, HostPlan, Role, Route, Secrets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceAction {
    Start,
    Reload,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    File {
        path: String,
        action: FileAction,
        mode: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_mode: Option<u32>,
        /// Unified diff with secrets masked.
        diff: String,
        secret: bool,
    },
    Sysctl {
        key: String,
        from: Option<String>,
        to: String,
    },
    AddressAdd {
        address: Address,
    },
    AddressRemove {
        address: Address,
    },
    RouteAdd {
        route: Route,
    },
    RouteRemove {
        route: Route,
    },
    NatRules {
        chains: Vec<String>,
    },
    Service {
        name: String,
        action: ServiceAction,
    },
}

impl Change {
    pub fn is_file(&self) -> bool {
        matches!(self, Change::File { .. })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HostChanges {
    pub host: String,
    pub roles: Vec<Role>,
    pub changes: Vec<Change>,
}

pub fn compute(plan: &HostPlan, facts: &Facts, secrets: &Secrets) -> HostChanges {
    let mut changes = Vec::new();
    let mut changed_files = Vec::new();
    for f in &plan.files {
        let (action, old, old_mode) = match facts.files.get(&f.path) {
            None => (FileAction::Create, "", None),
            Some(old) if old.content == f.content && old.mode == f.mode => continue,
            Some(old) => (FileAction::Update, old.content.as_str(), (old.mode != f.mode).then_some(old.mode)),
        };
        changed_files.push(f.path.clone());
        changes.push(Change::File {
            path: f.path.clone(),
            action,
            mode: f.mode,
            old_mode,
            diff: unified(&f.path, old, &f.content, action == FileAction::Create, false, secrets),
            secret: f.secret,
        });
    }
    for path in &facts.manifest.files {
        if plan.file(path).is_none() {
            let old = facts.files.get(path).map(|f| f.content.as_str()).unwrap_or("");
            changes.push(Change::File {
                path: path.clone(),
                action: FileAction::Delete,
                mode: 0,
                old_mode: facts.files.get(path).map(|f| f.mode),
                diff: unified(path, old, "", false, true, secrets),
                secret: secrets.contains_secret(old),
            });
        }
    }
    for s in &plan.sysctls {
        let current = facts.sysctls.get(&s.key);
        if current != Some(&s.value) {
            changes.push(Change::Sysctl { key: s.key.clone(), from: current.cloned(), to: s.value.clone() });
        }
    }
    // Only what lvsctl put there and the topology dropped, and only if it is still there.
    for a in &facts.manifest.addresses {
        let planned = plan.addresses.iter().any(|p| p.ip == a.ip && p.dev == a.dev);
        let present = facts.addresses.iter().any(|f| f.ip == a.ip && f.dev == a.dev);
        if !planned && present {
            changes.push(Change::AddressRemove { address: a.clone() });
        }
    }
    for a in &plan.addresses {
        // Labels are cosmetic for matching: the same address on the same device is in place.
        if !facts.addresses.iter().any(|f| f.ip == a.ip && f.prefix == a.prefix && f.dev == a.dev) {
            changes.push(Change::AddressAdd { address: a.clone() });
        }
    }
    for r in &facts.manifest.routes {
        if !plan.routes.contains(r) && facts.routes.contains(r) {
            changes.push(Change::RouteRemove { route: r.clone() });
        }
    }
    for r in &plan.routes {
        if !facts.routes.contains(r) {
            changes.push(Change::RouteAdd { route: r.clone() });
        }
    }
    let rules_changed = plan.files.iter().any(|f| f.path.ends_with("router-nat.rules") && changed_files.contains(&f.path));
    if !plan.nat_chains.is_empty() && (rules_changed || plan.nat_chains.iter().any(|c| !facts.nat_chains.contains(c))) {
        changes.push(Change::NatRules { chains: plan.nat_chains.clone() });
    }
    for svc in &plan.services {
        let running = facts.services.get(&svc.name).copied().unwrap_or(false);
        if !running {
            changes.push(Change::Service { name: svc.name.clone(), action: ServiceAction::Start });
        } else if svc.reload_on.iter().any(|f| changed_files.contains(f)) {
            changes.push(Change::Service { name: svc.name.clone(), action: ServiceAction::Reload });
        }
    }
    HostChanges { host: plan.host.clone(), roles: plan.roles.clone(), changes }
}
