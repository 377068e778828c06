//! The keys of an `http_get` / `ssl_get` check beyond one path: several `urls`, status codes
//! as keepalived reads them (`200`, `200-299`, several of either), an MD5 `digest` of the body,
//! the `virtualhost` (Host header; the check's default, or per URL) and `enable_sni` for
//! SSL_GET. Parsed and checked for form here; `model::check` checks how they combine.

use super::{deny_unknown, Diagnostics, Map, Sp, Span};
use crate::yaml::{describe, Node, Value};

pub const URL_KEYS: &[&str] = &["path", "status_code", "digest", "virtualhost"];

#[derive(Debug, Clone)]
pub struct UrlSpec {
    pub span: Span,
    pub path: Option<Sp<String>>,
    pub status_code: Option<Sp<String>>,
    pub digest: Option<Sp<String>>,
    pub virtualhost: Option<Sp<String>>,
}

pub fn urls(m: &Map, d: &mut Diagnostics) -> Vec<UrlSpec> {
    let mut out = Vec::new();
    for (i, node) in m.list("urls", d).into_iter().enumerate() {
        let Some(u) = Map::new(m.file, format!("{}[{i}]", m.key_path("urls")), node, d) else { continue };
        deny_unknown(&u, URL_KEYS, d);
        u.require(&["path"], d);
        out.push(UrlSpec {
            span: u.span(),
            path: u.str("path", d),
            status_code: status_code(&u, d),
            digest: digest(&u, d),
            virtualhost: u.str("virtualhost", d),
        });
    }
    out
}

/// `status_code`: a number, a range `N-M`, or a list of either (YAML list or blank-separated
/// string), each within 100..599: keepalived's own form, normalised to `200 300-302`.
pub fn status_code(m: &Map, d: &mut Diagnostics) -> Option<Sp<String>> {
    let node = m.get("status_code")?;
    let span = node.span(m.file);
    let what = m.key_path("status_code");
    let mut words: Vec<String> = Vec::new();
    let push = |n: &Node, words: &mut Vec<String>| match &n.value {
        Value::Int(i) => words.push(i.to_string()),
        Value::Str(s) => words.extend(s.split_whitespace().map(str::to_string)),
        _ => words.push(describe(n)),
    };
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|n| push(n, &mut words)),
        _ => push(node, &mut words),
    }
    let valid = |w: &str| {
        let (lo, hi) = w.split_once('-').unwrap_or((w, w));
        match (lo.parse::<u16>(), hi.parse::<u16>()) {
            (Ok(lo), Ok(hi)) => (100..=599).contains(&lo) && (100..=599).contains(&hi) && lo <= hi,
            _ => false,
        }
    };
    if words.is_empty() {
        d.error(span, format!("`{what}` is empty"));
        return None;
    }
    if let Some(bad) = words.iter().find(|w| !valid(w)) {
        d.error(span, format!("`{what}`: `{bad}` is not an HTTP status code (100..599) or a range of them (`200-299`)"))
            .hint("write e.g. `status_code: 200`, `status_code: 200-299` or `status_code: [200, 301-302]`");
        return None;
    }
    Some(Sp { value: words.join(" "), span })
}

/// `digest`: the MD5 of the page, 32 hex digits (`genhash` prints it).
pub fn digest(m: &Map, d: &mut Diagnostics) -> Option<Sp<String>> {
    let s = m.str("digest", d)?;
    if s.value.len() != 32 || !s.value.chars().all(|c| c.is_ascii_hexdigit()) {
        d.error(s.span.clone(), format!("`{}` must be an MD5 digest: 32 hex digits", m.key_path("digest")))
            .hint("keepalived's `genhash -s ADDRESS -p PORT -u PATH` prints the digest of a page");
        return None;
    }
    Some(Sp { value: s.value.to_ascii_lowercase(), span: s.span })
}
