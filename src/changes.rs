//! Changes: what it takes to bring a host from its facts to its plan, as self-sufficient data.
//!
//! Pure and deterministic: the same plan and facts always give the same list, in the order
//! apply performs them (files, then sysctls with the ARP ones first, then addresses, routes,
//! firewall chains, services). Each change carries everything the transaction needs and
//! nothing refers back to the plan or the facts: a file change holds its content before (for
//! the still-as-planned check and the diff) and after, its mode and owner, and its kind,
//! which says how the host validates it; a sysctl its value before and after. `HostChanges`
//! adds what the transaction verifies afterwards and what it records as the new generation.
//! So `apply` takes a `HostChanges` (and the host's connection) and nothing else, and the
//! reporter draws diffs from the data (masked by `HostChanges::secrets`).
//!
//! A director whose configuration is unchanged but whose kernel IPVS table drifted from the
//! topology (`ipvs::compare`: unexpected or different, not health-check removals) gets the
//! action that rebuilds the table (with a configuration change, the reload programs it):
//! keepalived is *restarted* (a reload compares the old and new
//! configuration, never the kernel, so it leaves a hand-edited table as it is; a stop removes
//! keepalived's services and a start adds them back), the ipvsadm rules are loaded again
//! (`ipvsadm-restore` clears the table first). A service in the kernel that the topology
//! lacks is no reason for a keepalived restart, which would not remove it (keepalived only
//! removes its own services): `live::fact_warnings` says how to remove it.

use serde::Serialize;

use crate::facts::{Facts, IpvsFact};
use crate::ipvs;
use crate::plan::{Address, FileKind, HostPlan, Role, Route, Secrets};
use crate::record::GenerationRecord;
use crate::remote::sha256_hex;

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
    Restart,
}

impl ServiceAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceAction::Start => "start",
            ServiceAction::Reload => "reload",
            ServiceAction::Restart => "restart",
        }
    }
}

/// A file's content with its SHA-256 (what the transaction checks the host against).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub text: String,
    pub sha256: String,
}

impl Content {
    pub fn of(text: &str) -> Content {
        Content { text: text.to_string(), sha256: sha256_hex(text.as_bytes()) }
    }
}

/// A file to create, update or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub kind: FileKind,
    pub action: FileAction,
    /// The mode after (create, update) or before (delete).
    pub mode: u32,
    /// An update that changes the mode: the mode before.
    pub old_mode: Option<u32>,
    pub owner: String,
    pub group: String,
    /// The content holds a secret: shown masked only.
    pub secret: bool,
    /// What the host has now; `None` when the file is created.
    pub before: Option<Content>,
    /// What it gets; `None` when the file is deleted.
    pub after: Option<Content>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    File(FileChange),
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
    /// Load lvsctl's chains from `file` (with --noflush: other chains stay). A chain is named
    /// `LVSCTL-PREROUTING` in the nat table, `mangle:LVSCTL-FWMARK` in another.
    NatRules {
        file: String,
        chains: Vec<String>,
    },
    /// Unhook and delete chains of lvsctl's that the topology no longer has (the last
    /// firewall-mark service removed, the router dropped).
    ChainsRemove {
        chains: Vec<String>,
    },
    Service {
        name: String,
        action: ServiceAction,
        /// ipvsadm (no daemon): the rules file every action loads.
        rules_file: Option<String>,
    },
    /// Enable (or, for a unit of lvsctl's the plan dropped, disable) a unit at boot.
    Boot {
        unit: String,
        enable: bool,
    },
    /// Real servers the new configuration removes, set to weight 0 first and waited for until
    /// their active connections end or `timeout_s` passes (`drain`). Run before the
    /// directors' transactions; a transaction that rolls back gives them their weight back.
    Drain {
        targets: Vec<drain::DrainTarget>,
        timeout_s: u64,
    },
    /// The kernel's IPVS table differs from the topology: `action` on `service` rebuilds it.
    IpvsTable {
        service: String,
        action: ServiceAction,
        rules_file: Option<String>,
        /// What differs, one finding a line (`TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)`).
        differences: Vec<String>,
    },
}

impl Change {
    pub fn is_file(&self) -> bool {
        matches!(self, Change::File(_))
    }
}

