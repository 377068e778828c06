//! The one place that draws results for people: diagnostics, plans, summaries.
//!
//! Colors only on a terminal (or `--color always`); plain text in pipes and CI so logs and
//! snapshot tests stay readable. Secrets never get here unmasked: changes carry masked diffs.

use std::fmt::Write;

use console::style;

use crate::changes::{Change, FileAction, HostChanges, ServiceAction};
use crate::diagnostic::{Diagnostics, Severity};
use crate::diff::{stat, tag_of};

pub fn diagnostics(d: &Diagnostics) -> String {
    let mut out = String::new();
    for diag in d.sorted() {
        let level = match diag.severity {
            Severity::Error => style("error").red().bold(),
            Severity::Warning => style("warning").yellow().bold(),
        };
        let _ = write!(out, "{}: {level}: {}", style(&diag.span).bold(), diag.message);
        if let Some(h) = &diag.hint {
            let _ = write!(out, "\n  {} {h}", style("hint:").cyan());
        }
        out.push('\n');
    }
    out
}

/// A unified diff with + lines green and - lines red, indented under its change.
pub fn colored_diff(diff: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let styled = if line.starts_with("@@") {
            style(line).cyan().to_string()
        } else {
            match tag_of(line) {
                similar::ChangeTag::Insert => style(line).green().to_string(),
                similar::ChangeTag::Delete => style(line).red().to_string(),
                similar::ChangeTag::Equal => line.to_string(),
            }
        };
        let _ = writeln!(out, "{indent}{styled}");
    }
    out
}

fn sigil(c: &Change) -> console::StyledObject<&'static str> {
    match c {
        Change::File { action: FileAction::Create, .. } | Change::AddressAdd { .. } | Change::RouteAdd { .. } => style("+").green(),
        Change::File { action: FileAction::Delete, .. } | Change::AddressRemove { .. } | Change::RouteRemove { .. } => style("-").red(),
        _ => style("~").yellow(),
    }
}

pub fn change_line(c: &Change) -> String {
    match c {
        Change::File { path, action, mode, old_mode, diff, .. } => {
            let (add, del) = stat(diff);
            let what = match action {
                FileAction::Create => format!("create {path} (mode {mode:04o}, +{add} lines)"),
                FileAction::Update => match old_mode {
                    Some(old) => format!("update {path} (mode {old:04o} -> {mode:04o}, +{add} -{del})"),
                    None => format!("update {path} (+{add} -{del})"),
                },
                FileAction::Delete => format!("delete {path} (no longer in the topology)"),
            };
            format!("{} file {what}", sigil(c))
        }
        Change::Sysctl { key, from, to } => match from {
            Some(from) => format!("{} sysctl {key} {from} -> {to}", sigil(c)),
            None => format!("{} sysctl {key} = {to}", sigil(c)),
        },
        Change::AddressAdd { address } | Change::AddressRemove { address } => format!("{} addr {address}", sigil(c)),
        Change::RouteAdd { route } | Change::RouteRemove { route } => {
            format!("{} route {} via {} dev {}", sigil(c), route.destination, route.via, route.dev)
        }
        Change::NatRules { chains } => format!("{} iptables nat: load chains {}", sigil(c), chains.join(", ")),
        Change::Service { name, action } => format!("{} service {name} {}", sigil(c), action_word(*action)),
        Change::IpvsTable { service, action, .. } => {
            let how = match service.as_str() {
                "keepalived" => "a reload would leave the kernel's table as it is",
                "ipvsadm" => "ipvsadm-restore clears the table and loads the rules file",
                _ => "",
            };
            format!("{} service {service} {}: the IPVS table drifted from the topology ({how})", sigil(c), action_word(*action))
        }
    }
}

fn action_word(action: ServiceAction) -> &'static str {
    match action {
        ServiceAction::Start => "start",
        ServiceAction::Reload => "reload",
        ServiceAction::Restart => "restart",
    }
}

