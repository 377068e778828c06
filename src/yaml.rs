//! YAML as written: a tree of nodes that remember where they came from.
//!
//! We do not deserialize the topology straight into typed structs: serde stops at the first
//! problem, and an operator fixing a broken cluster wants every problem at once, each with
//! its file:line:column. So files are read into this spanned tree (duplicate keys and syntax
//! errors are the only hard stops), and the typed stages read it through `Map`, which reports
//! unknown keys with a did-you-mean and type errors with positions, and keeps going.
//!
//! Scalars keep their raw source text: `auth_pass: 0204` is the password "0204", not the
//! number 204, and `interface: no` is the interface "no", not `false`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diagnostic::{did_you_mean, Diagnostics, Pos, Span};

/// One YAML node with its position and, for scalars, the text as written.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
    /// Source text of a scalar (quotes included when quoted); empty for collections.
    pub raw: String,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A parsed YAML file.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: PathBuf,
    pub root: Node,
}

impl Document {
    /// Read and parse `path`. On failure the diagnostic points at the syntax problem.
    pub fn load(path: &Path, d: &mut Diagnostics) -> Option<Document> {
        match std::fs::read_to_string(path) {
            Ok(text) => Document::parse(path, &text, d),
            Err(e) => {
                d.error(Span::new(path, Pos::default()), format!("cannot read file: {e}"));
                None
            }
        }
    }

    pub fn parse(path: &Path, text: &str, d: &mut Diagnostics) -> Option<Document> {
        match serde_saphyr::from_str_with_options::<Spanned<RawValue>>(text, parse_options(text.len())) {
            Ok(spanned) => Some(Document { path: path.to_path_buf(), root: to_node(spanned, text) }),
            Err(e) => {
                let pos = e
                    .location()
                    .map(|l| Pos { line: l.line(), column: l.column() })
                    .unwrap_or_default();
                let (message, hint) = syntax_message(&e.without_snippet().to_string());
                let diag = d.error(Span::new(path, pos), message);
                if let Some(hint) = hint {
                    diag.hint(hint);
                }
                None
            }
        }
    }
}

/// serde-saphyr caps a document at 250,000 nodes by default, which a topology of ~40,000
/// real-server entries reaches. Every node takes at least two bytes of text, so a cap scaled
/// to the file size never refuses a real file, while aliases (the way a small YAML file
/// explodes) stay under the library's own limits.
fn parse_options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(2 * len);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// Turn serde-saphyr's message into ours: drop its position prefix (we print our own) and
/// its advice about parser options, which is meant for programmers, not operators.
fn syntax_message(rendered: &str) -> (String, Option<&'static str>) {
    let first = rendered.lines().next().unwrap_or(rendered).trim();
    let mut msg = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(rest) = msg.strip_prefix("line ") {
        if let Some(idx) = rest.find(": ") {
            msg = &rest[idx + 2..];
        }
    }
    if let Some(idx) = msg.find(", set DuplicateKeyPolicy") {
        let key = &msg[..idx];
        return (key.to_string(), Some("each key may appear only once in a mapping; remove or merge the repeated one"));
    }
    let msg = match msg.rfind(" at line ") {
        Some(idx) if msg[idx..].contains("column") => &msg[..idx],
        _ => msg,
    };
    (format!("invalid YAML: {msg}"), None)
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// What kind of node this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar as text: strings as parsed, other scalars as written (`0204`, `yes`).
    pub fn text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => Some(self.raw.clone()),
            _ => None,
        }
    }

    pub fn span(&self, file: &Path) -> Span {
        Span::new(file, self.pos)
    }
}

/// A mapping being read by a typed stage. Reads are by key; `finish` reports the keys nobody
/// asked for, with the closest known key as a suggestion.
pub struct Map<'a> {
    pub file: &'a Path,
    /// Dotted path of this mapping for messages, e.g. `services[1].check`.
    pub path: String,
    pub pos: Pos,
    entries: &'a [(Node, Node)],
}

