//! `vrrp.instances`: more VRRP instances beside the first, for an active-active split of the
//! VIPs across the directors (each instance has its own VRID and its own MASTER; a service
//! names its instance with `vrrp_instance`). Parsed here; the model (`model::instances`)
//! checks names, VRIDs, masters and which VIPs each carries.

use super::{deny_unknown, Diagnostics, Map, Sp, Span};

pub const INSTANCE_KEYS: &[&str] = &["name", "virtual_router_id", "master"];

#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub span: Span,
    pub name: Option<Sp<String>>,
    pub virtual_router_id: Option<Sp<u64>>,
    /// The director that holds the instance's VIPs while it is up.
    pub master: Option<Sp<String>>,
}

pub fn instances(m: &Map, d: &mut Diagnostics) -> Vec<InstanceSpec> {
    let mut out = Vec::new();
    for (i, node) in m.list("instances", d).into_iter().enumerate() {
        let Some(t) = Map::new(m.file, format!("{}[{i}]", m.key_path("instances")), node, d) else { continue };
        deny_unknown(&t, INSTANCE_KEYS, d);
        t.require(&["name", "virtual_router_id", "master"], d);
        out.push(InstanceSpec {
            span: t.span(),
            name: t.str("name", d),
            virtual_router_id: t.uint("virtual_router_id", 1, 255, d),
            master: t.str("master", d),
        });
    }
    out
}