pub fn host_changes(h: &HostChanges, with_diffs: bool) -> String {
    let mut out = String::new();
    let roles: Vec<&str> = h.roles.iter().map(|r| r.as_str()).collect();
    let status = if h.changes.is_empty() { style("no changes").dim().to_string() } else { format!("{} change(s)", h.changes.len()) };
    let _ = writeln!(out, "{} ({}): {status}", style(&h.host).bold(), roles.join(", "));
    for c in &h.changes {
        let _ = writeln!(out, "  {}", change_line(c));
        match (with_diffs, c) {
            (true, Change::File { diff, .. }) => out.push_str(&colored_diff(diff, "      ")),
            (true, Change::IpvsTable { differences, .. }) => {
                for d in differences {
                    let _ = writeln!(out, "      {d}");
                }
            }
            _ => {}
        }
    }
    out
}

/// A host's whole block in plan, apply and rollback output: why it could not be inspected,
/// or its changes (with diffs) and warnings; then a blank line.
pub fn host_block(h: &HostChanges, warnings: &[String], error: Option<&String>) -> String {
    let mut out = match error {
        Some(e) => {
            let roles: Vec<&str> = h.roles.iter().map(|r| r.as_str()).collect();
            format!("{} ({}): {} {e}\n", style(&h.host).bold(), roles.join(", "), style("UNREACHABLE:").red().bold())
        }
        None => host_changes(h, true),
    };
    for w in warnings {
        let _ = writeln!(out, "  {} {w}", style("warning:").yellow().bold());
    }
    out.push('\n');
    out
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Summary {
    pub hosts: usize,
    pub hosts_changed: usize,
    pub files_create: usize,
    pub files_update: usize,
    pub files_delete: usize,
    pub runtime: usize,
}

impl Summary {
    pub fn of(hosts: &[HostChanges]) -> Summary {
        let mut s = Summary { hosts: hosts.len(), ..Default::default() };
        for h in hosts {
            if !h.changes.is_empty() {
                s.hosts_changed += 1;
            }
            for c in &h.changes {
                match c {
                    Change::File { action: FileAction::Create, .. } => s.files_create += 1,
                    Change::File { action: FileAction::Update, .. } => s.files_update += 1,
                    Change::File { action: FileAction::Delete, .. } => s.files_delete += 1,
                    _ => s.runtime += 1,
                }
            }
        }
        s
    }

    pub fn total(&self) -> usize {
        self.files_create + self.files_update + self.files_delete + self.runtime
    }

    pub fn line(&self) -> String {
        if self.total() == 0 {
            return format!("No changes: {} host(s) match the topology.", self.hosts);
        }
        format!(
            "Plan: {} of {} host(s) to change: {} file(s) to create, {} to update, {} to delete; {} runtime change(s).",
            self.hosts_changed, self.hosts, self.files_create, self.files_update, self.files_delete, self.runtime
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Role;

    /// A drifted IPVS table: the action that fixes it, why, then each difference.
    #[test]
    fn ipvs_drift_is_drawn_with_its_fix_and_differences() {
        console::set_colors_enabled(false);
        let h = HostChanges {
            host: "lvs1".into(),
            roles: vec![Role::MasterDirector],
            changes: vec![Change::IpvsTable {
                service: "keepalived".into(),
                action: ServiceAction::Restart,
                differences: vec!["TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)".into()],
            }],
        };
        assert_eq!(
            host_changes(&h, true),
            "lvs1 (master director): 1 change(s)\n  \
             ~ service keepalived restart: the IPVS table drifted from the topology (a reload would leave the kernel's table as it is)\n      \
             TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)\n"
        );
        let reload = Change::IpvsTable { service: "ipvsadm".into(), action: ServiceAction::Reload, differences: vec![] };
        assert_eq!(change_line(&reload), "~ service ipvsadm reload: the IPVS table drifted from the topology (ipvsadm-restore clears the table and loads the rules file)");
        assert_eq!(Summary::of(&[h]).runtime, 1);
    }
}
