//! The `vrrp` section: the VRRP instance the directors share the VIPs through, its router id
//! and PASS secret (read from the environment for `auth_pass_env`, the one place the model
//! looks outside the topology and inventory), and the priorities the directors section checks.

use std::collections::BTreeMap;

use super::Builder;
use crate::diagnostic::Diagnostics;
use crate::token::{check_identifier, check_token};
use crate::topology::Engine;
use crate::yaml::Sp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum VrrpState {
    #[serde(rename = "MASTER")]
    Master,
    #[serde(rename = "BACKUP")]
    Backup,
}

#[derive(Debug, Clone)]
pub struct Vrrp {
    pub instance: String,
    /// More instances, each with its own MASTER (`model::instances`): an active-active split.
    pub instances: Vec<super::VrrpInstance>,
    pub virtual_router_id: u8,
    pub advert_int: u64,
    /// The VRRP PASS secret. Never printed: see `plan::Secrets`.
    pub auth_pass: Option<String>,
    pub sync_group: Option<String>,
    pub nopreempt: bool,
    pub preempt_delay: Option<u64>,
    pub unicast: bool,
    /// Render `unicast_fault_no_peer` with unicast (keepalived >= 2.2.5 knows it; older ones
    /// fall back to multicast silently when they lose their peers).
    pub unicast_fault_no_peer: bool,
    /// keepalived's IPVS connection sync (`lvs_sync_daemon`), when the topology asks for it.
    pub connection_sync: Option<ConnectionSync>,
    /// The director's own health: scripts the VIP instance tracks (`model::track`).
    pub track_scripts: Vec<super::TrackScript>,
    pub track_interfaces: Vec<String>,
    pub notify: super::Notify,
    /// Gratuitous ARP settings a new MASTER uses; None each: keepalived's default.
    pub garp: Garp,
}

/// keepalived's gratuitous-ARP knobs for a VRRP instance (every instance of the pair gets the
/// same). The defaults (a second burst of 5 after 5 s, no refresh) suit most switches; a
/// refresh helps where upstream ARP caches outlive a quiet MASTER.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Garp {
    pub master_delay: Option<u64>,
    pub master_repeat: Option<u64>,
    pub master_refresh: Option<u64>,
    pub master_refresh_repeat: Option<u64>,
}

/// The kernel's IPVS sync daemon, which keepalived runs as master on the VRRP MASTER and as
/// backup on the others: the MASTER's connections are copied to the BACKUP, so that the
/// established ones go on after a failover (without it the new MASTER has no entry for them
/// and answers their next packet with a reset).
#[derive(Debug, Clone)]
pub struct ConnectionSync {
    /// The interface the sync messages go out on (multicast 224.0.0.81, UDP 8848); None: each
    /// director's VRRP interface.
    pub interface: Option<String>,
    /// The sync id both directors use: a receiver takes only messages of its own id.
    pub id: u8,
}

