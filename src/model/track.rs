//! The director's own health in VRRP: scripts keepalived runs (`vrrp_script`, tracked by the
//! VIP instance), extra interfaces it tracks and the notify scripts it calls on a state
//! change. What is checked here and not by `keepalived -t`: a weight keepalived would ignore
//! (inside the NAT pair's sync group) or one too small to move the VIPs (the MASTER's priority
//! minus the weight still above the BACKUP's), an interface the instance tracks anyway.

use super::{Builder, Director};
use crate::token::{check_identifier, check_interface, check_script_path};
use crate::topology::VrrpSpec;

/// A keepalived `vrrp_script` the VIP instance tracks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrackScript {
    pub name: String,
    /// Absolute path of an executable (no arguments: keepalived splits the line itself).
    pub script: String,
    pub interval: u64,
    pub timeout: Option<u64>,
    pub fall: Option<u64>,
    pub rise: Option<u64>,
    /// 0: FAULT while failing; < 0: priority lowered while failing; > 0: raised while passing.
    pub weight: i64,
}

/// Scripts keepalived runs when the instance (the sync group, with a NAT pair) changes state.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Notify {
    pub master: Option<String>,
    pub backup: Option<String>,
    pub fault: Option<String>,
}

impl Notify {
    pub fn is_empty(&self) -> bool {
        self.master.is_none() && self.backup.is_none() && self.fault.is_none()
    }
}

/// Seconds between runs of a track script when the topology does not say (keepalived's own
/// default, 1 s, forks a process a second on the director).
pub const DEFAULT_TRACK_INTERVAL: u64 = 2;

impl Builder<'_> {
    pub(super) fn track(&mut self, spec: &VrrpSpec) -> (Vec<TrackScript>, Vec<String>, Notify) {
        let d = &mut *self.d;
        let sync_group = self.topo.nat.as_ref().is_some_and(|n| n.gateway_vip.is_some());
        let mut scripts: Vec<TrackScript> = Vec::new();
        for t in &spec.track_scripts {
            let (Some(name), Some(script)) = (&t.name, &t.script) else { continue };
            let ok_name = check_identifier(name, "vrrp.track_scripts[].name", d);
            let ok_script = check_script_path(script, "vrrp.track_scripts[].script", d);
            if scripts.iter().any(|s| s.name == name.value) {
                d.error(name.span.clone(), format!("track script `{}` is listed twice", name.value))
                    .hint("give every track script its own name");
                continue;
            }
            let weight = t.weight.as_ref().map_or(0, |w| w.value);
            if let (Some(w), true) = (&t.weight, sync_group) {
                if w.value != 0 {
                    d.error(w.span.clone(), format!("keepalived ignores the weight of track script `{}` in a sync group", name.value))
                        .hint("a NAT pair's VIP and gateway instances form a sync group, which keepalived fails over as a whole: use weight 0 (FAULT while the script fails)");
                }
            }
            if let (Some(timeout), Some(interval)) = (&t.timeout, &t.interval) {
                if timeout.value > interval.value {
                    d.warning(timeout.span.clone(), format!("track script `{}` may run {} s, longer than its interval {} s", name.value, timeout.value, interval.value))
                        .hint("keepalived does not start a script again while it runs: the checks then come further apart than `interval`");
                }
            }
            if ok_name && ok_script {
                scripts.push(TrackScript {
                    name: name.value.clone(),
                    script: script.value.clone(),
                    interval: t.interval.as_ref().map_or(DEFAULT_TRACK_INTERVAL, |i| i.value),
                    timeout: t.timeout.as_ref().map(|x| x.value),
                    fall: t.fall.as_ref().map(|x| x.value),
                    rise: t.rise.as_ref().map(|x| x.value),
                    weight,
                });
            }
        }
        let mut interfaces: Vec<String> = Vec::new();
        for i in &spec.track_interfaces {
            if check_interface(i, "vrrp.track_interfaces[]", d) && !interfaces.contains(&i.value) {
                interfaces.push(i.value.clone());
            }
        }
        let mut path = |s: &Option<crate::yaml::Sp<String>>, key: &str| {
            s.as_ref().filter(|p| check_script_path(p, &format!("vrrp.{key}"), d)).map(|p| p.value.clone())
        };
        let notify = Notify { master: path(&spec.notify_master, "notify_master"), backup: path(&spec.notify_backup, "notify_backup"), fault: path(&spec.notify_fault, "notify_fault") };
        (scripts, interfaces, notify)
    }

    /// With the directors known: a tracked interface that is a director's VRRP interface
    /// (keepalived ignores it, and `keepalived -t` fails), and negative weights too small to
    /// hand the VIPs over.
    pub(super) fn track_with_directors(&mut self, spec: &VrrpSpec, directors: &[Director]) {
        for i in &spec.track_interfaces {
            if let Some(dir) = directors.iter().find(|dir| dir.interface == i.value) {
                self.d.error(i.span.clone(), format!("`{}` is the VRRP interface of `{}`: the instance faults when it fails anyway", i.value, dir.host))
                    .hint("keepalived ignores tracking an instance's own interface (and `keepalived -t` reports it): list only other interfaces");
            }
        }
        let (Some(master), Some(backup)) = (directors.first(), directors.iter().skip(1).map(|d| d.priority).max()) else { return };
        for t in &spec.track_scripts {
            let (Some(name), Some(w)) = (&t.name, &t.weight) else { continue };
            let lowered = master.priority as i64 + w.value;
            if w.value < 0 && lowered >= backup as i64 {
                self.d.warning(w.span.clone(), format!(
                    "when `{}` fails, `{}` drops to priority {lowered}, not below the BACKUP's {backup}: the VIPs stay on it",
                    name.value, master.host
                ))
                .hint(format!("use a weight of -{} or less (or 0, FAULT) so that a failing script hands the VIPs over", master.priority as i64 - backup as i64 + 1));
            }
        }
    }
}
