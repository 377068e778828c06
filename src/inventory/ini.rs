//! INI inventories, read the way Ansible's `ini` inventory plugin reads them.
//!
//! ```ini
//! web1 ansible_host=10.0.0.1        # before any section: the `ungrouped` group
//! [directors]
//! lvs[1:2] ansible_user=ops         # a host range, inline host vars
//! [web:children]
//! directors
//! [web:vars]
//! ansible_port=2222
//! ```
//!
//! The dialect is Ansible's, not a generic INI one, so no INI crate fits: `[group]`,
//! `[group:children]` and `[group:vars]` sections, host ranges, hosts split like a shell line
//! (Python's `shlex` with `#` comments), every value typed by Python's `literal_eval`
//! (`literal.rs`), `#` and `;` comment lines, section names with other characters than
//! letters, digits and `_` rewritten to `_`. A `[group:vars]` line is split at its first `=`
//! and nothing strips a trailing comment there (`ansible_user=ops # admin` is the user
//! "ops # admin", exactly as Ansible sees it). Where Ansible refuses a file we refuse it too,
//! pointing at the line and column.

use std::path::Path;
use std::sync::Arc;

use super::literal::{self, Eval, Literal};
use super::pattern;
use super::source::{Source, Var, UNGROUPED};
use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::yaml::{Node, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Children,
    Vars,
}

/// A `[group:vars]` or `[parent:children]` reference to a group not declared (yet).
struct Pending {
    line: u64,
    state: State,
    parents: Vec<(usize, Span)>,
}

