//! YAML inventories (and the YAML of group_vars/ and host_vars/ files), read the way
//! Ansible's `yaml` inventory plugin and its YAML loader read them.
//!
//! Two things differ from the topology's YAML. The layout: top-level keys are groups (`all`
//! among them), each with optional `vars`, `children` and `hosts` (host keys may be
//! patterns, `web[01:03]`, `web1:2222`). And the types: Ansible's loader is PyYAML, which
//! resolves plain scalars by YAML 1.1 rules (`yes`/`on` are booleans, `0o22` is text, `022`
//! octal), while the files themselves are parsed here by our YAML 1.2 parser; `ansible_typed`
//! re-types plain scalars the YAML 1.1 way so a variable has the value Ansible gives it. A
//! file that is JSON keeps JSON's types, as Ansible's loader tries JSON first.

use std::sync::Arc;

use super::pattern;
use super::source::{Source, Var};
use crate::diagnostic::{did_you_mean, Diagnostics, Span};
use crate::yaml::{describe, Document, Node, Value};

/// Fill a `Source` from a YAML inventory document.
pub fn read(doc: &Document, json: bool, d: &mut Diagnostics) -> Source {
    let mut src = Source::new(&doc.path);
    let mut reader = Reader { file: src.file.clone(), json };
    match &doc.root.value {
        Value::Map(entries) => {
            if let Some((k, _)) = entries.iter().find(|(k, _)| key_text(k) == "plugin") {
                d.error(k.span(&doc.path), "this is the configuration of an Ansible inventory plugin, not an inventory")
                    .hint("lvsctl reads static inventories: export this one with `ansible-inventory -i FILE --list --yaml > hosts.yml`");
                return src;
            }
            for (key, node) in entries {
                if matches!(node.value, Value::Map(_) | Value::Null) {
                    reader.group(&mut src, key, node, d);
                } else {
                    // Ansible skips such a top-level entry with a warning.
                    d.warning(key.span(&doc.path), format!("`{}` is not a group (it holds {}); skipped", key_text(key), describe(node)))
                        .hint("a group is a mapping with `hosts`, `vars` and `children`");
                }
            }
        }
        Value::Null => {}
        _ => {
            d.error(doc.root.span(&doc.path), format!("an inventory must be a mapping of groups, found {}", describe(&doc.root)))
                .hint("start with `all:` and list hosts under `all: { hosts: { web1: {} } }`");
        }
    }
    src
}

struct Reader {
    file: Arc<std::path::Path>,
    json: bool,
}

impl Reader {
    fn var(&self, node: &Node) -> Var {
        Var { node: if self.json { node.clone() } else { ansible_typed(node) }, file: self.file.clone() }
    }

    fn span(&self, node: &Node) -> Span {
        node.span(&self.file)
    }

    /// `_parse_group`: the group's vars, children and hosts, in the order written.
    fn group(&mut self, src: &mut Source, key: &Node, node: &Node, d: &mut Diagnostics) -> usize {
        let name = key_text(key);
        let g = src.add_group(&name);
        let Value::Map(entries) = &node.value else { return g };
        for (k, v) in entries {
            let section = key_text(k);
            if !matches!(section.as_str(), "vars" | "children" | "hosts") {
                let diag = d.warning(self.span(k), format!("group `{name}`: unknown key `{section}` skipped (a group has `vars`, `children` and `hosts`)"));
                if let Some(s) = did_you_mean(&section, ["vars", "children", "hosts"]) {
                    diag.hint(format!("did you mean `{s}`?"));
                }
                continue;
            }
            let entries: Vec<(Node, &Node)> = match &v.value {
                Value::Null => continue,
                Value::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), v)).collect(),
                // A string is allowed: `hosts: web1` is `hosts: { web1: }`.
                Value::Str(_) => vec![(v.clone(), &NULL)],
                _ => {
                    d.error(self.span(v), format!("group `{name}`: `{section}` must be a mapping, found {}", describe(v)))
                        .hint(format!("write `{section}: {{ a: ..., b: ... }}`"));
                    continue;
                }
            };
            match section.as_str() {
                "vars" => {
                    for (var, value) in entries {
                        src.set_group_var(g, key_text(&var), self.var(value), d);
                    }
                }
                "children" => {
                    for (child_key, child) in entries {
                        if !matches!(child.value, Value::Map(_) | Value::Null) {
                            d.error(self.span(child), format!("child group `{}` of `{name}` must be a mapping, found {}", key_text(&child_key), describe(child)))
                                .hint("write a child group as `name: { hosts: ... }`, or `name: {}`");
                            continue;
                        }
                        let c = self.group(src, &child_key, child, d);
                        src.add_child(g, c, &self.span(&child_key), d);
                    }
                }
                _ => {
                    for (host_key, vars) in entries {
                        self.hosts(src, g, &name, &host_key, vars, d);
                    }
                }
            }
        }
        g
    }

    fn hosts(&self, src: &mut Source, g: usize, group: &str, key: &Node, vars: &Node, d: &mut Diagnostics) {
        let pattern_text = key_text(key);
        let span = self.span(key);
        let expansion = match pattern::expand(&pattern_text) {
            Ok(e) => e,
            Err(message) => {
                d.error(span, message);
                return;
            }
        };
        let vars: &[(Node, Node)] = match &vars.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                d.error(self.span(vars), format!("group `{group}`: the vars of host `{pattern_text}` must be a mapping, found {}", describe(vars)))
                    .hint("write hosts as `hosts: { web1: {}, web2: { ansible_host: 10.0.0.2 } }`");
                return;
            }
        };
        let port = expansion.port.filter(|p| *p != 0).map(|p| Var {
            node: Node { value: Value::Int(i64::try_from(p).unwrap_or(i64::MAX)), pos: key.pos, raw: p.to_string() },
            file: self.file.clone(),
        });
        for host in &expansion.hosts {
            let h = src.add_host(host, span.clone(), g, port.clone());
            for (k, v) in vars {
                src.set_host_var(h, key_text(k), self.var(v));
            }
        }
    }
}

