//! The one place that draws results for people: diagnostics, plans, summaries.
//!
//! Colors only on a terminal (or `--color always`); plain text in pipes and CI so logs and
//! snapshot tests stay readable. Changes are data: diffs are drawn here from their contents
//! before and after, masked with the host's `Secrets` (a secret never reaches the output).

pub mod progress;
mod results;
mod history;
pub mod status;

pub use history::history;
pub use results::{apply_results, rollback_results};

use std::fmt::Write;

use console::style;

use crate::changes::{Change, FileAction, FileChange, HostChanges, ServiceAction};
use crate::diagnostic::{Diagnostics, Severity};
use crate::diff::{stat, tag_of, unified};
use crate::plan::{Address, Route, Secrets};

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
        Change::File(FileChange { action: FileAction::Create, .. }) | Change::AddressAdd { .. } | Change::RouteAdd { .. } | Change::Boot { enable: true, .. } => style("+").green(),
        Change::File(FileChange { action: FileAction::Delete, .. }) | Change::AddressRemove { .. } | Change::RouteRemove { .. } | Change::Boot { enable: false, .. } | Change::ChainsRemove { .. } => style("-").red(),
        _ => style("~").yellow(),
    }
}

/// The unified diff of a file change, secrets masked.
pub fn file_diff(f: &FileChange, secrets: &Secrets) -> String {
    let text = |c: &Option<crate::changes::Content>| c.as_ref().map_or("", |c| c.text.as_str()).to_string();
    unified(&f.path, &text(&f.before), &text(&f.after), f.action == FileAction::Create, f.action == FileAction::Delete, secrets)
}

/// The tables of lvsctl's chains (`nat`, `mangle:LVSCTL-FWMARK` -> `nat, mangle`).
/// `iptables nat`, `iptables nat, mangle`, `ip6tables nat`: the tools and tables of chains as
/// the plan names them (bare: nat; `mangle:X`; `ip6-nat:X`: ip6tables' nat).
fn tables(chains: &[String]) -> String {
    let mut by_tool: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in chains {
        let table = c.split_once(':').map_or("nat", |(t, _)| t);
        let (tool, table) = match table.strip_prefix(crate::plan::router::IP6_PREFIX) {
            Some(t6) => ("ip6tables", t6),
            None => ("iptables", table),
        };
        match by_tool.iter_mut().find(|(t, _)| *t == tool) {
            Some((_, ts)) if !ts.contains(&table) => ts.push(table),
            Some(_) => {}
            None => by_tool.push((tool, vec![table])),
        }
    }
    by_tool.iter().map(|(tool, ts)| format!("{tool} {}", ts.join(", "))).collect::<Vec<_>>().join("; ")
}