pub fn parse(file: &Path, text: &str, d: &mut Diagnostics) -> Source {
    let mut src = Source::new(file);
    let arc: Arc<Path> = src.file.clone();
    // Pending declarations in the order Ansible checks them at the end of the file.
    let mut pending: Vec<(String, Pending)> = Vec::new();
    let mut group = UNGROUPED;
    // `None`: inside a section of an unknown type, whose lines are skipped (Ansible stops at
    // the section; skipping it lets every other problem be reported too).
    let mut state = Some(State::Hosts);
    for (index, raw_line) in python_lines(text).enumerate() {
        let lineno = index as u64 + 1;
        let line = raw_line.trim();
        // Columns count characters of the line as written, before trimming.
        let indent = raw_line.chars().count() - raw_line.trim_start().chars().count();
        let at = |col: usize| Span::new(file, Pos { line: lineno, column: (indent + col + 1) as u64 });
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((name, kind)) = section(line) {
            let kind = match kind {
                None | Some("hosts") => State::Hosts,
                Some("children") => State::Children,
                Some("vars") => State::Vars,
                Some(other) => {
                    d.error(at(0), format!("section `{line}` has the unknown type `{other}`"))
                        .hint("a section is `[group]`, `[group:children]` or `[group:vars]`");
                    state = None;
                    continue;
                }
            };
            state = Some(kind);
            let name = safe_group_name(name);
            if src.group_id(&name).is_none() {
                // `[g]` or `[g:children]` declares a group; `[g:vars]` needs it declared
                // somewhere in the file.
                if kind == State::Vars && !pending.iter().any(|(n, _)| *n == name) {
                    pending.push((name.clone(), Pending { line: lineno, state: kind, parents: Vec::new() }));
                }
            }
            group = src.add_group(&name);
            if kind != State::Vars {
                if let Some(i) = pending.iter().position(|(n, _)| *n == name) {
                    resolve_pending(&mut src, &mut pending, i, d);
                }
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            d.error(at(0), format!("invalid section `{line}`"))
                .hint("a section is `[group]`, `[group:children]` or `[group:vars]`, with no spaces; group names hold no `:` or `]`");
            continue;
        }
        let Some(state) = state else { continue };
        match state {
            State::Hosts => host_line(&mut src, &arc, group, line, &at, d),
            State::Vars => match line.split_once('=') {
                Some((key, value)) => {
                    let value_col = line.len() - line[line.find('=').expect("split at =") + 1..].trim_start().len();
                    let col = line[..value_col].chars().count();
                    if let Some(node) = value_node(value.trim(), at(col), d) {
                        src.set_group_var(group, key.trim().to_string(), Var { node, file: arc.clone() }, d);
                    }
                }
                None => {
                    d.error(at(0), format!("expected `key=value` in `[{}:vars]`, found `{line}`", src.groups[group].name))
                        .hint("a vars section holds one `name=value` per line");
                }
            },
            State::Children => match child_name(line) {
                Some(child) => match src.group_id(child) {
                    Some(c) => src.add_child(group, c, &at(0), d),
                    None => match pending.iter_mut().find(|(n, _)| n == child) {
                        Some((_, p)) => p.parents.push((group, at(0))),
                        None => pending.push((child.to_string(), Pending { line: lineno, state, parents: vec![(group, at(0))] })),
                    },
                },
                None => {
                    d.error(at(0), format!("expected a group name in `[{}:children]`, found `{line}`", src.groups[group].name))
                        .hint("a children section holds one group name per line");
                }
            },
        }
    }
    for (name, p) in pending {
        let span = Span::new(file, Pos { line: p.line, column: 1 });
        match p.state {
            State::Vars => {
                d.error(span, format!("section `[{name}:vars]` is for group `{name}`, which is declared nowhere"))
                    .hint(format!("declare the group with a `[{name}]` or `[{name}:children]` section"));
            }
            _ => {
                let parent = p.parents.last().map(|(g, _)| src.groups[*g].name.clone()).unwrap_or_default();
                d.error(p.parents.last().map(|(_, s)| s.clone()).unwrap_or(span), format!("`[{parent}:children]` names group `{name}`, which is declared nowhere"))
                    .hint(format!("declare it with a `[{name}]` section (it may be empty), or remove the line"));
            }
        }
    }
    src
}

/// A child group declared at last: attach it to the parents that named it.
fn resolve_pending(src: &mut Source, pending: &mut Vec<(String, Pending)>, i: usize, d: &mut Diagnostics) {
    let (name, p) = pending.remove(i);
    if p.state == State::Children {
        let child = src.group_id(&name).expect("declared");
        for (parent, span) in p.parents {
            src.add_child(parent, child, &span, d);
            let parent_name = src.groups[parent].name.clone();
            if let Some(j) = pending.iter().position(|(n, q)| *n == parent_name && q.state == State::Children) {
                resolve_pending(src, pending, j, d);
            }
        }
    }
}

/// `[name]` or `[name:kind]`, optionally followed by a `#` comment.
fn section(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    let after = rest[close + 1..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let inner = &rest[..close];
    let (name, kind) = match inner.split_once(':') {
        Some((n, k)) => (n, Some(k)),
        None => (inner, None),
    };
    let name_ok = !name.is_empty() && name.chars().all(|c| c != ':' && c != ']' && !c.is_whitespace());
    let kind_ok = kind.is_none_or(|k| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (name_ok && kind_ok).then_some((name, kind))
}

/// Ansible rewrites section names to valid variable names: a leading digit and every
/// character other than a letter, digit or `_` become `_` (`[web-servers]` is `web_servers`).
pub fn safe_group_name(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| if (c.is_alphanumeric() || c == '_') && !(i == 0 && c.is_numeric()) { c } else { '_' })
        .collect()
}

/// A line of `[g:children]`: one group name, optionally followed by a `#` comment.
fn child_name(line: &str) -> Option<&str> {
    let end = line.find(|c: char| c == ':' || c == ']' || c.is_whitespace()).unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    (!name.is_empty() && (rest.is_empty() || rest.starts_with('#'))).then_some(name)
}

fn host_line(src: &mut Source, file: &Arc<Path>, group: usize, line: &str, at: &dyn Fn(usize) -> Span, d: &mut Diagnostics) {
    let tokens = match shlex_split(line) {
        Ok(t) => t,
        Err((col, message)) => {
            d.error(at(col), format!("cannot split the host line: {message}")).hint("close the quote, or escape it with `\\`");
            return;
        }
    };
    let Some((first, rest)) = tokens.split_first() else { return };
    let pattern_span = at(first.column(0));
    let expansion = match pattern::expand(&first.text) {
        Ok(e) => e,
        Err(message) => {
            d.error(pattern_span, message);
            return;
        }
    };
    if first.text.trim().ends_with(':') && expansion.port.is_none() {
        d.error(pattern_span, format!("host pattern `{}` ends with `:`", first.text)).hint("`:` after a host name introduces its port: `web1:2222`");
        return;
    }
    if expansion.hosts.iter().any(|h| h.trim() == "---") {
        d.error(pattern_span, "host `---`: this looks like a YAML file").hint("name a YAML inventory `.yml` or `.yaml`");
        return;
    }
    let mut vars = Vec::new();
    for t in rest {
        let Some(eq) = t.text.find('=') else {
            d.error(at(t.column(0)), format!("expected `key=value` after the host, found `{}`", t.text))
                .hint("quote a value that holds spaces: `key=\"a b\"`");
            return;
        };
        let value = &t.text[eq + 1..];
        let value_index = t.text[..eq].chars().count() + 1;
        let Some(node) = value_node(value, at(t.column(value_index)), d) else { return };
        vars.push((t.text[..eq].to_string(), node));
    }
    let port = expansion.port.filter(|p| *p != 0).map(|p| Var { node: int_node(p, pattern_span.pos), file: file.clone() });
    for host in &expansion.hosts {
        let h = src.add_host(host, pattern_span.clone(), group, port.clone());
        for (key, node) in &vars {
            src.set_host_var(h, key.clone(), Var { node: node.clone(), file: file.clone() });
        }
    }
}

/// A value as Ansible stores it: `literal_eval`'d, else the text.
fn value_node(text: &str, span: Span, d: &mut Diagnostics) -> Option<Node> {
    match literal::eval(text) {
        Eval::Value(v) => Some(literal_node(&v, span.pos)),
        Eval::Text => Some(Node { value: Value::Str(text.to_string()), pos: span.pos, raw: text.to_string() }),
        Eval::Unhashable => {
            d.error(span, format!("`{text}` is a Python literal Ansible cannot build (a list or dict as a dict key or set member)"))
                .hint("quote the whole value to keep it as text: '\"...\"'");
            None
        }
    }
}

fn int_node(i: i128, pos: Pos) -> Node {
    match i64::try_from(i) {
        Ok(v) => Node { value: Value::Int(v), pos, raw: v.to_string() },
        Err(_) => Node { value: Value::Float(i as f64), pos, raw: i.to_string() },
    }
}

/// The literal as a node; `raw` is Python's `str()` of it, which is how Ansible would show it.
fn literal_node(v: &Literal, pos: Pos) -> Node {
    match v {
        Literal::None => Node { value: Value::Null, pos, raw: "None".to_string() },
        Literal::Bool(b) => Node { value: Value::Bool(*b), pos, raw: if *b { "True" } else { "False" }.to_string() },
        Literal::Int(i) => int_node(*i, pos),
        Literal::Float(f) => Node { value: Value::Float(*f), pos, raw: literal::float_repr(*f, true) },
        Literal::Str(s) => Node { value: Value::Str(s.clone()), pos, raw: s.clone() },
        Literal::List(items) => Node { value: Value::Seq(items.iter().map(|i| literal_node(i, pos)).collect()), pos, raw: String::new() },
        Literal::Dict(pairs) => Node {
            value: Value::Map(pairs.iter().map(|(k, v)| (literal_node(k, pos), literal_node(v, pos))).collect()),
            pos,
            raw: String::new(),
        },
    }
}

/// Lines as Python's `str.splitlines` cuts them (so line numbers match Ansible's).
fn python_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let breaks = ['\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}'];
        match rest.find(breaks) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { rest[i..].chars().next().expect("a break").len_utf8() };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
        }
    })
}

