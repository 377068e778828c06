//! `lvsctl history`: each host's generations, the current one marked.

use std::fmt::Write;

use console::style;

use crate::apply::history::HostGenerations;

pub fn history(rows: &[HostGenerations]) -> String {
    let mut out = String::new();
    for r in rows {
        match (&r.error, r.generations.is_empty()) {
            (Some(e), _) => {
                let _ = writeln!(out, "{}: {} {e}", style(&r.host).bold(), style("UNREACHABLE:").red().bold());
            }
            (None, true) => {
                let _ = writeln!(out, "{}: no generations (lvsctl never applied here)", style(&r.host).bold());
            }
            (None, false) => {
                let _ = writeln!(out, "{}:", style(&r.host).bold());
                for g in &r.generations {
                    let mark = if Some(g.number) == r.current { "*" } else { " " };
                    let _ = writeln!(out, "  {mark} {:>4}  {:<12} {}  {}", g.number, g.status, g.time, g.holder);
                }
            }
        }
    }
    out.push_str("(* = the generation the host is at)\n");
    out
}