impl Builder<'_> {
    pub(super) fn vrrp(&mut self, engine: Engine) -> Option<(Vrrp, BTreeMap<String, Sp<i64>>)> {
        let spec = self.topo.vrrp.as_ref()?;
        let d = &mut *self.d;
        if engine == Engine::Ipvsadm {
            d.warning(spec.span.clone(), "`vrrp` is ignored with `engine: ipvsadm` (plain IPVS rules, no failover)")
                .hint("use `engine: keepalived` for a VRRP pair");
            return None;
        }
        let instance = spec.instance.clone().map(|i| {
            check_identifier(&i, "vrrp.instance", d);
            i.value
        });
        let vrid = match &spec.virtual_router_id {
            Some(v) if (1..=255).contains(&v.value) => v.value as u8,
            Some(v) => {
                d.error(v.span.clone(), format!("`vrrp.virtual_router_id` is {}, outside 1..255", v.value))
                    .hint("VRRP router ids are 1 to 255 and must be unique on the network segment");
                0
            }
            None => 0, // reported as missing by the topology stage
        };
        let auth_pass = match (&spec.auth_pass, &spec.auth_pass_env) {
            (Some(p), Some(e)) => {
                d.error(e.span.clone(), "set either `vrrp.auth_pass` or `vrrp.auth_pass_env`, not both");
                let _ = p;
                None
            }
            (Some(p), None) => {
                let pass = check_auth_pass(p, "vrrp.auth_pass", d);
                if pass.is_some() {
                    d.warning(p.span.clone(), "`vrrp.auth_pass` is stored in plain text in the playbook")
                        .hint("prefer `auth_pass_env: VARIABLE` so the secret stays out of version control");
                }
                pass
            }
            (None, Some(e)) => match std::env::var(&e.value) {
                Ok(v) => check_auth_pass(&Sp { value: v, span: e.span.clone() }, &format!("environment variable {}", e.value), d),
                Err(_) => {
                    d.error(e.span.clone(), format!("`vrrp.auth_pass_env`: environment variable `{}` is not set", e.value))
                        .hint(format!("export {}=... before running lvsctl", e.value));
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(g) = &spec.sync_group {
            if check_identifier(g, "vrrp.sync_group", d) && self.topo.nat.as_ref().is_none_or(|n| n.gateway_vip.is_none()) {
                d.warning(g.span.clone(), format!("sync group `{}` would hold only one VRRP instance; lvsctl leaves it out", g.value))
                    .hint("keepalived 2.x rejects a one-member sync group; it matters only when a NAT pair also floats `nat.gateway_vip`");
            }
        }
        let priorities: BTreeMap<String, Sp<i64>> =
            spec.priorities.iter().map(|(h, p)| (h.value.clone(), p.clone())).collect();
        for (host, _) in &spec.priorities {
            let is_director = self.topo.directors.as_ref().is_some_and(|ds| ds.hosts.iter().any(|h| h.value == host.value));
            if !is_director {
                d.error(host.span.clone(), format!("`vrrp.priorities` names `{}`, which is not a director", host.value))
                    .hint("list only hosts from `directors.hosts`");
            }
        }
        let mut vrrp = Vrrp {
            instance: instance.unwrap_or_else(|| "VI_1".into()),
            instances: Vec::new(),
            virtual_router_id: vrid,
            advert_int: spec.advert_int.as_ref().map_or(1, |a| a.value),
            auth_pass,
            sync_group: spec.sync_group.as_ref().map(|g| g.value.clone()),
            nopreempt: spec.nopreempt.as_ref().is_some_and(|n| n.value),
            preempt_delay: spec.preempt_delay.as_ref().map(|p| p.value),
            unicast: spec.unicast.as_ref().is_some_and(|u| u.value),
            unicast_fault_no_peer: spec.unicast_fault_no_peer.as_ref().is_none_or(|u| u.value),
            connection_sync: None,
            track_scripts: Vec::new(),
            track_interfaces: Vec::new(),
            notify: Default::default(),
            garp: Garp {
                master_delay: spec.garp_master_delay.as_ref().map(|v| v.value),
                master_repeat: spec.garp_master_repeat.as_ref().map(|v| v.value),
                master_refresh: spec.garp_master_refresh.as_ref().map(|v| v.value),
                master_refresh_repeat: spec.garp_master_refresh_repeat.as_ref().map(|v| v.value),
            },
        };
        if let (Some(r), None | Some(Sp { value: 0, .. })) = (&spec.garp_master_refresh_repeat, &spec.garp_master_refresh) {
            d.warning(r.span.clone(), "`vrrp.garp_master_refresh_repeat` is ignored without a `vrrp.garp_master_refresh` interval")
                .hint("set `garp_master_refresh: SECONDS` to re-announce the VIPs while MASTER");
        }
        if let (Some(f), false) = (&spec.unicast_fault_no_peer, vrrp.unicast) {
            d.warning(f.span.clone(), "`vrrp.unicast_fault_no_peer` is ignored without `vrrp.unicast: true`");
        }
        vrrp.connection_sync = self.connection_sync(spec, vrid);
        (vrrp.track_scripts, vrrp.track_interfaces, vrrp.notify) = self.track(spec);
        Some((vrrp, priorities))
    }
}

impl Builder<'_> {
    fn connection_sync(&mut self, spec: &crate::topology::VrrpSpec, vrid: u8) -> Option<ConnectionSync> {
        let d = &mut *self.d;
        let on = spec.connection_sync.as_ref().is_some_and(|c| c.value);
        if !on {
            for (set, key) in [(spec.sync_interface.as_ref().map(|s| s.span.clone()), "sync_interface"), (spec.sync_id.as_ref().map(|s| s.span.clone()), "sync_id")] {
                if let Some(span) = set {
                    d.warning(span, format!("`vrrp.{key}` is ignored without `vrrp.connection_sync: true`"));
                }
            }
            return None;
        }
        let directors = self.topo.directors.as_ref().map_or(0, |ds| ds.hosts.len());
        if directors < 2 {
            if let Some(c) = &spec.connection_sync {
                d.error(c.span.clone(), "`vrrp.connection_sync` needs a second director to copy the connections to")
                    .hint("list the BACKUP in `directors.hosts`, or remove `vrrp.connection_sync`");
            }
            return None;
        }
        let interface = spec.sync_interface.as_ref().and_then(|i| check_token(i, "vrrp.sync_interface", d).then(|| i.value.clone()));
        Some(ConnectionSync { interface, id: spec.sync_id.as_ref().map_or(vrid, |i| i.value as u8) })
    }
}

fn check_auth_pass(p: &Sp<String>, what: &str, d: &mut Diagnostics) -> Option<String> {
    if !check_token(p, what, d) {
        return None;
    }
    // keepalived copies at most 8 *bytes*: a multi-byte character counts for more than one.
    let len = p.value.len();
    if len > 8 {
        // Do not echo the secret.
        d.error(p.span.clone(), format!("`{what}` is {len} bytes long; VRRP PASS authentication uses at most 8"))
            .hint("keepalived silently truncates it to 8 bytes, so peers configured by hand would disagree");
        return None;
    }
    Some(p.value.clone())
}
