//! The keys of a `udp` check (keepalived's UDP_CHECK: a datagram to the real server, failed by
//! an ICMP port-unreachable or, with `require_reply`, by no matching answer) and of a `dns`
//! check (DNS_CHECK: a query the real server must answer). Parsed and checked for form here,
//! in keepalived's own forms (hex strings, query types); `model::check` checks how they
//! combine with the check type and the service.

use super::{Diagnostics, Map, Sp};
use crate::yaml::{describe, Value};

/// The query types keepalived 2.2.7's DNS_CHECK knows (`check_dns.c`), uppercase as it writes them.
pub const DNS_TYPES: &[&str] = &["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

/// `payload`: the datagram to send, as hex digits (blanks between bytes allowed).
pub fn payload(m: &Map, d: &mut Diagnostics) -> Option<Sp<String>> {
    let s = m.str("payload", d)?;
    hex(s, &m.key_path("payload"), false, d)
}

/// `require_reply`: `true` (any answer passes), `false` (the default: only an ICMP error
/// fails), or the answer expected, as hex digits where `X` matches any nibble. Some("") is
/// "any answer".
pub fn require_reply(m: &Map, d: &mut Diagnostics) -> Option<Sp<String>> {
    let node = m.get("require_reply")?;
    let span = node.span(m.file);
    match &node.value {
        Value::Bool(true) => Some(Sp { value: String::new(), span }),
        Value::Bool(false) => None,
        _ if node.text().is_some() => hex(Sp { value: node.text().unwrap_or_default(), span }, &m.key_path("require_reply"), true, d),
        _ => {
            d.error(span, format!("`{}` must be true, false or the expected answer in hex, found {}", m.key_path("require_reply"), describe(node)));
            None
        }
    }
}

fn hex(s: Sp<String>, what: &str, wildcard: bool, d: &mut Diagnostics) -> Option<Sp<String>> {
    let ok = |c: char| c.is_ascii_hexdigit() || c == ' ' || (wildcard && (c == 'X' || c == 'x'));
    let digits = s.value.chars().filter(|c| *c != ' ').count();
    if digits == 0 || !s.value.chars().all(ok) {
        let extra = if wildcard { ", `X` for any nibble" } else { "" };
        d.error(s.span.clone(), format!("`{what}` must be bytes in hex (e.g. `0a1b 2c`{extra}), found `{}`", s.value))
            .hint("keepalived reads the datagram as hex digits, two per byte, blanks between bytes allowed");
        return None;
    }
    // keepalived's wildcard is an uppercase X: normalise so the rendered form is what it reads.
    Some(Sp { value: s.value.split_whitespace().collect::<Vec<_>>().join(" ").replace('x', "X"), span: s.span })
}

/// `query_type`: one of DNS_TYPES, any case.
pub fn query_type(m: &Map, d: &mut Diagnostics) -> Option<Sp<String>> {
    let s = m.str("query_type", d)?;
    let upper = s.value.to_ascii_uppercase();
    if DNS_TYPES.contains(&upper.as_str()) {
        return Some(Sp { value: upper, span: s.span });
    }
    d.error(s.span.clone(), format!("`{}`: unknown DNS query type `{}`", m.key_path("query_type"), s.value))
        .hint(format!("one of: {}", DNS_TYPES.join(", ")));
    None
}

/// `query_name`: the name to ask for (keepalived's default is the root, `.`); keepalived
/// ignores a name with an empty label (`a..b`, `.a`).
pub fn query_name(m: &Map, d: &mut Diagnostics) -> Option<Sp<String>> {
    let s = m.str("query_name", d)?;
    if !crate::token::check_token(&s, &m.key_path("query_name"), d) {
        return None;
    }
    let v = &s.value;
    if (v.starts_with('.') && v.len() > 1) || v.contains("..") {
        d.error(s.span.clone(), format!("`{}`: `{v}` is not a DNS name keepalived accepts", m.key_path("query_name")))
            .hint("a name like `www.example.com` (no empty label), or `.` for the root");
        return None;
    }
    Some(s)
}