/// A word of a host line and, for each of its characters, the column (0-based, in
/// characters of the trimmed line) it came from.
#[derive(Debug, PartialEq)]
struct Token {
    text: String,
    columns: Vec<usize>,
    start: usize,
}

impl Token {
    /// The column of the `i`th character, or of the token's start when it has none.
    fn column(&self, i: usize) -> usize {
        self.columns.get(i).copied().unwrap_or(self.start)
    }
}

/// The words of a command line as Python's `shlex.split` makes them (what Ansible does with
/// `ansible_ssh_common_args`).
pub fn shell_words(line: &str) -> Result<Vec<String>, String> {
    shlex_split(line).map(|t| t.into_iter().map(|t| t.text).collect()).map_err(|(col, why)| format!("{why} (column {})", col + 1))
}

/// Python's `shlex.split(line, comments=True)` (POSIX mode): whitespace separates words,
/// `'...'` and `"..."` quote (a backslash escapes only `"` and `\` inside double quotes),
/// a backslash outside quotes escapes any character, and `#` starts a comment, even in the
/// middle of a word. Errors carry the column they refer to.
fn shlex_split(line: &str) -> Result<Vec<Token>, (usize, &'static str)> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    loop {
        while i < chars.len() && is_space(chars[i]) {
            i += 1;
        }
        if i >= chars.len() || chars[i] == '#' {
            return Ok(tokens);
        }
        let mut tok = Token { text: String::new(), columns: Vec::new(), start: i };
        let push = |tok: &mut Token, c: char, col: usize| {
            tok.text.push(c);
            tok.columns.push(col);
        };
        let mut comment = false;
        while i < chars.len() {
            let c = chars[i];
            if is_space(c) {
                break;
            }
            if c == '#' {
                comment = true;
                break;
            }
            match c {
                '\\' => {
                    let Some(&n) = chars.get(i + 1) else { return Err((i, "no character after the escaping `\\`")) };
                    push(&mut tok, n, i + 1);
                    i += 2;
                }
                '\'' | '"' => {
                    let open = i;
                    i += 1;
                    loop {
                        let Some(&n) = chars.get(i) else { return Err((open, "no closing quotation")) };
                        if n == c {
                            i += 1;
                            break;
                        }
                        if c == '"' && n == '\\' {
                            match chars.get(i + 1) {
                                Some(&e) if e == '"' || e == '\\' => {
                                    push(&mut tok, e, i + 1);
                                    i += 2;
                                    continue;
                                }
                                Some(_) => {}
                                None => return Err((open, "no closing quotation")),
                            }
                        }
                        push(&mut tok, n, i);
                        i += 1;
                    }
                }
                _ => {
                    push(&mut tok, c, i);
                    i += 1;
                }
            }
        }
        tokens.push(tok);
        if comment {
            return Ok(tokens);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        shlex_split(line).unwrap().into_iter().map(|t| t.text).collect()
    }

    /// Rows checked against Python 3.11's `shlex.split(line, comments=True)`.
    #[test]
    fn splits_like_shlex() {
        assert_eq!(words("a b#c d"), ["a", "b"]);
        assert_eq!(words("a \"b#c\" d"), ["a", "b#c", "d"]);
        assert_eq!(words("x=a\\ b y='q\\'"), ["x=a b", "y=q\\"]);
        assert_eq!(words("x=\"a\\\"b\\c\""), ["x=a\"b\\c"]);
        assert_eq!(words("h a=''"), ["h", "a="]);
        assert_eq!(words("h a=\"x y\"'z'"), ["h", "a=x yz"]);
        assert_eq!(words("h  # comment"), ["h"]);
        assert_eq!(words("h ''"), ["h", ""]);
        assert!(shlex_split("h a='x").is_err());
        assert!(shlex_split("h a\\").is_err());
        let t = &shlex_split("web1 ansible_user=\"ops\"").unwrap()[1];
        assert_eq!((t.column(0), t.column(13)), (5, 19));
    }

    #[test]
    fn sections_and_group_names() {
        assert_eq!(section("[web]"), Some(("web", None)));
        assert_eq!(section("[web:vars]  # x"), Some(("web", Some("vars"))));
        assert_eq!(section("[web:vars] ; x"), None);
        assert_eq!(section("[web servers]"), None);
        assert_eq!(section("[web-1]"), Some(("web-1", None)));
        assert_eq!(safe_group_name("web-1"), "web_1");
        assert_eq!(safe_group_name("1st"), "_st");
        assert_eq!(safe_group_name("ok_Name2"), "ok_Name2");
        assert_eq!(child_name("web  # x"), Some("web"));
        assert_eq!(child_name("web ; x"), None);
        assert_eq!(python_lines("a\r\nb\rc\n\nd").collect::<Vec<_>>(), ["a", "b", "c", "", "d"]);
    }
}
