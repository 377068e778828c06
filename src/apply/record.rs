//! A generation record: everything a host was given by one apply, stored on the host
//! (`/var/lib/lvsctl/generations/N/record.json`, 0600 in a 0700 directory: it holds the VRRP
//! secret) so `lvsctl rollback` can bring the host back to it without the topology.

use serde::{Deserialize, Serialize};

use crate::plan::{Address, HostPlan, ManagedFile, Role, Route, Service, Sysctl};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFile {
    pub path: String,
    pub content: String,
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub secret: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSysctl {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredService {
    pub name: String,
    pub reload_on: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerationRecord {
    pub cluster: String,
    pub host: String,
    pub roles: Vec<Role>,
    pub files: Vec<StoredFile>,
    pub sysctls: Vec<StoredSysctl>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    pub nat_chains: Vec<String>,
    pub services: Vec<StoredService>,
    /// Records written before lvsctl loaded modules have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kernel_modules: Vec<String>,
}

impl GenerationRecord {
    pub fn of(cluster: &str, p: &HostPlan) -> GenerationRecord {
        GenerationRecord {
            cluster: cluster.to_string(),
            host: p.host.clone(),
            roles: p.roles.clone(),
            files: p
                .files
                .iter()
                .map(|f| StoredFile { path: f.path.clone(), content: f.content.clone(), mode: f.mode, owner: f.owner.clone(), group: f.group.clone(), secret: f.secret })
                .collect(),
            sysctls: p.sysctls.iter().map(|s| StoredSysctl { key: s.key.clone(), value: s.value.clone() }).collect(),
            addresses: p.addresses.clone(),
            routes: p.routes.clone(),
            nat_chains: p.nat_chains.clone(),
            services: p.services.iter().map(|s| StoredService { name: s.name.clone(), reload_on: s.reload_on.clone() }).collect(),
            kernel_modules: p.kernel_modules.clone(),
        }
    }

    pub fn to_plan(&self) -> HostPlan {
        HostPlan {
            host: self.host.clone(),
            roles: self.roles.clone(),
            files: self
                .files
                .iter()
                .map(|f| ManagedFile { path: f.path.clone(), content: f.content.clone(), mode: f.mode, owner: f.owner.clone(), group: f.group.clone(), secret: f.secret })
                .collect(),
            sysctls: self.sysctls.iter().map(|s| Sysctl { key: s.key.clone(), value: s.value.clone(), comment: None }).collect(),
            addresses: self.addresses.clone(),
            routes: self.routes.clone(),
            nat_chains: self.nat_chains.clone(),
            services: self.services.iter().map(|s| Service { name: s.name.clone(), reload_on: s.reload_on.clone() }).collect(),
            // Not recorded: a rollback restores files and runtime state, and leaves comparing
            // the kernel's IPVS table with a topology to plan and status.
            ipvs: Vec::new(),
            kernel_modules: self.kernel_modules.clone(),
        }
    }

    /// The secret values held by this record's files (for masking its diffs).
    pub fn secrets(&self) -> Vec<String> {
        self.files
            .iter()
            .filter(|f| f.secret)
            .flat_map(|f| f.content.lines().filter_map(|l| l.trim().strip_prefix("auth_pass ")).map(|v| v.trim().to_string()).collect::<Vec<_>>())
            .collect()
    }
}
