//! The one line protocol of every remote script, and its one reader.
//!
//! A script answers in records, one a line: `@@lvsctl KIND ARGS`. A record may be followed by
//! body lines (base64 of a file, `ipvsadm -Ln` verbatim), which run up to the next record; no
//! body line can start with `@@lvsctl ` (base64 cannot, and the scripts only pass through
//! tools' output that cannot). The script's last record is `@@lvsctl end`: without it the
//! output was cut short (connection dropped, shell killed) and is an error, never a partial
//! answer. Text before the first record is skipped (a login banner or motd printed by a
//! profile); anything but blank lines after `end` is an error.
//!
//! In sh, `rec KIND ARGS...` (sh/lib.sh) prints a record. In Rust, `read` turns a whole output
//! into records and `Line::of` classifies one line of a streamed output (apply's progress);
//! the consumers match on `kind` and turn a record they do not expect into an error with
//! `Record::unexpected`, so malformed output is never skipped silently.

/// The prefix of every record line.
pub const MARK: &str = "@@lvsctl ";

/// One record with its line number (1-based) and its body lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub line: usize,
    pub kind: &'a str,
    /// Everything after the kind and one space (may hold spaces).
    pub args: &'a str,
    pub body: Vec<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the {script} printed no `@@lvsctl` record{} (hint: is the remote shell a POSIX sh? is `sh` on the PATH?)", first_line.as_ref().map(|l| format!("; its output began with `{l}`")).unwrap_or_else(|| "; its output was empty".into()))]
    Empty { script: &'static str, first_line: Option<String> },
    #[error("the {script}'s output is truncated after line {lines} (no `@@lvsctl end`; last line `{last}`) (hint: the connection dropped or the remote shell was killed)")]
    Truncated { script: &'static str, lines: usize, last: String },
    #[error("the {script}'s output line {line} is malformed ({why}): `{text}`")]
    Malformed { script: &'static str, line: usize, text: String, why: String },
}

/// One line of a streamed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    Record { kind: &'a str, args: &'a str },
    Body(&'a str),
}

impl<'a> Line<'a> {
    pub fn of(line: &'a str) -> Line<'a> {
        match line.strip_prefix(MARK) {
            Some(rest) => {
                let (kind, args) = rest.split_once(' ').unwrap_or((rest, ""));
                Line::Record { kind, args }
            }
            None => Line::Body(line),
        }
    }
}

/// A script's whole output as records, `end` checked and removed.
pub fn read<'a>(script: &'static str, out: &'a str) -> Result<Vec<Record<'a>>, ProtocolError> {
    let mut records: Vec<Record<'a>> = Vec::new();
    let mut ended = false;
    let mut last = (0, "");
    for (i, line) in out.lines().enumerate() {
        let n = i + 1;
        if ended {
            if line.trim().is_empty() {
                continue;
            }
            return Err(ProtocolError::Malformed { script, line: n, text: line.to_string(), why: "output after `@@lvsctl end`".into() });
        }
        last = (n, line);
        match Line::of(line) {
            Line::Record { kind: "end", .. } => ended = true,
            Line::Record { kind, args } => records.push(Record { line: n, kind, args, body: Vec::new() }),
            Line::Body(text) => {
                if let Some(r) = records.last_mut() {
                    r.body.push(text);
                }
                // Before the first record: a banner or motd, skipped.
            }
        }
    }
    if records.is_empty() && !ended {
        let first_line = out.lines().find(|l| !l.trim().is_empty()).map(|l| l.chars().take(80).collect());
        return Err(ProtocolError::Empty { script, first_line });
    }
    if !ended {
        return Err(ProtocolError::Truncated { script, lines: last.0, last: last.1.chars().take(120).collect() });
    }
    Ok(records)
}

impl<'a> Record<'a> {
    /// The error for a record its reader does not expect here, or whose arguments are wrong.
    pub fn malformed(&self, script: &'static str, why: impl Into<String>) -> ProtocolError {
        let args = if self.args.is_empty() { String::new() } else { format!(" {}", self.args) };
        ProtocolError::Malformed { script, line: self.line, text: format!("{MARK}{}{args}", self.kind), why: why.into() }
    }

    pub fn unexpected(&self, script: &'static str) -> ProtocolError {
        self.malformed(script, format!("unknown record `{}`", self.kind))
    }

    /// The arguments split on spaces, exactly `n` of them (the last takes the rest of the line).
    pub fn fields(&self, script: &'static str, n: usize) -> Result<Vec<&'a str>, ProtocolError> {
        let v: Vec<&'a str> = if n == 0 { Vec::new() } else { self.args.splitn(n, ' ').collect() };
        if v.len() != n || (n > 0 && self.args.is_empty()) {
            return Err(self.malformed(script, format!("`{}` takes {n} field(s)", self.kind)));
        }
        Ok(v)
    }

    /// The single numeric argument.
    pub fn number(&self, script: &'static str) -> Result<u64, ProtocolError> {
        self.args.trim().parse().map_err(|_| self.malformed(script, format!("`{}` takes a number", self.kind)))
    }

    /// The body as one string without line breaks (wrapped base64).
    pub fn body_joined(&self) -> String {
        self.body.iter().map(|l| l.trim()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_records_with_bodies_and_skips_a_motd() {
        let out = "Welcome to web1\n@@lvsctl current 4\n@@lvsctl record 3\nYWJj\nZGVm\n@@lvsctl end\n\n";
        let r = read("history", out).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].kind, r[0].args, r[0].line), ("current", "4", 2));
        assert_eq!(r[0].number("history"), Ok(4));
        assert_eq!(r[1].body, vec!["YWJj", "ZGVm"]);
        assert_eq!(r[1].body_joined(), "YWJjZGVm");
    }

    #[test]
    fn refuses_a_cut_short_an_empty_or_a_trailing_output() {
        assert_eq!(
            read("probe", "@@lvsctl probe 1\n@@lvsctl sysctl a 1\n").unwrap_err().to_string(),
            "the probe's output is truncated after line 2 (no `@@lvsctl end`; last line `@@lvsctl sysctl a 1`) (hint: the connection dropped or the remote shell was killed)"
        );
        assert!(matches!(read("probe", ""), Err(ProtocolError::Empty { first_line: None, .. })));
        assert!(matches!(read("probe", "sh: not found\n"), Err(ProtocolError::Empty { first_line: Some(_), .. })));
        assert!(matches!(read("history", "@@lvsctl end\n@@lvsctl gen 1\n"), Err(ProtocolError::Malformed { line: 2, .. })));
    }

    #[test]
    fn fields_and_numbers_are_checked() {
        let r = read("history", "@@lvsctl gen 3 applied 2026-01-01T00:00:00Z lvsctl apply by a@b pid 1\n@@lvsctl current x\n@@lvsctl end\n").unwrap();
        assert_eq!(r[0].fields("history", 4).unwrap(), vec!["3", "applied", "2026-01-01T00:00:00Z", "lvsctl apply by a@b pid 1"]);
        assert!(r[1].fields("history", 2).is_err(), "one word is not two fields");
        assert_eq!(
            r[1].number("history").unwrap_err().to_string(),
            "the history's output line 2 is malformed (`current` takes a number): `@@lvsctl current x`"
        );
        assert_eq!(Line::of("@@lvsctl step lock"), Line::Record { kind: "step", args: "lock" });
        assert_eq!(Line::of("@@lvsctl end"), Line::Record { kind: "end", args: "" });
        assert_eq!(Line::of("abc"), Line::Body("abc"));
    }
}
