//! How apply and rollback end: one line per host with its outcome, and the count.

use std::fmt::Write;

use console::style;

use crate::apply::{HostResult, Outcome};

/// `apply`'s result table: host, roles, outcome (green applied, dim untouched, red failed),
/// then how many hosts changed, failed, or were left as they were.
pub fn apply_results(results: &[HostResult]) -> String {
    let mut out = String::from("\nResult:\n");
    for r in results {
        let text = r.outcome.describe();
        let styled = match r.outcome {
            Outcome::Applied { .. } => style(text).green(),
            Outcome::Unchanged | Outcome::Skipped => style(text).dim(),
            _ => style(text).red().bold(),
        };
        let roles: Vec<&str> = r.roles.iter().map(|x| x.as_str()).collect();
        let _ = writeln!(out, "  {:<12} {:<26} {styled}", r.host, roles.join(", "));
    }
    let failed = results.iter().filter(|r| r.outcome.is_failure()).count();
    let applied = results.iter().filter(|r| matches!(r.outcome, Outcome::Applied { .. })).count();
    let _ = writeln!(out, "{applied} host(s) changed, {failed} failed, {} unchanged or skipped.", results.len() - applied - failed);
    out
}

/// `rollback`'s result lines: host and outcome.
pub fn rollback_results(results: &[HostResult]) -> String {
    let mut out = String::from("\nResult:\n");
    for r in results {
        let _ = writeln!(out, "  {:<12} {}", r.host, r.outcome.describe());
    }
    out
}
