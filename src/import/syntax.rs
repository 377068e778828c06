//! keepalived.conf as keepalived reads it, before any meaning: statements (a keyword, its
//! arguments on the same line, and a `{ ... }` block when one follows) with the file:line:column
//! of every word, `include` directives followed.
//!
//! The rules are keepalived's (lib/parser.c): `#` and `!` start a comment anywhere outside
//! double quotes; `{` and `}` are words of their own even when written against another word;
//! a statement is one line, and a `{` that ends it (or starts the next line) opens its block;
//! `include PATTERN` reads the files the glob matches, in name order, with a relative pattern
//! taken from the including file's directory (keepalived chdir()s there while reading it).
//! Includes that loop are an error, not a hang.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::yaml::Sp;

/// One statement: `virtual_server 10.0.0.1 80 { ... }`.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub keyword: Sp<String>,
    pub args: Vec<Sp<String>>,
    /// The block's statements, when the statement has one.
    pub block: Option<Vec<Stmt>>,
    /// The comment on the line just above the statement (`! service http`), without its
    /// comment character: lvsctl's own rendering names each service that way.
    pub comment_above: Option<String>,
}

impl Stmt {
    pub fn span(&self) -> &Span {
        &self.keyword.span
    }

    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|a| a.value.as_str())
    }

    pub fn children(&self) -> &[Stmt] {
        self.block.as_deref().unwrap_or(&[])
    }
}

/// A word and where it starts, or a line's end.
#[derive(Debug, Clone)]
enum Tok {
    Word(Sp<String>),
    Open(Span),
    Close(Span),
    /// End of a line, with the line's comment (if the line held only a comment).
    Eol(Option<String>),
}

fn tokenize(file: &Path, text: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut chars = line.char_indices().peekable();
        let mut comment = None;
        let mut words_on_line = 0;
        while let Some(&(i, c)) = chars.peek() {
            let at = |i: usize| Span::new(file, Pos { line: n as u64 + 1, column: line[..i].chars().count() as u64 + 1 });
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '#' | '!' => {
                    if words_on_line == 0 {
                        comment = Some(line[i + 1..].trim().to_string());
                    }
                    break;
                }
                '{' => {
                    chars.next();
                    toks.push(Tok::Open(at(i)));
                    words_on_line += 1;
                }
                '}' => {
                    chars.next();
                    toks.push(Tok::Close(at(i)));
                    words_on_line += 1;
                }
                '"' => {
                    chars.next();
                    let mut w = String::new();
                    for (_, c) in chars.by_ref() {
                        if c == '"' {
                            break;
                        }
                        w.push(c);
                    }
                    toks.push(Tok::Word(Sp { value: w, span: at(i) }));
                    words_on_line += 1;
                }
                _ => {
                    let start = i;
                    let mut end = line.len();
                    while let Some(&(j, c)) = chars.peek() {
                        if c.is_whitespace() || matches!(c, '{' | '}' | '#' | '!' | '"') {
                            end = j;
                            break;
                        }
                        chars.next();
                    }
                    toks.push(Tok::Word(Sp { value: line[start..end].to_string(), span: at(start) }));
                    words_on_line += 1;
                }
            }
        }
        toks.push(Tok::Eol(comment));
    }
    toks
}

/// Read `path` and the files it includes into one statement list (includes replaced by what
/// they hold). Problems (unreadable files, unbalanced braces, include loops) go to `d`.
pub fn read(path: &Path, d: &mut Diagnostics) -> Vec<Stmt> {
    let mut stack = Vec::new();
    read_file(path, &Span::new(path, Pos::default()), &mut stack, d)
}

fn read_file(path: &Path, from: &Span, stack: &mut Vec<PathBuf>, d: &mut Diagnostics) -> Vec<Stmt> {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if stack.contains(&canonical) {
        d.error(from.clone(), format!("`include` of {} loops back to a file that includes it", path.display()));
        return Vec::new();
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            d.error(from.clone(), format!("cannot read {}: {e}", path.display()));
            return Vec::new();
        }
    };
    stack.push(canonical);
    let toks = tokenize(path, &text);
    let mut i = 0;
    let mut out = Vec::new();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    block(&toks, &mut i, false, &dir, stack, d, &mut out);
    stack.pop();
    out
}