impl<'a> Map<'a> {
    /// Read `node` as a mapping. A null node (`vrrp:` with nothing after it) is an empty map;
    /// anything else that is not a mapping is an error.
    pub fn new(file: &'a Path, path: impl Into<String>, node: &'a Node, d: &mut Diagnostics) -> Option<Map<'a>> {
        let path = path.into();
        match &node.value {
            Value::Map(entries) => Some(Map { file, path, pos: node.pos, entries }),
            Value::Null => Some(Map { file, path, pos: node.pos, entries: &[] }),
            _ => {
                let what = if path.is_empty() { "the file".to_string() } else { format!("`{path}`") };
                d.error(node.span(file), format!("{what} must be a mapping of keys to values, found {}", describe(node)));
                None
            }
        }
    }

    pub fn span(&self) -> Span {
        Span::new(self.file, self.pos)
    }

    /// Another view of the same mapping.
    pub fn reborrow(&self) -> Map<'a> {
        Map { file: self.file, path: self.path.clone(), pos: self.pos, entries: self.entries }
    }

    /// Dotted path of a key in this mapping.
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(k, _)| key_text(k) == key).map(|(_, v)| v).filter(|v| !v.is_null())
    }

    /// The key node itself, for positions ("`interface` ... here").
    pub fn key_node(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(k, _)| key_text(k) == key).map(|(k, _)| k)
    }

    /// All entries, for mappings whose keys are names (host vars, priorities).
    pub fn entries(&self) -> impl Iterator<Item = (String, &'a Node, &'a Node)> {
        self.entries.iter().map(|(k, v)| (key_text(k), k, v))
    }

    /// Report every key not in `known` as an error: with the advice from `habits` when the
    /// key is a known habit (a keepalived.conf keyword, say), else with a did-you-mean.
    pub fn deny_unknown(&self, known: &[&str], habits: &[(&str, &str)], d: &mut Diagnostics) {
        for (k, _) in self.entries {
            let name = key_text(k);
            if known.contains(&name.as_str()) {
                continue;
            }
            let diag = d.error(k.span(self.file), format!("unknown key `{}`", self.key_path(&name)));
            if let Some((_, advice)) = habits.iter().find(|(h, _)| *h == name) {
                diag.hint(*advice);
            } else if let Some(s) = did_you_mean(&name, known.iter().copied()) {
                diag.hint(format!("did you mean `{s}`?"));
            } else {
                diag.hint(format!("known keys here: {}", known.join(", ")));
            }
        }
    }

    /// Report each of `keys` that is absent (or empty) as missing.
    pub fn require(&self, keys: &[&str], d: &mut Diagnostics) {
        for key in keys {
            if self.get(key).is_none() {
                d.error(self.span(), format!("`{}` is missing", self.key_path(key)));
            }
        }
    }

    // ----- typed reads: each reports its own problem and returns None on error -----

    pub fn str(&self, key: &str, d: &mut Diagnostics) -> Option<Sp<String>> {
        let node = self.get(key)?;
        match node.text() {
            Some(s) => Some(Sp { value: s, span: node.span(self.file) }),
            None => {
                d.error(node.span(self.file), format!("`{}` must be a single value, found {}", self.key_path(key), node.kind()));
                None
            }
        }
    }

    pub fn uint(&self, key: &str, min: u64, max: u64, d: &mut Diagnostics) -> Option<Sp<u64>> {
        let node = self.get(key)?;
        let span = node.span(self.file);
        match &node.value {
            Value::Int(i) if *i >= min as i64 && (*i as u64) <= max => Some(Sp { value: *i as u64, span }),
            Value::Int(i) => {
                d.error(span, format!("`{}` is {i}, outside {min}..{max}", self.key_path(key)));
                None
            }
            _ => {
                d.error(span, format!("`{}` must be a whole number from {min} to {max}, found {}", self.key_path(key), describe(node)));
                None
            }
        }
    }

    pub fn bool(&self, key: &str, d: &mut Diagnostics) -> Option<Sp<bool>> {
        let node = self.get(key)?;
        match &node.value {
            Value::Bool(b) => Some(Sp { value: *b, span: node.span(self.file) }),
            _ => {
                d.error(node.span(self.file), format!("`{}` must be true or false, found {}", self.key_path(key), describe(node)));
                None
            }
        }
    }

    pub fn ipv4(&self, key: &str, d: &mut Diagnostics) -> Option<Sp<Ipv4Addr>> {
        let s = self.str(key, d)?;
        parse_ipv4(&s, &self.key_path(key), d)
    }

    /// An IPv4 or IPv6 address (a service's VIP, a sorry server's address).
    pub fn ip(&self, key: &str, d: &mut Diagnostics) -> Option<Sp<IpAddr>> {
        let s = self.str(key, d)?;
        match s.value.parse::<IpAddr>() {
            Ok(ip) => Some(Sp { value: ip, span: s.span.clone() }),
            Err(_) => {
                let diag = d.error(s.span.clone(), format!("`{}`: `{}` is not a valid IP address", self.key_path(key), s.value));
                if s.value.contains('/') {
                    diag.hint("write the address without a prefix length");
                } else if s.value.starts_with('[') {
                    diag.hint("write an IPv6 address without brackets");
                }
                None
            }
        }
    }

    /// A list; a single scalar is not silently promoted (a common YAML slip).
    pub fn list(&self, key: &str, d: &mut Diagnostics) -> Vec<&'a Node> {
        let Some(node) = self.get(key) else { return Vec::new() };
        match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => {
                d.error(node.span(self.file), format!("`{}` must be a list, found {}", self.key_path(key), describe(node)))
                    .hint("write it as `[a, b]` or as lines starting with `- `");
                Vec::new()
            }
        }
    }

    /// A nested mapping under `key`, if present.
    pub fn map(&self, key: &str, d: &mut Diagnostics) -> Option<Map<'a>> {
        let node = self.get(key)?;
        Map::new(self.file, self.key_path(key), node, d)
    }
}

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> std::ops::Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

