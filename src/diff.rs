//! Unified diffs of file contents, masked: the text shown to people and CI logs.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use crate::plan::Secrets;

/// A unified diff (3 lines of context) of `old` -> `new`, with every secret masked. When
/// the only difference is a secret, the diff says so instead of showing two masked lines.
pub fn unified(path: &str, old: &str, new: &str, created: bool, deleted: bool, secrets: &Secrets) -> String {
    let (old_m, new_m) = (secrets.mask(old), secrets.mask(new));
    let from = if created { "/dev/null".to_string() } else { format!("a{path}") };
    let to = if deleted { "/dev/null".to_string() } else { format!("b{path}") };
    if old_m == new_m && old != new {
        return format!("--- {from}\n+++ {to}\n@@ secret value changed (masked) @@\n");
    }
    if old_m.is_empty() || new_m.is_empty() {
        // A whole file added or removed: every line, no diff algorithm needed.
        let (text, sign) = if old_m.is_empty() { (&new_m, '+') } else { (&old_m, '-') };
        let n = text.lines().count();
        if n == 0 {
            return String::new();
        }
        let range = if sign == '+' { format!("-0,0 +1,{n}") } else { format!("-1,{n} +0,0") };
        let mut out = String::with_capacity(text.len() + 3 * n + 64);
        let _ = writeln!(out, "--- {from}\n+++ {to}\n@@ {range} @@");
        for line in text.lines() {
            out.push(sign);
            out.push_str(line);
            out.push('\n');
        }
        return out;
    }
    let diff = TextDiff::from_lines(&old_m, &new_m);
    let mut out = String::new();
    let _ = write!(out, "{}", diff.unified_diff().context_radius(3).header(&from, &to).missing_newline_hint(false));
    out
}

/// Count of added and removed lines in a unified diff text.
pub fn stat(diff: &str) -> (usize, usize) {
    let mut add = 0;
    let mut del = 0;
    for l in diff.lines() {
        if l.starts_with("+++") || l.starts_with("---") {
            continue;
        }
        if l.starts_with('+') {
            add += 1;
        } else if l.starts_with('-') {
            del += 1;
        }
    }
    (add, del)
}

pub fn tag_of(line: &str) -> ChangeTag {
    match line.chars().next() {
        Some('+') if !line.starts_with("+++") => ChangeTag::Insert,
        Some('-') if !line.starts_with("---") => ChangeTag::Delete,
        _ => ChangeTag::Equal,
    }
}