static NULL: Node = Node { value: Value::Null, pos: crate::diagnostic::Pos { line: 0, column: 0 }, raw: String::new() };

pub fn key_text(k: &Node) -> String {
    k.text().unwrap_or_default()
}

/// The node with its plain scalars typed as PyYAML (YAML 1.1) types them; `raw` is kept.
pub fn ansible_typed(node: &Node) -> Node {
    let value = match &node.value {
        Value::Seq(items) => Value::Seq(items.iter().map(ansible_typed).collect()),
        Value::Map(entries) => Value::Map(entries.iter().map(|(k, v)| (ansible_typed(k), ansible_typed(v))).collect()),
        Value::Str(s) if node.raw.starts_with(['\'', '"', '|', '>', '!', '&', '*']) || node.raw != *s => Value::Str(s.clone()),
        Value::Str(s) => yaml11_plain(s),
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => yaml11_plain(node.raw.trim()),
    };
    Node { value, pos: node.pos, raw: node.raw.clone() }
}

/// PyYAML's implicit resolvers for a plain scalar: null, bool, int, float, else a string.
fn yaml11_plain(t: &str) -> Value {
    if matches!(t, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    match t {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Value::Bool(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => return Value::Bool(false),
        _ => {}
    }
    if let Some(i) = yaml11_int(t) {
        return Value::Int(i);
    }
    if let Some(f) = yaml11_float(t) {
        return Value::Float(f);
    }
    Value::Str(t.to_string())
}

fn split_sign(t: &str) -> (f64, &str) {
    match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    }
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

/// `[1-9][0-9_]*(:[0-5]?[0-9])+` (base 60, `1:30` is 90), after the sign.
fn sexagesimal(body: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = body.split(':').collect();
    let ok = parts.len() > 1
        && parts[0].starts_with(|c: char| ('1'..='9').contains(&c))
        && all(parts[0], |c| c.is_ascii_digit() || c == '_')
        && parts[1..].iter().all(|p| (p.len() == 1 || p.len() == 2) && all(p, |c| c.is_ascii_digit()) && (p.len() == 1 || p.as_bytes()[0] <= b'5'));
    ok.then_some(parts)
}

fn yaml11_int(t: &str) -> Option<i64> {
    let (sign, body) = split_sign(t);
    let sign = sign as i64;
    let matches = (body.starts_with("0b") && all(&body[2..], |c| matches!(c, '0' | '1' | '_')))
        || (body.starts_with("0x") && all(&body[2..], |c| c.is_ascii_hexdigit() || c == '_'))
        || (body.starts_with('0') && all(&body[1..], |c| ('0'..='7').contains(&c) || c == '_'))
        || body == "0"
        || (body.starts_with(|c: char| ('1'..='9').contains(&c)) && all(body, |c| c.is_ascii_digit() || c == '_'))
        || sexagesimal(body).is_some();
    if !matches {
        return None;
    }
    let clean = body.replace('_', "");
    let value = if clean == "0" {
        0
    } else if let Some(b) = clean.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if let Some(x) = clean.strip_prefix("0x") {
        i64::from_str_radix(x, 16).ok()?
    } else if clean.starts_with('0') {
        i64::from_str_radix(&clean, 8).ok()?
    } else if clean.contains(':') {
        clean.split(':').try_fold(0i64, |acc, p| p.parse::<i64>().ok().map(|v| acc * 60 + v))?
    } else {
        clean.parse().ok()?
    };
    Some(sign * value)
}

fn yaml11_float(t: &str) -> Option<f64> {
    let (sign, body) = split_sign(t);
    let signed = t.starts_with(['-', '+']);
    let exponent_ok = |e: &str| e.is_empty() || (e.len() > 2 && e.starts_with(['e', 'E']) && e[1..].starts_with(['-', '+']) && all(&e[2..], |c| c.is_ascii_digit()));
    let decimal = |s: &str, lead_digit: bool| -> bool {
        // `[0-9][0-9_]*\.[0-9_]*(e[-+][0-9]+)?` or, without a sign, `\.[0-9][0-9_]*(e...)?`
        let Some((int, rest)) = s.split_once('.') else { return false };
        let exp_at = rest.find(['e', 'E']).unwrap_or(rest.len());
        let (frac, exp) = rest.split_at(exp_at);
        let int_ok = if lead_digit { int.starts_with(|c: char| c.is_ascii_digit()) && int.chars().all(|c| c.is_ascii_digit() || c == '_') } else { int.is_empty() };
        let frac_ok = if lead_digit { frac.chars().all(|c| c.is_ascii_digit() || c == '_') } else { frac.starts_with(|c: char| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit() || c == '_') };
        int_ok && frac_ok && exponent_ok(exp)
    };
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return Some(sign * f64::INFINITY);
    }
    if !signed && matches!(body, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    if decimal(body, true) || (!signed && decimal(body, false)) {
        let clean = body.replace('_', "").to_ascii_lowercase();
        let clean = if clean.starts_with('.') { format!("0{clean}") } else { clean };
        let clean = clean.replace(".e", ".0e");
        let clean = if clean.ends_with('.') { format!("{clean}0") } else { clean };
        return clean.parse::<f64>().ok().map(|f| sign * f);
    }
    // Base 60 with a fraction: `1:30.5`.
    if let Some((whole, frac)) = body.rsplit_once('.') {
        if let Some(parts) = sexagesimal(whole) {
            if frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
                let mut v = 0.0;
                for p in &parts {
                    v = v * 60.0 + p.replace('_', "").parse::<f64>().ok()?;
                }
                let frac: f64 = format!("0.{}", frac.replace('_', "")).parse().unwrap_or(0.0);
                return Some(sign * (v + frac));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn typed(yaml: &str) -> Vec<(String, Value)> {
        let mut d = Diagnostics::default();
        let doc = Document::parse(Path::new("t.yml"), yaml, &mut d).unwrap_or_else(|| panic!("{:?}", d.sorted()));
        let Value::Map(entries) = &doc.root.value else { panic!("mapping") };
        entries.iter().map(|(k, v)| (key_text(k), ansible_typed(v).value)).collect()
    }

    /// Rows checked against PyYAML (Ansible's loader).
    #[test]
    fn plain_scalars_are_typed_like_pyyaml() {
        let rows = typed(
            "a: yes\nb: 'yes'\nc: on\nd: 0x10\ne: 0o17\nf: 017\ng: 1_000\nh: 1:30\ni: 1e3\nj: 1.0e+3\nk: ~\nl: \nm: \"22\"\nn: 22\n\
             o: 10.0.0.1\np: .5\nq: y\nr: 09\ns: True\nt: +12\nu: -0b11\nv: 0b2\nw: 1.\nx: |\n  yes\n",
        );
        let want = [
            ("a", Value::Bool(true)),
            ("b", Value::Str("yes".into())),
            ("c", Value::Bool(true)),
            ("d", Value::Int(16)),
            ("e", Value::Str("0o17".into())),
            ("f", Value::Int(15)),
            ("g", Value::Int(1000)),
            ("h", Value::Int(90)),
            ("i", Value::Str("1e3".into())),
            ("j", Value::Float(1000.0)),
            ("k", Value::Null),
            ("l", Value::Null),
            ("m", Value::Str("22".into())),
            ("n", Value::Int(22)),
            ("o", Value::Str("10.0.0.1".into())),
            ("p", Value::Float(0.5)),
            ("q", Value::Str("y".into())),
            ("r", Value::Str("09".into())),
            ("s", Value::Bool(true)),
            ("t", Value::Int(12)),
            ("u", Value::Int(-3)),
            ("v", Value::Str("0b2".into())),
            ("w", Value::Float(1.0)),
            ("x", Value::Str("yes\n".into())),
        ];
        assert_eq!(rows.len(), want.len());
        for ((k, got), (wk, w)) in rows.iter().zip(want.iter()) {
            assert_eq!(k, wk);
            assert_eq!(format!("{got:?}"), format!("{w:?}"), "`{k}`");
        }
    }
}
