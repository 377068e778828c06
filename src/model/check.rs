//! A virtual service's health check, with keepalived's defaults filled in and the keys that
//! a check type ignores reported as warnings.

use super::Builder;
use crate::token::check_token;
use crate::topology::{CheckKind, Protocol};

#[derive(Debug, Clone)]
pub struct Check {
    pub kind: CheckKind,
    pub connect_timeout: u64,
    pub retry: u64,
    pub delay_before_retry: u64,
    pub connect_port: Option<u16>,
    pub path: String,
    pub status_code: u16,
}

impl Builder<'_> {
    pub(super) fn check(&mut self, path: &str, s: &crate::topology::ServiceSpec) -> Check {
        let c = &s.check;
        let kind = c.kind.value;
        let http = matches!(kind, CheckKind::HttpGet | CheckKind::SslGet);
        if kind == CheckKind::None {
            self.d.warning(c.kind.span.clone(), format!("`{path}.check` is `none`: a failed real server keeps receiving traffic"));
        }
        if !http {
            for (key, present) in [("path", c.path.as_ref().map(|p| p.span.clone())), ("status_code", c.status_code.as_ref().map(|p| p.span.clone()))] {
                if let Some(span) = present {
                    self.d.warning(span, format!("`{path}.check.{key}` is ignored by a `{}` check", kind.as_str()));
                }
            }
        }
        if s.protocol.value == Protocol::Udp && kind != CheckKind::None && c.connect_port.is_none() {
            self.d.warning(c.kind.span.clone(), format!(
                "a `{}` check connects over TCP, but service `{}` is UDP", kind.as_str(),
                s.name.as_ref().map_or("", |n| n.value.as_str())
            )).hint("set `connect_port` to a TCP port the real server answers on, or `type: none`");
        }
        let check_path = match &c.path {
            Some(p) => {
                if check_token(p, &format!("{path}.check.path"), self.d) && !p.value.starts_with('/') {
                    self.d.error(p.span.clone(), format!("`{path}.check.path` must start with `/`"));
                }
                p.value.clone()
            }
            None => "/".into(),
        };
        Check {
            kind,
            connect_timeout: c.connect_timeout.as_ref().map_or(3, |v| v.value),
            retry: c.retry.as_ref().map_or(3, |v| v.value),
            delay_before_retry: c.delay_before_retry.as_ref().map_or(3, |v| v.value),
            connect_port: c.connect_port.as_ref().map(|v| v.value as u16),
            path: check_path,
            status_code: c.status_code.as_ref().map_or(200, |v| v.value as u16),
        }
    }
}
