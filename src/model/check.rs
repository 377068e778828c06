//! A virtual service's health check (or one real server's own, which replaces it for that
//! server), with keepalived's defaults filled in and the keys that a check type ignores
//! reported as warnings. An HTTP(S) check has one URL (`path`, `status_code`, `digest`) or
//! several (`urls`), not both.

use super::Builder;
use crate::token::{check_script_path, check_token};
use crate::topology::{CheckKind, Protocol};

#[derive(Debug, Clone)]
pub struct Check {
    pub kind: CheckKind,
    pub connect_timeout: u64,
    pub retry: u64,
    pub delay_before_retry: u64,
    pub connect_port: Option<u16>,
    /// HTTP_GET / SSL_GET: every URL must answer as it says (at least one).
    pub urls: Vec<Url>,
    /// The Host header of every URL that names none itself.
    pub virtualhost: Option<String>,
    /// SSL_GET: send the virtualhost as SNI.
    pub enable_sni: bool,
    /// MISC_CHECK.
    pub misc: Option<Misc>,
    /// UDP_CHECK.
    pub udp: Option<Udp>,
    /// DNS_CHECK.
    pub dns: Option<Dns>,
}

/// keepalived's UDP_CHECK: a datagram to the real server; without `require_reply` only an
/// ICMP port-unreachable fails it (silence passes), with it an answer must come (and match
/// the hex pattern when one is given).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Udp {
    pub payload: Option<String>,
    /// None: no answer needed; Some(""): any answer; Some(hex): an answer matching it.
    pub require_reply: Option<String>,
}

/// keepalived's DNS_CHECK: the real server must answer this query (over UDP); None:
/// keepalived's default (an SOA query for the root).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dns {
    pub query_type: Option<String>,
    pub query_name: Option<String>,
}

/// keepalived's MISC_CHECK: `script REAL_SERVER_ADDRESS PORT`, passing when it exits 0 (with
/// `dynamic`, an exit code of 2..255 also sets the weight to code - 2).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Misc {
    pub script: String,
    pub timeout: Option<u64>,
    pub dynamic: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Url {
    pub path: String,
    /// keepalived's form: `200`, `200-299 301`.
    pub status_code: String,
    pub digest: Option<String>,
    pub virtualhost: Option<String>,
}

