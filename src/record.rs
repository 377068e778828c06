//! A generation record: everything a host was given by one apply, stored on the host
//! (`/var/lib/lvsctl/generations/N/record.json`, 0600 in a 0700 directory: it holds the VRRP
//! secret) so `lvsctl rollback` can bring the host back to it without the topology.

use serde::{Deserialize, Serialize};

use crate::facts::Manifest;
use crate::plan::{Address, FileKind, HostPlan, ManagedFile, Role, Route, Service, Sysctl};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFile {
    pub path: String,
    /// Records written before kinds were recorded have none: known from the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
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
    /// Records written before it was recorded have none: ipvsadm's was its reload_on file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_file: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Units enabled at boot (records before persistence have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boot_units: Vec<String>,
}

impl GenerationRecord {
    pub fn of(p: &HostPlan) -> GenerationRecord {
        GenerationRecord {
            cluster: p.cluster.clone(),
            host: p.host.clone(),
            roles: p.roles.clone(),
            files: p
                .files
                .iter()
                .map(|f| StoredFile { path: f.path.clone(), kind: Some(f.kind), content: f.content.clone(), mode: f.mode, owner: f.owner.clone(), group: f.group.clone(), secret: f.secret })
                .collect(),
            sysctls: p.sysctls.iter().map(|s| StoredSysctl { key: s.key.clone(), value: s.value.clone() }).collect(),
            addresses: p.addresses.clone(),
            routes: p.routes.clone(),
            nat_chains: p.nat_chains.clone(),
            services: p.services.iter().map(|s| StoredService { name: s.name.clone(), reload_on: s.reload_on.clone(), rules_file: s.rules_file.clone() }).collect(),
            kernel_modules: p.kernel_modules.clone(),
            boot_units: p.boot_units.clone(),
        }
    }

    pub fn to_plan(&self) -> HostPlan {
        let mut p = HostPlan::new(&self.cluster, &self.host);
        p.boot_units = self.boot_units.clone();
        HostPlan {
            roles: self.roles.clone(),
            files: self
                .files
                .iter()
                .map(|f| ManagedFile { path: f.path.clone(), kind: f.kind.or_else(|| FileKind::of_path(&f.path)).unwrap_or(FileKind::Other), content: f.content.clone(), mode: f.mode, owner: f.owner.clone(), group: f.group.clone(), secret: f.secret })
                .collect(),
            sysctls: self.sysctls.iter().map(|s| Sysctl { key: s.key.clone(), value: s.value.clone(), comment: None }).collect(),
            addresses: self.addresses.clone(),
            routes: self.routes.clone(),
            nat_chains: self.nat_chains.clone(),
            services: self
                .services
                .iter()
                .map(|s| Service {
                    name: s.name.clone(),
                    reload_on: s.reload_on.clone(),
                    rules_file: s.rules_file.clone().or_else(|| (s.name == "ipvsadm").then(|| s.reload_on.first().cloned()).flatten()),
                })
                .collect(),
            // Not recorded: a rollback restores files and runtime state, and leaves comparing
            // the kernel's IPVS table with a topology to plan and status.
            ipvs: Vec::new(),
            kernel_modules: self.kernel_modules.clone(),
            ..p
        }
    }

    /// What this generation manages: a later plan removes what the topology dropped from it.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            cluster: self.cluster.clone(),
            files: self.files.iter().map(|f| f.path.clone()).collect(),
            sysctls: self.sysctls.iter().map(|s| s.key.clone()).collect(),
            addresses: self.addresses.clone(),
            routes: self.routes.clone(),
            nat_chains: self.nat_chains.clone(),
            boot_units: self.boot_units.clone(),
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