/// Statements until the matching `}` (inside a block) or the end of the tokens.
fn block(toks: &[Tok], i: &mut usize, inside: bool, dir: &Path, stack: &mut Vec<PathBuf>, d: &mut Diagnostics, out: &mut Vec<Stmt>) -> bool {
    let mut comment_above: Option<String> = None;
    while *i < toks.len() {
        match &toks[*i] {
            Tok::Eol(c) => {
                // A comment line names the statement below it; a blank line clears it.
                comment_above = c.clone();
                *i += 1;
            }
            Tok::Close(span) => {
                *i += 1;
                if inside {
                    return true;
                }
                d.error(span.clone(), "`}` closes no block");
            }
            Tok::Open(span) => {
                d.error(span.clone(), "`{` without a keyword before it");
                *i += 1;
                let mut ignored = Vec::new();
                block(toks, i, true, dir, stack, d, &mut ignored);
            }
            Tok::Word(keyword) => {
                let keyword = keyword.clone();
                *i += 1;
                let mut args = Vec::new();
                while let Some(Tok::Word(w)) = toks.get(*i) {
                    args.push(w.clone());
                    *i += 1;
                }
                // `{` on the same line, or alone at the start of the next one.
                let mut opens = matches!(toks.get(*i), Some(Tok::Open(_)));
                if !opens && matches!(toks.get(*i), Some(Tok::Eol(None))) && matches!(toks.get(*i + 1), Some(Tok::Open(_))) {
                    *i += 1;
                    opens = true;
                }
                let mut body = None;
                if opens {
                    *i += 1;
                    let mut children = Vec::new();
                    if !block(toks, i, true, dir, stack, d, &mut children) {
                        d.error(keyword.span.clone(), format!("the block of `{}` is never closed", keyword.value));
                    }
                    body = Some(children);
                }
                if keyword.value == "include" && body.is_none() {
                    include(&keyword, &args, dir, stack, d, out);
                } else {
                    out.push(Stmt { keyword, args, block: body, comment_above: comment_above.take() });
                }
                comment_above = None;
            }
        }
    }
    !inside
}

fn include(keyword: &Sp<String>, args: &[Sp<String>], dir: &Path, stack: &mut Vec<PathBuf>, d: &mut Diagnostics, out: &mut Vec<Stmt>) {
    let Some(pattern) = args.first() else {
        d.error(keyword.span.clone(), "`include` needs a file or glob pattern");
        return;
    };
    let full = if Path::new(&pattern.value).is_absolute() { PathBuf::from(&pattern.value) } else { dir.join(&pattern.value) };
    let mut files: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
        Ok(paths) => paths.filter_map(Result::ok).filter(|p| p.is_file()).collect(),
        Err(e) => {
            d.error(pattern.span.clone(), format!("`include {}`: not a valid pattern: {e}", pattern.value));
            return;
        }
    };
    files.sort();
    if files.is_empty() {
        // keepalived logs "No config files matched" and goes on; so does the import.
        d.warning(pattern.span.clone(), format!("`include {}` matches no file", pattern.value));
    }
    for f in files {
        out.extend(read_file(&f, &pattern.span, stack, d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Stmt>, Diagnostics) {
        let dir = std::env::temp_dir().join(format!("lvsctl-syntax-{}-{}", std::process::id(), text.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("keepalived.conf");
        std::fs::write(&f, text).unwrap();
        let mut d = Diagnostics::default();
        let s = read(&f, &mut d);
        let _ = std::fs::remove_dir_all(&dir);
        (s, d)
    }

    #[test]
    fn statements_blocks_comments_and_positions() {
        let (s, d) = parse("! service http\nvirtual_server 10.0.0.1 80 { # the VIP\n  lb_algo rr\n  real_server 10.0.0.2 80\n  {\n    weight 3\n  }\n}\nvirtual_ipaddress {10.0.0.1}\n");
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].keyword.value, "virtual_server");
        assert_eq!(s[0].comment_above.as_deref(), Some("service http"));
        assert_eq!(s[0].args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(), ["10.0.0.1", "80"]);
        let rs = &s[0].children()[1];
        assert_eq!((rs.keyword.value.as_str(), rs.span().pos.line, rs.span().pos.column), ("real_server", 4, 3));
        assert_eq!(rs.children()[0].arg(0), Some("3"));
        assert_eq!(s[1].children()[0].keyword.value, "10.0.0.1");
    }

    #[test]
    fn includes_are_followed_relative_to_the_including_file_in_name_order_and_loops_stop() {
        let dir = std::env::temp_dir().join(format!("lvsctl-include-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("keepalived.conf"), "global_defs {\n}\ninclude conf.d/*.conf\n").unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "virtual_server 10.0.0.2 80 {\n}\n").unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "virtual_server 10.0.0.1 80 {\n}\ninclude ../keepalived.conf\n").unwrap();
        let mut d = Diagnostics::default();
        let s = read(&dir.join("keepalived.conf"), &mut d);
        let got: Vec<String> = s.iter().map(|s| format!("{} {}", s.keyword.value, s.arg(0).unwrap_or(""))).collect();
        assert_eq!(got, ["global_defs ", "virtual_server 10.0.0.1", "virtual_server 10.0.0.2"]);
        assert_eq!(s[1].span().file, dir.join("conf.d/a.conf"));
        let loops: Vec<String> = d.sorted().iter().map(|x| format!("{x}")).filter(|m| m.contains("loops back")).collect();
        assert_eq!(loops.len(), 1, "{d:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unbalanced_braces_are_errors() {
        let (_, d) = parse("global_defs {\n  router_id a\n");
        assert!(d.has_errors());
        let (_, d) = parse("}\n");
        assert!(d.has_errors());
    }
}