pub fn change_line(c: &Change, secrets: &Secrets) -> String {
    match c {
        Change::File(f) => {
            let FileChange { path, action, mode, old_mode, .. } = f;
            let (add, del) = stat(&file_diff(f, secrets));
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
        Change::NatRules { chains, .. } => format!("{} {}: load chains {}", sigil(c), tables(chains), chains.join(", ")),
        Change::ChainsRemove { chains } => format!("{} {}: remove chains {}", sigil(c), tables(chains), chains.join(", ")),
        Change::Service { name, action, .. } => format!("{} service {name} {}", sigil(c), action.as_str()),
        Change::Drain { targets, timeout_s } => {
            let what: Vec<String> = targets.iter().map(|t| format!("{} of {}", t.real_server, t.service)).collect();
            format!("{} drain {} first: weight 0, then up to {timeout_s} s for its active connections to end (--no-drain skips)", sigil(c), what.join(", "))
        }
        Change::Boot { unit, enable: true } => format!("{} boot: enable {unit}", sigil(c)),
        Change::Boot { unit, enable: false } => format!("{} boot: disable {unit} (no longer in the topology)", sigil(c)),
        Change::IpvsTable { service, action, .. } => {
            let how = match service.as_str() {
                "keepalived" => "a reload would leave the kernel's table as it is",
                "ipvsadm" => "ipvsadm-restore clears the table and loads the rules file",
                _ => "",
            };
            format!("{} service {service} {}: the IPVS table drifted from the topology ({how})", sigil(c), action.as_str())
        }
    }
}

/// A change as `--json` shows it: a file change with its masked diff, never its content.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeView<'a> {
    File {
        path: &'a str,
        action: FileAction,
        mode: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_mode: Option<u32>,
        /// Unified diff with secrets masked.
        diff: String,
        secret: bool,
    },
    Sysctl { key: &'a str, from: Option<&'a str>, to: &'a str },
    AddressAdd { address: &'a Address },
    AddressRemove { address: &'a Address },
    RouteAdd { route: &'a Route },
    RouteRemove { route: &'a Route },
    NatRules { chains: &'a [String] },
    ChainsRemove { chains: &'a [String] },
    Service { name: &'a str, action: ServiceAction },
    Boot { unit: &'a str, enable: bool },
    IpvsTable { service: &'a str, action: ServiceAction, differences: &'a [String] },
    Drain { targets: &'a [crate::changes::drain::DrainTarget], timeout_s: u64 },
}

pub fn change_views(h: &HostChanges) -> Vec<ChangeView<'_>> {
    h.changes
        .iter()
        .map(|c| match c {
            Change::File(f) => ChangeView::File { path: &f.path, action: f.action, mode: f.mode, old_mode: f.old_mode, diff: file_diff(f, &h.secrets), secret: f.secret },
            Change::Sysctl { key, from, to } => ChangeView::Sysctl { key, from: from.as_deref(), to },
            Change::AddressAdd { address } => ChangeView::AddressAdd { address },
            Change::AddressRemove { address } => ChangeView::AddressRemove { address },
            Change::RouteAdd { route } => ChangeView::RouteAdd { route },
            Change::RouteRemove { route } => ChangeView::RouteRemove { route },
            Change::NatRules { chains, .. } => ChangeView::NatRules { chains },
            Change::ChainsRemove { chains } => ChangeView::ChainsRemove { chains },
            Change::Service { name, action, .. } => ChangeView::Service { name, action: *action },
            Change::Boot { unit, enable } => ChangeView::Boot { unit, enable: *enable },
            Change::IpvsTable { service, action, differences, .. } => ChangeView::IpvsTable { service, action: *action, differences },
            Change::Drain { targets, timeout_s } => ChangeView::Drain { targets, timeout_s: *timeout_s },
        })
        .collect()
}

pub fn host_changes(h: &HostChanges, with_diffs: bool) -> String {
    let mut out = String::new();
    let roles: Vec<&str> = h.roles.iter().map(|r| r.as_str()).collect();
    let status = if h.changes.is_empty() { style("no changes").dim().to_string() } else { format!("{} change(s)", h.changes.len()) };
    let _ = writeln!(out, "{} ({}): {status}", style(&h.host).bold(), roles.join(", "));
    if let (Some(p), false) = (&h.persistence, h.changes.is_empty()) {
        let _ = writeln!(out, "  {}", style(format!("persistence: {}", p.describe())).dim());
    }
    if let Some(why) = h.vrrp_adverts_change() {
        let _ = writeln!(out, "  {}", style(format!("rollout: reloaded together with the other directors ({why} of its VRRP adverts change; one after the other, the BACKUP would drop the MASTER's adverts and take over)")).yellow());
    }
    for c in &h.changes {
        let _ = writeln!(out, "  {}", change_line(c, &h.secrets));
        match (with_diffs, c) {
            (true, Change::File(f)) => out.push_str(&colored_diff(&file_diff(f, &h.secrets), "      ")),
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
pub fn host_block(h: &HostChanges, warnings: &[String], error: Option<&dyn std::fmt::Display>) -> String {
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
                    Change::File(f) if f.action == FileAction::Create => s.files_create += 1,
                    Change::File(f) if f.action == FileAction::Update => s.files_update += 1,
                    Change::File(_) => s.files_delete += 1,
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
                rules_file: None,
                differences: vec!["TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)".into()],
            }],
            ..HostChanges::default()
        };
        assert_eq!(
            host_changes(&h, true),
            "lvs1 (master director): 1 change(s)\n  \
             ~ service keepalived restart: the IPVS table drifted from the topology (a reload would leave the kernel's table as it is)\n      \
             TCP 10.77.0.100:80 wlc: scheduler rr (want wlc)\n"
        );
        let reload = Change::IpvsTable { service: "ipvsadm".into(), action: ServiceAction::Reload, rules_file: None, differences: vec![] };
        assert_eq!(change_line(&reload, &Secrets::default()), "~ service ipvsadm reload: the IPVS table drifted from the topology (ipvsadm-restore clears the table and loads the rules file)");
        assert_eq!(Summary::of(&[h]).runtime, 1);
    }
}
