//! Diagnostics: every user-facing problem with the topology or inventory.
//!
//! Validation never stops at the first problem: each stage pushes `Diagnostic`s into one
//! `Diagnostics` list, and the command prints them all at once, sorted by file and position,
//! in the `file:line:column: error: message` shape editors understand. A diagnostic always
//! says what is wrong and, where we know it, how to fix it (`hint`).

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file (1-based). `line == 0` means the position is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

/// Where a diagnostic points: a file and, when known, a position in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub file: PathBuf,
    pub pos: Pos,
}

impl Span {
    pub fn new(file: &Path, pos: Pos) -> Self {
        Span { file: file.to_path_buf(), pos }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line == 0 {
            write!(f, "{}", self.file.display())
        } else {
            write!(f, "{}:{}:{}", self.file.display(), self.pos.line, self.pos.column)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {}: {}", self.span, level, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// The problems found so far, in the order they were found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Error, span, message)
    }

    pub fn warning(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.push(Severity::Warning, span, message)
    }

    fn push(&mut self, severity: Severity, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.items.push(Diagnostic { severity, span, message: message.into(), hint: None });
        self.items.last_mut().expect("just pushed")
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity == Severity::Error).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.iter().filter(|d| d.severity == Severity::Warning).count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All diagnostics, sorted by file and position so output is stable.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by(|a, b| a.span.cmp(&b.span).then(a.severity.cmp(&b.severity)));
        v.dedup_by(|a, b| a == b);
        v
    }
}

impl Diagnostic {
    pub fn hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Edit distance, for "did you mean" suggestions on unknown keys and names.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // A word that is the start of exactly one candidate (`http` -> `http_get`) means it.
    let prefixed: Vec<&'a str> = candidates.iter().copied().filter(|c| word.len() >= 3 && c.starts_with(word)).collect();
    if prefixed.len() == 1 {
        return Some(prefixed[0]);
    }
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["scheduler", "persistence_timeout", "delay_loop"];
        assert_eq!(did_you_mean("schedular", keys), Some("scheduler"));
        assert_eq!(did_you_mean("delayloop", keys), Some("delay_loop"));
        assert_eq!(did_you_mean("zzz", keys), None);
        assert_eq!(did_you_mean("http", ["tcp", "http_get", "ssl_get", "none"]), Some("http_get"));
    }
}
