//! The `vrrp` keys that make a director's own health move the VIPs: `track_scripts`
//! (keepalived's `vrrp_script` blocks, tracked by the VIP instance), `track_interfaces` and
//! the `notify_master` / `notify_backup` / `notify_fault` scripts. Parsed here; the model
//! (`model::track`) checks what only makes sense with the directors and priorities known.

use super::{deny_unknown, Diagnostics, Map, Sp, Span};
use crate::yaml::{describe, Value};

pub const TRACK_SCRIPT_KEYS: &[&str] = &["name", "script", "interval", "timeout", "fall", "rise", "weight"];

#[derive(Debug, Clone)]
pub struct TrackScriptSpec {
    pub span: Span,
    pub name: Option<Sp<String>>,
    pub script: Option<Sp<String>>,
    pub interval: Option<Sp<u64>>,
    pub timeout: Option<Sp<u64>>,
    pub fall: Option<Sp<u64>>,
    pub rise: Option<Sp<u64>>,
    /// keepalived's `weight`: 0 (default) puts the instance in FAULT while the script fails;
    /// negative lowers the priority while it fails, positive raises it while it succeeds.
    pub weight: Option<Sp<i64>>,
}

pub fn track_scripts(m: &Map, d: &mut Diagnostics) -> Vec<TrackScriptSpec> {
    let mut out = Vec::new();
    for (i, node) in m.list("track_scripts", d).into_iter().enumerate() {
        let Some(t) = Map::new(m.file, format!("{}[{i}]", m.key_path("track_scripts")), node, d) else { continue };
        deny_unknown(&t, TRACK_SCRIPT_KEYS, d);
        t.require(&["name", "script"], d);
        out.push(TrackScriptSpec {
            span: t.span(),
            name: t.str("name", d),
            script: t.str("script", d),
            interval: t.uint("interval", 1, 3_600, d),
            timeout: t.uint("timeout", 1, 3_600, d),
            fall: t.uint("fall", 1, 255, d),
            rise: t.uint("rise", 1, 255, d),
            weight: weight(&t, d),
        });
    }
    out
}

/// keepalived takes -253..253 (a priority moves within 1..254).
fn weight(m: &Map, d: &mut Diagnostics) -> Option<Sp<i64>> {
    let node = m.get("weight")?;
    let span = node.span(m.file);
    match &node.value {
        Value::Int(w) if (-253..=253).contains(w) => Some(Sp { value: *w, span }),
        _ => {
            d.error(span, format!("`{}` must be a number from -253 to 253, found {}", m.key_path("weight"), describe(node)))
                .hint("0 (the default) puts the instance in FAULT while the script fails; a negative weight lowers the priority instead");
            None
        }
    }
}