/// What the transaction checks once everything is active; a failed check rolls back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verify {
    /// A sysctl this transaction set has the value.
    Sysctl { key: String, value: String },
    /// The address is on the device and the device is up.
    Address { address: Address },
    /// lvsctl's nat chain exists.
    NatChain { chain: String },
    /// keepalived's main process runs.
    KeepalivedRunning,
    /// The unit is enabled at boot.
    Enabled { unit: String },
    /// The kernel's IPVS table (`ipvsadm -Sn`) holds exactly the rules file's lines (the
    /// ipvsadm engine: nothing else checks what ipvsadm-restore loaded).
    IpvsTable { rules_file: String },
}

/// One host's changes and what applying them takes besides: the modules activation loads
/// first, the checks after it, and the record of the new generation.
#[derive(Debug, Clone, Default)]
pub struct HostChanges {
    pub host: String,
    pub roles: Vec<Role>,
    pub changes: Vec<Change>,
    /// Kernel modules loaded before the sysctls and addresses (loading one is not undone by a
    /// rollback: an idle module changes nothing); not a change: a loaded module is left be.
    pub kernel_modules: Vec<String>,
    pub verify: Vec<Verify>,
    /// Everything the host is given, stored as the new generation (for rollback); its
    /// `manifest()` is what the next plan compares with.
    pub record: GenerationRecord,
    /// For showing: every secret value masked.
    pub secrets: Secrets,
    /// How the host persists all this across reboots, and why (shown in the plan).
    pub persistence: Option<crate::plan::persistence::Persistence>,
}

impl HostChanges {
    /// No change at all (a host whose facts are unknown shows no change either).
    pub fn none(plan: &HostPlan, secrets: &Secrets) -> HostChanges {
        HostChanges {
            host: plan.host.clone(),
            roles: plan.roles.clone(),
            changes: Vec::new(),
            kernel_modules: Vec::new(),
            verify: Vec::new(),
            record: GenerationRecord::of(plan),
            secrets: secrets.clone(),
            persistence: plan.persistence.clone(),
        }
    }

    /// Why this director's VRRP adverts change (`vrrp_adverts`), if its keepalived.conf is
    /// updated so that they do: the rollout then reloads the directors together.
    pub fn vrrp_adverts_change(&self) -> Option<String> {
        let f = self.files().find(|f| f.kind == FileKind::KeepalivedConf)?;
        vrrp_adverts::change(&f.before.as_ref()?.text, &f.after.as_ref()?.text)
    }

    /// The real servers to drain before this host's transaction, and for how long at most.
    pub fn drain(&self) -> Option<(&[drain::DrainTarget], u64)> {
        self.changes.iter().find_map(|c| if let Change::Drain { targets, timeout_s } = c { Some((targets.as_slice(), *timeout_s)) } else { None })
    }

    pub fn files(&self) -> impl Iterator<Item = &FileChange> {
        self.changes.iter().filter_map(|c| if let Change::File(f) = c { Some(f) } else { None })
    }

    /// A fingerprint of the changes as reviewed (saved plans): their data, file contents by
    /// the SHA-256 of their masked text (no secret can be recovered from a saved plan).
    pub fn fingerprint(&self) -> String {
        let mut data = String::new();
        for c in &self.changes {
            let line = match c {
                Change::File(f) => {
                    let masked = |c: &Option<Content>| c.as_ref().map(|c| sha256_hex(self.secrets.mask(&c.text).as_bytes()));
                    format!("file {} {:?} {:?} {:o} {:?} {}:{} {} {:?} {:?}", f.path, f.kind, f.action, f.mode, f.old_mode, f.owner, f.group, f.secret, masked(&f.before), masked(&f.after))
                }
                other => format!("{other:?}"),
            };
            data.push_str(&line);
            data.push('\n');
        }
        sha256_hex(data.as_bytes())
    }
}

