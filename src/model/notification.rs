//! keepalived's notification email (`directors.notification_email` and its SMTP relay). Kept
//! apart from the directors because it changes nothing on a host but keepalived.conf text
//! (`global_defs`, `smtp_alert`), so it is checked only for what would break that file.

use super::Builder;
use crate::token::check_token;

#[derive(Debug, Clone)]
pub struct Notification {
    pub emails: Vec<String>,
    pub from: String,
    pub smtp_server: String,
    pub smtp_connect_timeout: u64,
}

impl Builder<'_> {
    pub(super) fn notification(&mut self) -> Option<Notification> {
        let spec = self.topo.directors.as_ref()?;
        if spec.notification_email.is_empty() {
            for (key, v) in [("notification_email_from", &spec.notification_email_from), ("smtp_server", &spec.smtp_server)] {
                if let Some(v) = v {
                    self.d.warning(v.span.clone(), format!("`directors.{key}` is ignored without `notification_email`"));
                }
            }
            return None;
        }
        for e in &spec.notification_email {
            if check_token(e, "directors.notification_email", self.d) && !e.value.contains('@') {
                self.d.error(e.span.clone(), format!("`{}` is not an email address", e.value));
            }
        }
        let from = match &spec.notification_email_from {
            Some(f) => {
                check_token(f, "directors.notification_email_from", self.d);
                f.value.clone()
            }
            None => format!("keepalived@{}", spec.hosts.first().map_or("localhost", |h| h.value.as_str())),
        };
        let smtp_server = match &spec.smtp_server {
            Some(s) => {
                check_token(s, "directors.smtp_server", self.d);
                s.value.clone()
            }
            None => {
                self.d.error(spec.span.clone(), "`directors.notification_email` needs `smtp_server`")
                    .hint("set `smtp_server: 127.0.0.1` (or your mail relay)");
                String::new()
            }
        };
        Some(Notification {
            emails: spec.notification_email.iter().map(|e| e.value.clone()).collect(),
            from,
            smtp_server,
            smtp_connect_timeout: spec.smtp_connect_timeout.as_ref().map_or(30, |t| t.value),
        })
    }
}
