//! `lvsctl import`: an existing cluster's keepalived.conf files (one per director) and its
//! inventory turned into a topology that reproduces the same cluster.
//!
//! Three steps: `syntax` reads the files as keepalived does (comments,
//! braces, `include` globs), `conf` gives them their meaning with keepalived's defaults (two
//! spellings of one cluster compare equal), and `topology` maps the directors' `Conf`s onto
//! lvsctl's schema. This file finds each file's director and compares the directors.
//!
//! What the directors' files disagree on, besides what differs per director by design
//! (router_id, state, priority, unicast source and peers), is reported as a warning at both
//! places: that drift is what lvsctl exists to end, and the topology takes the MASTER's side.
//! What lvsctl cannot express is an error at its file:line:column; the topology is still
//! written, headed by the list of what it leaves out.

pub mod conf;
pub mod syntax;
mod topology;

pub use topology::topology;

use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::inventory::Inventory;
use conf::{Conf, Instance};

/// One keepalived.conf and the director it belongs to (None: found from the file).
#[derive(Debug, Clone)]
pub struct Source {
    pub host: Option<String>,
    pub file: PathBuf,
}

impl Source {
    /// `HOST=FILE` or `FILE`.
    pub fn parse(arg: &str) -> Source {
        match arg.split_once('=') {
            Some((h, f)) if !h.is_empty() && !h.contains('/') => Source { host: Some(h.to_string()), file: PathBuf::from(f) },
            _ => Source { host: None, file: PathBuf::from(arg) },
        }
    }
}

/// Read every source into (director host, its `Conf`), in the order given.
pub fn read(sources: &[Source], inv: &Inventory, d: &mut Diagnostics) -> Vec<(String, Conf)> {
    let mut out: Vec<(String, Conf)> = Vec::new();
    for s in sources {
        let stmts = syntax::read(&s.file, d);
        let c = conf::read(s.file.clone(), &stmts, d);
        let whole = Span::new(&s.file, Pos::default());
        let host = match &s.host {
            Some(h) if inv.get(h).is_some() => Some(h.clone()),
            Some(h) => {
                d.error(whole.clone(), format!("director `{h}` is not in the inventory {}", inv.path.display()));
                None
            }
            None => director_of(&c, s, inv),
        };
        let Some(host) = host else {
            if s.host.is_none() {
                d.error(whole, "which director is this file's? Its router_id, path and unicast_src_ip name no inventory host")
                    .hint(format!("name it: `lvsctl import lvs1={}`", s.file.display()));
            }
            continue;
        };
        if let Some((_, other)) = out.iter().find(|(h, _)| *h == host) {
            d.error(whole, format!("two files for director `{host}` (the other is {})", other.file.display()));
            continue;
        }
        out.push((host, c));
    }
    out
}

/// The director a file belongs to: its router_id, a directory of its path (a `lvsctl render`
/// tree: DIR/<host>/etc/keepalived/keepalived.conf), or its unicast source address.
fn director_of(c: &Conf, s: &Source, inv: &Inventory) -> Option<String> {
    if let Some(h) = c.router_id.as_deref().filter(|r| inv.get(r).is_some()) {
        return Some(h.to_string());
    }
    if let Some(h) = s.file.ancestors().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).find(|n| inv.get(n).is_some()) {
        return Some(h);
    }
    let src = c.instances.iter().find_map(|i| i.unicast_src_ip)?;
    inv.hosts.values().find(|h| h.address == Some(src)).map(|h| h.name.clone())
}

/// The inventory host whose data-plane address is `ip`.
pub(crate) fn host_at(inv: &Inventory, ip: Ipv4Addr) -> Option<&str> {
    inv.hosts.values().find(|h| h.address == Some(ip)).map(|h| h.name.as_str())
}

/// A `Conf` without what differs per director by design, for comparing directors.
pub fn shared_part(c: &Conf) -> Conf {
    let mut c = c.clone();
    c.router_id = None;
    for i in &mut c.instances {
        i.state = String::new();
        i.priority = 0;
        i.unicast_src_ip = None;
        i.unicast_peers.clear();
    }
    c
}

/// Warn at both places where two directors' files disagree on something that must be equal.
pub(crate) fn drift(confs: &[(String, Conf)], d: &mut Diagnostics) -> usize {
    let Some((first_host, first)) = confs.first() else { return 0 };
    let a = shared_part(first);
    let mut found = 0;
    for (host, c) in &confs[1..] {
        let b = shared_part(c);
        let whole = |c: &Conf| Span::new(&c.file, Pos::default());
        let mut say = |at: Span, what: String, other: String| {
            found += 1;
            d.warning(at, format!("{what} differs between `{first_host}` and `{host}` ({other})"))
                .hint("directors of one cluster should agree; the topology takes the first director's version");
        };
        if a.notification != b.notification || a.router_id != b.router_id || a.lvs_sync != b.lvs_sync {
            say(whole(c), "global_defs".into(), first.file.display().to_string());
        }
        if a.sync_groups != b.sync_groups {
            say(whole(c), "vrrp_sync_group".into(), first.file.display().to_string());
        }
        for ia in &a.instances {
            match b.instances.iter().find(|ib| ib.name == ia.name) {
                Some(ib) if ib == ia => {}
                Some(ib) => say(ib.at.0.clone(), format!("vrrp_instance {}: {}", ia.name, fields_differing(ia, ib)), ia.at.0.to_string()),
                None => say(whole(c), format!("vrrp_instance {} (missing)", ia.name), ia.at.0.to_string()),
            }
        }
        for va in &a.virtual_servers {
            match b.virtual_servers.iter().find(|vb| (vb.vip, vb.port, &vb.protocol) == (va.vip, va.port, &va.protocol)) {
                Some(vb) if vb == va => {}
                Some(vb) => say(vb.at.0.clone(), format!("virtual_server {} {}", va.vip, va.port), va.at.0.to_string()),
                None => say(whole(c), format!("virtual_server {} {} (missing)", va.vip, va.port), va.at.0.to_string()),
            }
        }
        for vb in &b.virtual_servers {
            if !a.virtual_servers.iter().any(|va| (vb.vip, vb.port, &vb.protocol) == (va.vip, va.port, &va.protocol)) {
                say(vb.at.0.clone(), format!("virtual_server {} {} (only here)", vb.vip, vb.port), first.file.display().to_string());
            }
        }
    }
    found
}

fn fields_differing(a: &Instance, b: &Instance) -> String {
    let mut f = Vec::new();
    if a.interface != b.interface {
        f.push("interface");
    }
    if a.virtual_router_id != b.virtual_router_id {
        f.push("virtual_router_id");
    }
    if a.advert_int != b.advert_int {
        f.push("advert_int");
    }
    if a.auth_pass != b.auth_pass {
        f.push("authentication");
    }
    if a.addresses != b.addresses || a.excluded_addresses != b.excluded_addresses {
        f.push("virtual_ipaddress");
    }
    if f.is_empty() {
        f.push("options");
    }
    f.join(", ")
}