impl Builder<'_> {
    /// A warning at each key of `keys` the topology sets.
    fn warn_present(&mut self, keys: &[(&str, Option<crate::diagnostic::Span>)], message: impl Fn(&str) -> String) {
        for (key, span) in keys {
            if let Some(span) = span {
                self.d.warning(span.clone(), message(key));
            }
        }
    }

    /// The check at `path` (`services[i].check` or a real server's own `...real_servers[j].check`).
    pub(super) fn check(&mut self, path: &str, c: &crate::topology::CheckSpec, s: &crate::topology::ServiceSpec) -> Check {
        let kind = c.kind.value;
        let http = matches!(kind, CheckKind::HttpGet | CheckKind::SslGet);
        if kind == CheckKind::None {
            self.d.warning(c.kind.span.clone(), format!("`{path}.check` is `none`: a failed real server keeps receiving traffic"));
        }
        if !http {
            let spans = [
                ("path", c.path.as_ref().map(|p| p.span.clone())),
                ("status_code", c.status_code.as_ref().map(|p| p.span.clone())),
                ("digest", c.digest.as_ref().map(|p| p.span.clone())),
                ("virtualhost", c.virtualhost.as_ref().map(|p| p.span.clone())),
                ("urls", c.urls.first().map(|u| u.span.clone())),
            ];
            self.warn_present(&spans, |key| format!("`{path}.check.{key}` is ignored by a `{}` check", kind.as_str()));
        }
        let misc_keys = [
            ("script", c.script.as_ref().map(|p| p.span.clone())),
            ("timeout", c.timeout.as_ref().map(|p| p.span.clone())),
            ("dynamic", c.dynamic.as_ref().map(|p| p.span.clone())),
        ];
        if kind != CheckKind::Misc {
            self.warn_present(&misc_keys, |key| format!("`{path}.check.{key}` is for `misc` checks only"));
        } else {
            let connect = [("connect_timeout", c.connect_timeout.as_ref().map(|p| p.span.clone())), ("connect_port", c.connect_port.as_ref().map(|p| p.span.clone()))];
            self.warn_present(&connect, |key| format!("`{path}.check.{key}` is ignored by a `misc` check (its script connects itself; `timeout` bounds it)"));
        }
        let misc = match (kind, &c.script) {
            (CheckKind::Misc, Some(script)) => check_script_path(script, &format!("{path}.check.script"), self.d).then(|| Misc {
                script: script.value.clone(),
                timeout: c.timeout.as_ref().map(|t| t.value),
                dynamic: c.dynamic.as_ref().is_some_and(|d| d.value),
            }),
            (CheckKind::Misc, None) => {
                self.d.error(c.kind.span.clone(), format!("a `misc` check needs `{path}.check.script`"))
                    .hint("the path of an executable: keepalived runs it with the real server's address and port as arguments, exit 0 = healthy");
                None
            }
            _ => None,
        };
        let (udp, dns) = self.udp_dns(path, c, s);
        if let (Some(sni), false) = (&c.enable_sni, kind == CheckKind::SslGet) {
            self.d.warning(sni.span.clone(), format!("`{path}.check.enable_sni` is for `ssl_get` checks only"));
        }
        if s.protocol.value == Protocol::Udp && !matches!(kind, CheckKind::None | CheckKind::Misc | CheckKind::Udp | CheckKind::Dns) && c.connect_port.is_none() {
            self.d.warning(c.kind.span.clone(), format!(
                "a `{}` check connects over TCP, but service `{}` is UDP", kind.as_str(),
                s.name.as_ref().map_or("", |n| n.value.as_str())
            )).hint("set `connect_port` to a TCP port the real server answers on, or use a `misc` check (a script that queries the UDP service)");
        }
        let url_path = |p: &crate::yaml::Sp<String>, what: &str, d: &mut crate::diagnostic::Diagnostics| {
            if check_token(p, what, d) && !p.value.starts_with('/') {
                d.error(p.span.clone(), format!("`{what}` must start with `/`"));
            }
            p.value.clone()
        };
        let host = |h: &Option<crate::yaml::Sp<String>>, what: &str, d: &mut crate::diagnostic::Diagnostics| {
            h.as_ref().filter(|h| check_token(h, what, d)).map(|h| h.value.clone())
        };
        let mut urls = Vec::new();
        if c.urls.is_empty() {
            urls.push(Url {
                path: c.path.as_ref().map_or_else(|| "/".into(), |p| url_path(p, &format!("{path}.check.path"), self.d)),
                status_code: c.status_code.as_ref().map_or_else(|| "200".into(), |s| s.value.clone()),
                digest: c.digest.as_ref().map(|g| g.value.clone()),
                virtualhost: None,
            });
        } else {
            for (key, span) in [("path", c.path.as_ref().map(|p| p.span.clone())), ("status_code", c.status_code.as_ref().map(|p| p.span.clone())), ("digest", c.digest.as_ref().map(|p| p.span.clone()))] {
                if let Some(span) = span {
                    self.d.error(span, format!("`{path}.check.{key}` and `{path}.check.urls` together"))
                        .hint("with `urls`, give each URL its own path, status_code and digest");
                }
            }
            for (i, u) in c.urls.iter().enumerate() {
                let at = format!("{path}.check.urls[{i}]");
                let Some(p) = &u.path else { continue };
                urls.push(Url {
                    path: url_path(p, &format!("{at}.path"), self.d),
                    status_code: u.status_code.as_ref().map_or_else(|| "200".into(), |s| s.value.clone()),
                    digest: u.digest.as_ref().map(|g| g.value.clone()),
                    virtualhost: host(&u.virtualhost, &format!("{at}.virtualhost"), self.d),
                });
            }
        }
        Check {
            kind,
            connect_timeout: c.connect_timeout.as_ref().map_or(3, |v| v.value),
            retry: c.retry.as_ref().map_or(3, |v| v.value),
            delay_before_retry: c.delay_before_retry.as_ref().map_or(3, |v| v.value),
            connect_port: c.connect_port.as_ref().map(|v| v.value as u16),
            urls,
            virtualhost: host(&c.virtualhost, &format!("{path}.check.virtualhost"), self.d),
            enable_sni: c.enable_sni.as_ref().is_some_and(|e| e.value) && kind == CheckKind::SslGet,
            misc,
            udp,
            dns,
        }
    }

    /// The `udp` and `dns` parts of a check; their keys on another check type are warned about.
    fn udp_dns(&mut self, path: &str, c: &crate::topology::CheckSpec, s: &crate::topology::ServiceSpec) -> (Option<Udp>, Option<Dns>) {
        let kind = c.kind.value;
        if kind != CheckKind::Udp {
            let keys = [("payload", c.payload.as_ref().map(|p| p.span.clone())), ("require_reply", c.require_reply.as_ref().map(|p| p.span.clone()))];
            self.warn_present(&keys, |key| format!("`{path}.check.{key}` is for `udp` checks only"));
        }
        if kind != CheckKind::Dns {
            let keys = [("query_type", c.query_type.as_ref().map(|p| p.span.clone())), ("query_name", c.query_name.as_ref().map(|p| p.span.clone()))];
            self.warn_present(&keys, |key| format!("`{path}.check.{key}` is for `dns` checks only"));
        }
        match kind {
            CheckKind::Udp => {
                if s.protocol.value == Protocol::Tcp && c.connect_port.is_none() {
                    self.d.warning(c.kind.span.clone(), format!(
                        "a `udp` check sends datagrams, but service `{}` is TCP: it probes UDP port {} of each real server",
                        s.name.as_ref().map_or("", |n| n.value.as_str()), s.port.as_ref().map_or(0, |p| p.value)
                    )).hint("use a `tcp` check for a TCP service, or set `connect_port` to the UDP port to probe");
                }
                (Some(Udp { payload: c.payload.as_ref().map(|p| p.value.clone()), require_reply: c.require_reply.as_ref().map(|r| r.value.clone()) }), None)
            }
            CheckKind::Dns => (None, Some(Dns {
                query_type: c.query_type.as_ref().map(|t| t.value.clone()),
                query_name: c.query_name.as_ref().map(|n| n.value.clone()),
            })),
            _ => (None, None),
        }
    }
}