pub fn compute(plan: &HostPlan, facts: &Facts, secrets: &Secrets) -> HostChanges {
    let mut changes = Vec::new();
    let mut changed_files = Vec::new();
    for f in &plan.files {
        let (action, before, old_mode) = match facts.files.get(&f.path) {
            None => (FileAction::Create, None, None),
            Some(old) if old.content == f.content && old.mode == f.mode => continue,
            Some(old) => (FileAction::Update, Some(Content::of(&old.content)), (old.mode != f.mode).then_some(old.mode)),
        };
        changed_files.push(f.path.clone());
        changes.push(Change::File(FileChange {
            path: f.path.clone(),
            kind: f.kind,
            action,
            mode: f.mode,
            old_mode,
            owner: f.owner.clone(),
            group: f.group.clone(),
            secret: f.secret,
            before,
            after: Some(Content::of(&f.content)),
        }));
    }
    for path in &facts.manifest.files {
        if plan.file(path).is_none() {
            let old = facts.files.get(path);
            let text = old.map(|f| f.content.as_str()).unwrap_or("");
            changes.push(Change::File(FileChange {
                path: path.clone(),
                kind: FileKind::of_path(path).unwrap_or(FileKind::Other),
                action: FileAction::Delete,
                mode: 0,
                old_mode: old.map(|f| f.mode),
                owner: old.map_or_else(|| "root".into(), |f| f.owner.clone()),
                group: old.map_or_else(|| "root".into(), |f| f.group.clone()),
                secret: secrets.contains_secret(text),
                before: old.map(|f| Content::of(&f.content)),
                after: None,
            }));
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
    let dropped: Vec<String> = facts.manifest.nat_chains.iter().filter(|c| !plan.nat_chains.contains(c) && facts.nat_chains.contains(c)).cloned().collect();
    if !dropped.is_empty() {
        changes.push(Change::ChainsRemove { chains: dropped });
    }
    // Each rules file loads its own chains (the router's IPv4 and IPv6 files, a director's marks).
    for (rules, chains, _) in plan.nat_files() {
        let rules_changed = changed_files.contains(&rules.path);
        if !chains.is_empty() && (rules_changed || chains.iter().any(|c| !facts.nat_chains.contains(c))) {
            changes.push(Change::NatRules { file: rules.path.clone(), chains });
        }
    }
    for svc in &plan.services {
        let running = facts.services.get(&svc.name).copied().unwrap_or(false);
        let rules_file = svc.rules_file.clone();
        if !running {
            changes.push(Change::Service { name: svc.name.clone(), action: ServiceAction::Start, rules_file });
        } else if svc.reload_on.iter().any(|f| changed_files.contains(f)) {
            // A new configuration: the kernel's table differs from the plan because of it, and
            // the reload programs the difference (a restart here would drop the MASTER's VIP
            // and every connection through it on each configuration change). A table that a
            // hand edit made drift besides is still seen by the next plan and rebuilt then.
            let (targets, timeout_s) = drain::targets(plan, facts);
            if !targets.is_empty() {
                changes.push(Change::Drain { targets, timeout_s });
            }
            // Where this keepalived's reload would leave the table wrong, a restart (the
            // reason is a plan warning: keepalived_versions).
            let action = match (svc.name.as_str(), keepalived_versions::restart_instead(plan, facts)) {
                ("keepalived", Some(_)) => ServiceAction::Restart,
                _ => ServiceAction::Reload,
            };
            changes.push(Change::Service { name: svc.name.clone(), action, rules_file });
        } else if let Some((action, differences)) = ipvs_rebuild(plan, facts, &svc.name) {
            changes.push(Change::IpvsTable { service: svc.name.clone(), action, rules_file, differences });
        }
    }
    // Boot: every unit the plan enables; lvsctl's own units it enabled before and the plan
    // dropped (their files go) are disabled first.
    for unit in &facts.manifest.boot_units {
        if !plan.boot_units.contains(unit) && unit.starts_with("lvsctl-") && facts.enabled.get(unit).copied().unwrap_or(true) {
            changes.push(Change::Boot { unit: unit.clone(), enable: false });
        }
    }
    // A masked unit is the operator's decision: enabling it would fail; `live::fact_warnings`
    // says so and `status` shows the host would not come back whole.
    for unit in plan.boot_units.iter().filter(|u| !facts.masked.contains(u)) {
        if !facts.enabled.get(unit).copied().unwrap_or(false) {
            changes.push(Change::Boot { unit: unit.clone(), enable: true });
        }
    }
    let verify = verify(plan, &changes);
    HostChanges {
        host: plan.host.clone(),
        roles: plan.roles.clone(),
        changes,
        kernel_modules: plan.kernel_modules.clone(),
        verify,
        record: GenerationRecord::of(plan),
        secrets: secrets.clone(),
        persistence: plan.persistence.clone(),
    }
}

/// What is checked after activation: the sysctls set now, every planned address, chain and
/// the keepalived daemon.
fn verify(plan: &HostPlan, changes: &[Change]) -> Vec<Verify> {
    let mut v = Vec::new();
    for sc in &plan.sysctls {
        if changes.iter().any(|c| matches!(c, Change::Sysctl { key, .. } if *key == sc.key)) {
            v.push(Verify::Sysctl { key: sc.key.clone(), value: sc.value.clone() });
        }
    }
    v.extend(plan.addresses.iter().map(|a| Verify::Address { address: a.clone() }));
    v.extend(plan.nat_chains.iter().map(|c| Verify::NatChain { chain: c.clone() }));
    if plan.services.iter().any(|s| s.name == "keepalived") {
        v.push(Verify::KeepalivedRunning);
    }
    if let Some(rules_file) = plan.services.iter().find(|s| s.name == "ipvsadm").and_then(|s| s.rules_file.clone()) {
        v.push(Verify::IpvsTable { rules_file });
    }
    for c in changes {
        if let Change::Boot { unit, enable: true } = c {
            v.push(Verify::Enabled { unit: unit.clone() });
        }
    }
    v
}

/// The action of `service` (running) that rebuilds a drifted IPVS table, with the differences
/// it fixes; none when the table is as planned, unknown, or `service` does not own it.
fn ipvs_rebuild(plan: &HostPlan, facts: &Facts, service: &str) -> Option<(ServiceAction, Vec<String>)> {
    let IpvsFact::Table(table) = &facts.ipvs else { return None };
    if plan.ipvs.is_empty() {
        return None;
    }
    let cmp = ipvs::compare(&plan.ipvs, table);
    let (action, fixed): (ServiceAction, Vec<&ipvs::Finding>) = match service {
        "keepalived" => (ServiceAction::Restart, cmp.differs.iter().chain(cmp.unexpected.iter().filter(|f| f.real_server.is_some())).collect()),
        "ipvsadm" => (ServiceAction::Reload, cmp.differs.iter().chain(&cmp.unexpected).collect()),
        _ => return None,
    };
    (!fixed.is_empty()).then(|| (action, fixed.iter().map(|f| f.to_string()).collect()))
}

#[cfg(test)]
mod tests {
    //! The IPVS part of the change computation: which drift gets which action, and a converged
    //! director gets none (the rest of `compute` is covered by the probe and CLI tests).

    use super::*;
    use crate::ipvs::testing::example;
    use crate::render::Templates;

    fn director(playbook: &str) -> HostPlan {
        let plans = crate::plan::build(&example(playbook), &Templates::new(None).unwrap()).unwrap();
        plans.into_iter().find(|p| p.host == "lvs1").unwrap()
    }

    /// A host exactly as `plan` wants it, its IPVS table included (the compute table's).
    use super::compute_tests::converged;

    fn table(f: &mut Facts) -> &mut ipvs::Table {
        match &mut f.ipvs {
            IpvsFact::Table(t) => t,
            other => panic!("{other:?}"),
        }
    }

    fn foreign_service() -> ipvs::Service {
        ipvs::Service {
            protocol: ipvs::Protocol::Tcp,
            vip: Some("10.77.0.200".parse().unwrap()),
            port: Some(443),
            fwmark: None,
            scheduler: "rr".into(),
            persistent: false,
            persistence_timeout: None,
            flags: vec![],
            real_servers: vec![],
        }
    }

    fn compute_for(plan: &HostPlan, facts: &Facts) -> Vec<Change> {
        compute(plan, facts, &Secrets::default()).changes
    }

    #[test]
    fn a_converged_director_has_nothing_to_do_even_with_a_real_server_down() {
        let plan = director("dr-keepalived-router.yml");
        let mut facts = converged(&plan);
        assert!(compute_for(&plan, &facts).is_empty());
        // web2 removed by its health check: the cluster at work, nothing to fix.
        table(&mut facts).services[0].real_servers.pop();
        assert!(compute_for(&plan, &facts).is_empty());
        // No IPVS in the kernel (the netns lab): nothing to compare, nothing to do.
        facts.ipvs = IpvsFact::NoIpvs;
        assert!(compute_for(&plan, &facts).is_empty());
    }

    #[test]
    fn drift_restarts_keepalived_instead_of_reloading_it() {
        let plan = director("dr-keepalived-router.yml");
        let mut facts = converged(&plan);
        table(&mut facts).services[0].scheduler = "rr".into();
        table(&mut facts).services[0].real_servers[0].weight = 7;
        let changes = compute_for(&plan, &facts);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(
            matches!(&changes[0], Change::IpvsTable { service, action: ServiceAction::Restart, differences, .. }
                if service == "keepalived" && differences == &["TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)", "TCP 10.77.0.100:80 wlc: web1 10.77.0.21:80 weight 7 (want 1)"]),
            "{changes:?}"
        );
        // With keepalived.conf changed too: the reload programs the new configuration (no
        // restart of the MASTER for a configuration change: found in the VM lab, where it
        // dropped every connection through the VIP); drift left after it is the next plan's.
        facts.files.get_mut(crate::plan::director::KEEPALIVED_CONF).unwrap().content.push_str("# edited\n");
        let changes = compute_for(&plan, &facts);
        assert!(matches!(&changes[0], Change::File(f) if f.action == FileAction::Update), "{changes:?}");
        assert!(matches!(&changes[1], Change::Service { action: ServiceAction::Reload, .. }), "{changes:?}");
        assert_eq!(changes.len(), 2, "{changes:?}");
        // keepalived stopped: starting it programs the table; no restart on top.
        facts.services.insert("keepalived".into(), false);
        let changes = compute_for(&plan, &facts);
        assert!(matches!(changes.last(), Some(Change::Service { action: ServiceAction::Start, .. })), "{changes:?}");
        assert!(!changes.iter().any(|c| matches!(c, Change::IpvsTable { .. })), "{changes:?}");
    }

    #[test]
    fn a_service_missing_from_the_kernel_or_an_unexpected_real_server_restarts_keepalived() {
        let plan = director("dr-keepalived-router.yml");
        let mut facts = converged(&plan);
        let extra = ipvs::RealServer { address: "10.77.0.29".parse().unwrap(), port: 80, forward: ipvs::Forward::Route, weight: 1, active_conn: 0, inact_conn: 0 };
        table(&mut facts).services[0].real_servers.push(extra);
        assert!(matches!(compute_for(&plan, &facts).as_slice(), [Change::IpvsTable { action: ServiceAction::Restart, .. }]));
        table(&mut facts).services.clear();
        let changes = compute_for(&plan, &facts);
        assert!(matches!(changes.as_slice(), [Change::IpvsTable { differences, .. }] if differences == &["TCP 10.77.0.100:80 wlc: not in the kernel's table"]), "{changes:?}");
    }

    /// keepalived only removes services of its own configuration: a restart would not remove
    /// a foreign one, so none is planned (fact_warnings says how to remove it).
    #[test]
    fn a_foreign_service_is_no_reason_to_restart_keepalived() {
        let plan = director("dr-keepalived-router.yml");
        let mut facts = converged(&plan);
        table(&mut facts).services.push(foreign_service());
        assert!(compute_for(&plan, &facts).is_empty());
        let warnings = crate::live::fact_warnings(&plan, &facts);
        assert_eq!(
            warnings,
            vec!["the kernel's IPVS table has TCP 10.77.0.200:443 rr, which no service of the topology is: keepalived leaves it alone (remove it with `ipvsadm -D -t 10.77.0.200:443`)"]
        );
    }

    /// The ipvsadm engine: loading the rules (ipvsadm-restore clears the table first) fixes
    /// every drift, a foreign service included.
    #[test]
    fn the_ipvsadm_rules_are_loaded_again_on_any_drift() {
        let plan = director("nat-director.yml");
        let mut facts = converged(&plan);
        assert!(compute_for(&plan, &facts).is_empty());
        table(&mut facts).services.push(foreign_service());
        let changes = compute_for(&plan, &facts);
        assert!(
            matches!(changes.as_slice(), [Change::IpvsTable { service, action: ServiceAction::Reload, differences, .. }]
                if service == "ipvsadm" && differences == &["TCP 10.77.0.200:443 rr: not in the topology (0 real servers)"]),
            "{changes:?}"
        );
        // Nothing checks health with plain rules: a missing real server is drift too.
        table(&mut facts).services.pop();
        table(&mut facts).services[0].real_servers.pop();
        let changes = compute_for(&plan, &facts);
        assert!(
            matches!(changes.as_slice(), [Change::IpvsTable { differences, .. }]
                if differences == &["TCP 10.77.0.100:80 rr: web2 10.77.1.22:8080 missing (nothing checks its health: removed by hand?)"]),
            "{changes:?}"
        );
        assert!(crate::live::fact_warnings(&plan, &facts).is_empty());
    }
}

#[cfg(test)]
mod compute_tests;
pub mod vrrp_adverts;
pub mod drain;
pub mod keepalived_versions;
