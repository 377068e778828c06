//! The virtual-server options that keepalived checks against one another: persistence
//! granularity, one-packet scheduling, quorum and hysteresis, alpha/omega, inhibit_on_failure
//! (all refused with `engine: ipvsadm`). Here so that what `keepalived -t` would reject is
//! reported at the key that causes it.

use std::net::Ipv4Addr;

use super::{Builder, RealServer, SorryServer};
use crate::token::check_script_path;
use crate::topology::{CheckKind, Engine, Protocol, ServiceSpec};
use crate::yaml::Sp;

/// What `Builder::service_options` returns, to be put in the `VirtualService`.
pub(super) struct ServiceOptions {
    pub(super) persistence_granularity: Option<Ipv4Addr>,
    pub(super) ops: bool,
    pub(super) alpha: bool,
    pub(super) omega: bool,
    pub(super) inhibit_on_failure: bool,
    pub(super) quorum: Option<u64>,
    pub(super) hysteresis: Option<u64>,
    pub(super) quorum_up: Option<String>,
    pub(super) quorum_down: Option<String>,
    pub(super) sorry_server: Option<SorryServer>,
}

impl Builder<'_> {
    /// The virtual-server options beyond address, scheduler and checks: persistence
    /// granularity, one-packet scheduling, keepalived's quorum, sorry server, alpha/omega and
    /// inhibit_on_failure. Each is checked against the keys it depends on, and against what
    /// `keepalived -t` refuses (a quorum above the real servers' total weight, a hysteresis
    /// not below the quorum, a sorry server on another port outside NAT, ...).
    pub(super) fn service_options(&mut self, path: &str, name: &str, s: &ServiceSpec, real_servers: &[RealServer]) -> ServiceOptions {
        let engine = self.topo.directors.as_ref().map_or(Engine::Keepalived, |d| d.engine.value);
        let flag = |f: &Option<Sp<bool>>| f.as_ref().is_some_and(|f| f.value);
        if let (Some(g), None) = (&s.persistence_granularity, &s.persistence_timeout) {
            self.d.error(g.span.clone(), format!("`{path}.persistence_granularity` needs `persistence_timeout`"))
                .hint("set `persistence_timeout: SECONDS` (keepalived would silently make the service persistent for 360 s)");
        }
        if let (Some(o), Protocol::Tcp) = (&s.ops, s.protocol.value) {
            if o.value {
                self.d.error(o.span.clone(), format!("`{path}.ops` (one-packet scheduling) works only for UDP, but service `{name}` is TCP"))
                    .hint("remove `ops`, or set `protocol: udp` (keepalived turns it off for TCP and `keepalived -t` fails)");
            }
        }
        if engine == Engine::Ipvsadm {
            let rs_inhibit = s.real_servers.iter().filter_map(|r| r.inhibit_on_failure.as_ref().map(|i| ("real_servers[].inhibit_on_failure", i.span.clone())));
            let keys = [
                ("alpha", s.alpha.as_ref().map(|v| v.span.clone())),
                ("omega", s.omega.as_ref().map(|v| v.span.clone())),
                ("inhibit_on_failure", s.inhibit_on_failure.as_ref().map(|v| v.span.clone())),
                ("quorum", s.quorum.as_ref().map(|v| v.span.clone())),
                ("hysteresis", s.hysteresis.as_ref().map(|v| v.span.clone())),
                ("quorum_up", s.quorum_up.as_ref().map(|v| v.span.clone())),
                ("quorum_down", s.quorum_down.as_ref().map(|v| v.span.clone())),
                ("sorry_server", s.sorry_server.as_ref().map(|v| v.span.clone())),
                ("sorry_server_inhibit", s.sorry_server_inhibit.as_ref().map(|v| v.span.clone())),
                ("sorry_server_lvs_method", s.sorry_server_lvs_method.as_ref().map(|v| v.span.clone())),
            ];
            for (key, span) in keys.into_iter().filter_map(|(k, sp)| sp.map(|sp| (k, sp))).chain(rs_inhibit) {
                self.d.error(span, format!("`{path}.{key}` needs `engine: keepalived`"))
                    .hint("plain ipvsadm rules have no health checks, so no quorum, sorry server, alpha/omega or inhibit_on_failure");
            }
        } else {
            self.quorum(path, name, s);
        }
        if s.check.kind.value == CheckKind::None {
            for (key, f) in [("alpha", &s.alpha), ("inhibit_on_failure", &s.inhibit_on_failure)] {
                if let Some(f) = f.as_ref().filter(|f| f.value) {
                    self.d.warning(f.span.clone(), format!("`{path}.{key}` has no effect with `check: {{ type: none }}`: nothing ever marks a real server down"));
                }
            }
        }
        let quorum_script = |b: &mut Self, key: &str, v: &Option<Sp<String>>| {
            v.as_ref().filter(|p| check_script_path(p, &format!("{path}.{key}"), b.d)).map(|p| p.value.clone())
        };
        let quorum_up = quorum_script(self, "quorum_up", &s.quorum_up);
        let quorum_down = quorum_script(self, "quorum_down", &s.quorum_down);
        let inhibit_on_failure = flag(&s.inhibit_on_failure);
        let sorry_server = self.sorry_server(path, s, inhibit_on_failure, real_servers);
        ServiceOptions {
            persistence_granularity: s.persistence_granularity.as_ref().map(|g| g.value),
            ops: flag(&s.ops),
            alpha: flag(&s.alpha),
            omega: flag(&s.omega),
            inhibit_on_failure,
            quorum: s.quorum.as_ref().map(|q| q.value),
            hysteresis: s.hysteresis.as_ref().map(|h| h.value),
            quorum_up,
            quorum_down,
            sorry_server,
        }
    }

    /// keepalived refuses a quorum above the real servers' total weight and a hysteresis not
    /// below the quorum (it "corrects" both with a config error, so `keepalived -t` fails).
    /// The total is taken from the topology, so a real server missing from the inventory does
    /// not add a second, misleading error.
    fn quorum(&mut self, path: &str, name: &str, s: &ServiceSpec) {
        let total: u64 = s.real_servers.iter().filter(|r| r.host.is_some()).map(|r| r.weight.as_ref().map_or(1, |w| w.value)).sum();
        let quorum = s.quorum.as_ref().map_or(1, |q| q.value);
        if quorum > total {
            match &s.quorum {
                Some(q) => {
                    self.d.error(q.span.clone(), format!(
                        "`{path}.quorum` is {quorum}, more than the total weight {total} of the real servers of `{name}`"
                    )).hint("the quorum is the summed weight of the live real servers, so this service could never be up (keepalived -t refuses it)");
                }
                None if !s.real_servers.is_empty() => {
                    self.d.error(s.real_servers_span.clone(), format!("every real server of service `{name}` has weight 0"))
                        .hint("keepalived refuses a virtual server whose real servers weigh less than its quorum (1): keep one real server with a weight, or remove the service");
                }
                None => {} // no real servers: reported with the service
            }
        }
        if let Some(h) = &s.hysteresis {
            if h.value >= quorum {
                self.d.error(h.span.clone(), format!("`{path}.hysteresis` is {}; it must be less than the quorum {quorum}", h.value))
                    .hint("the service goes up at quorum + hysteresis and down below quorum - hysteresis (keepalived -t refuses a larger one)");
            }
        }
    }
}