pub fn parse_ipv4(s: &Sp<String>, what: &str, d: &mut Diagnostics) -> Option<Sp<Ipv4Addr>> {
    match s.value.parse::<Ipv4Addr>() {
        Ok(ip) => Some(Sp { value: ip, span: s.span.clone() }),
        Err(_) => {
            let diag = d.error(s.span.clone(), format!("`{what}`: `{}` is not a valid IPv4 address", s.value));
            if s.value.contains(':') {
                diag.hint("IPv6 is accepted for services' VIPs and sorry servers; this address must be IPv4");
            } else if s.value.contains('/') {
                diag.hint("write the address without a prefix length");
            }
            None
        }
    }
}

/// A short description of a node's value for messages: its text when it is a scalar.
pub fn describe(node: &Node) -> String {
    match node.text() {
        Some(t) => format!("`{t}`"),
        None => node.kind().to_string(),
    }
}

fn key_text(k: &Node) -> String {
    k.text().unwrap_or_default()
}

// ----- deserialization into the spanned tree -----

#[derive(Debug)]
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawValue>, Spanned<RawValue>)>),
}

fn to_node(s: Spanned<RawValue>, text: &str) -> Node {
    let loc = s.referenced;
    let pos = Pos { line: loc.line(), column: loc.column() };
    let span = loc.span();
    let raw = match (span.byte_offset(), span.byte_len()) {
        (Some(off), Some(len)) => text.get(off as usize..(off + len) as usize).unwrap_or("").to_string(),
        _ => String::new(),
    };
    let value = match s.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::Str(s) => Value::Str(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|i| to_node(i, text)).collect()),
        RawValue::Map(entries) => Value::Map(entries.into_iter().map(|(k, v)| (to_node(k, text), to_node(v, text))).collect()),
    };
    let raw = match value {
        Value::Seq(_) | Value::Map(_) => String::new(),
        _ => raw,
    };
    Node { value, pos, raw }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_none<E>(self) -> Result<RawValue, E> {
                Ok(RawValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
                RawValue::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<RawValue, E> {
                Ok(RawValue::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<RawValue, E> {
                Ok(RawValue::Int(i))
            }
            fn visit_u64<E: de::Error>(self, u: u64) -> Result<RawValue, E> {
                i64::try_from(u).map(RawValue::Int).or(Ok(RawValue::Float(u as f64)))
            }
            fn visit_i128<E>(self, i: i128) -> Result<RawValue, E> {
                Ok(i64::try_from(i).map(RawValue::Int).unwrap_or(RawValue::Float(i as f64)))
            }
            fn visit_u128<E>(self, u: u128) -> Result<RawValue, E> {
                Ok(i64::try_from(u).map(RawValue::Int).unwrap_or(RawValue::Float(u as f64)))
            }
            fn visit_f64<E>(self, f: f64) -> Result<RawValue, E> {
                Ok(RawValue::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<RawValue, E> {
                Ok(RawValue::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<RawValue, E> {
                Ok(RawValue::Str(s))
            }
            fn visit_bytes<E>(self, b: &[u8]) -> Result<RawValue, E> {
                Ok(RawValue::Str(String::from_utf8_lossy(b).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<RawValue, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(RawValue::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawValue, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_entry()? {
                    v.push(x);
                }
                Ok(RawValue::Map(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<Document>, Diagnostics) {
        let mut d = Diagnostics::default();
        let doc = Document::parse(Path::new("t.yml"), text, &mut d);
        (doc, d)
    }

    #[test]
    fn scalars_keep_their_written_text() {
        let (doc, _) = parse("auth_pass: 0204\niface: no\nport: 80\n");
        let doc = doc.unwrap();
        let mut d = Diagnostics::default();
        let m = Map::new(Path::new("t.yml"), "", &doc.root, &mut d).unwrap();
        assert_eq!(m.str("auth_pass", &mut d).unwrap().value, "0204");
        assert_eq!(m.str("iface", &mut d).unwrap().value, "no");
        let port = m.uint("port", 1, 65535, &mut d).unwrap();
        assert_eq!((port.value, port.span.pos.line, port.span.pos.column), (80, 3, 7));
    }

    #[test]
    fn duplicate_keys_are_refused_with_position() {
        let (doc, d) = parse("a: 1\nb: 2\na: 3\n");
        assert!(doc.is_none());
        let diag = d.sorted()[0].to_string();
        assert!(diag.starts_with("t.yml:3:1: error: duplicate mapping key: a"), "{diag}");
    }
}
