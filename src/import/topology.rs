//! The directors' `Conf`s mapped onto lvsctl's schema, written as topology YAML in the
//! schema's key order: VRRP instance -> `vrrp`, a second instance holding one inside address
//! -> `nat` gateway, virtual servers -> `services` (one check per service), real-server
//! addresses -> inventory hosts. What does not map is an error at its file:line:column.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::conf::{Check, Conf, Instance, VirtualServer};
use super::{drift, host_at};
use crate::diagnostic::{Diagnostics, Pos, Span};
use crate::inventory::Inventory;

/// A YAML scalar, quoted when YAML would read it as something else.
fn q(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@'))
        && s.parse::<f64>().is_err()
        && !matches!(s.to_lowercase().as_str(), "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~");
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string serializes")
    }
}

/// The topology reproducing `confs` (MASTER's side where they drift), or None when there is
/// nothing to build on. Errors and warnings go to `d`; `cluster` names it.
pub fn topology(confs: &[(String, Conf)], inv: &Inventory, inventory_ref: &str, cluster: &str, d: &mut Diagnostics) -> Option<String> {
    drift(confs, d);
    // Directors in priority order: lvsctl's first director is the MASTER.
    let mut directors: Vec<(&String, &Conf)> = confs.iter().map(|(h, c)| (h, c)).collect();
    let prio = |c: &Conf| c.instances.first().map_or(0, |i| i.priority);
    directors.sort_by_key(|(_, c)| std::cmp::Reverse(prio(c)));
    let (_, master) = *directors.first()?;
    let whole = Span::new(&master.file, Pos::default());

    // The VIP instance, a NAT gateway instance beside it, and an active-active split's others.
    let (vip_instance, gw_instance, extra) = split_instances(master, d);
    let mut y = String::new();
    let _ = writeln!(y, "# Imported by `lvsctl import` from {}.", confs.iter().map(|(h, c)| format!("{h}={}", c.file.display())).collect::<Vec<_>>().join(" "));
    let _ = writeln!(y, "cluster: {}", q(cluster));
    let _ = writeln!(y, "inventory: {}", q(inventory_ref));
    let _ = writeln!(y, "directors:");
    let _ = writeln!(y, "  hosts: [{}]", directors.iter().map(|(h, _)| h.as_str()).collect::<Vec<_>>().join(", "));
    let interface = vip_instance.map(|i| i.interface.clone()).unwrap_or_default();
    let _ = writeln!(y, "  interface: {}", q(&interface));
    for (h, c) in &directors {
        let theirs = c.instances.iter().find(|i| Some(&i.name) == vip_instance.map(|v| &v.name)).map(|i| i.interface.as_str());
        if let Some(other) = theirs.filter(|i| *i != interface) {
            d.error(Span::new(&c.file, Pos::default()), format!("director `{h}` uses interface {other}, the MASTER {interface}"))
                .hint(format!("set the host variable `interface: {other}` for `{h}` in the inventory"));
        }
    }
    if let Some(n) = &master.notification {
        let _ = writeln!(y, "  notification_email: [{}]", n.emails.iter().map(|e| q(e)).collect::<Vec<_>>().join(", "));
        if let Some(f) = &n.from {
            let _ = writeln!(y, "  notification_email_from: {}", q(f));
        }
        if let Some(s) = &n.smtp_server {
            let _ = writeln!(y, "  smtp_server: {}", q(s));
        }
        if let Some(t) = n.smtp_connect_timeout {
            let _ = writeln!(y, "  smtp_connect_timeout: {t}");
        }
    }
    if let Some(v) = vip_instance {
        vrrp(&mut y, v, gw_instance, &extra, &directors, master, d);
        vip_prefixes(v, &directors, inv, d);
    } else if directors.len() > 1 {
        d.error(whole.clone(), "no vrrp_instance: a pair of directors needs one").hint("lvsctl fails the VIPs over with VRRP");
    }
    let nat_services = master.virtual_servers.iter().any(|v| v.method == "NAT");
    if let Some(g) = gw_instance {
        let a = &g.addresses[0];
        let _ = writeln!(y, "nat:");
        let _ = writeln!(y, "  internal_interface: {}", q(&a.dev));
        let _ = writeln!(y, "  gateway_vip: {}", a.ip);
        let _ = writeln!(y, "  gateway_prefix: {}", a.prefix);
        let _ = writeln!(y, "  virtual_router_id: {}", g.virtual_router_id);
    } else if nat_services {
        d.warning(whole.clone(), "NAT services without a floating gateway instance: the topology needs `nat.internal_interface` (and `gateway_vip` for a pair)")
            .hint("add the `nat` section by hand: lvsctl cannot tell the directors' inside interface from keepalived.conf");
    }
    services(&mut y, master, vip_instance, &extra, inv, d);
    Some(y)
}

/// The instance holding the (first) service VIPs, a second one holding a single inside
/// address (a NAT pair's gateway), and the other instances holding service VIPs: an
/// active-active split (`vrrp.instances`). An instance holding no service VIP beside the
/// gateway is reported.
fn split_instances<'c>(c: &'c Conf, d: &mut Diagnostics) -> (Option<&'c Instance>, Option<&'c Instance>, Vec<&'c Instance>) {
    let holds_vips = |i: &Instance| c.virtual_servers.iter().any(|v| i.addresses.iter().chain(&i.excluded_addresses).any(|a| a.ip == v.vip));
    let vip = c.instances.iter().find(|i| holds_vips(i)).or(c.instances.first());
    let mut gw = None;
    let mut extra = Vec::new();
    for i in &c.instances {
        if vip.is_some_and(|v| std::ptr::eq(v, i)) {
            continue;
        }
        if holds_vips(i) {
            extra.push(i);
        } else if gw.is_none() && i.addresses.len() == 1 && i.excluded_addresses.is_empty() {
            gw = Some(i);
        } else {
            d.error(i.at.0.clone(), format!("vrrp_instance {}: it holds no service VIP, and lvsctl renders only the VIPs' instances (plus a NAT gateway's)", i.name))
                .hint("addresses that are no virtual_server's VIP are not lvsctl's to move: leave them to another keepalived configuration");
        }
    }
    (vip, gw, extra)
}

/// `vrrp.instances`: each of an active-active split's other instances with its MASTER (the
/// director with its highest priority). lvsctl shares the first instance's timing and secret
/// and gives the MASTER the highest of the directors' priorities: where the files say
/// otherwise, a warning.
fn extra_instances(y: &mut String, first: &Instance, extra: &[&Instance], directors: &[(&String, &Conf)], d: &mut Diagnostics) {
    if extra.is_empty() {
        return;
    }
    let _ = writeln!(y, "  instances:");
    let mut first_prios: Vec<u8> = directors.iter().filter_map(|(_, c)| c.instances.iter().find(|i| i.name == first.name).map(|i| i.priority)).collect();
    first_prios.sort_unstable_by(|a, b| b.cmp(a));
    for e in extra {
        let mut theirs: Vec<(&str, u8)> = directors.iter().filter_map(|(h, c)| c.instances.iter().find(|i| i.name == e.name).map(|i| (h.as_str(), i.priority))).collect();
        theirs.sort_by_key(|(_, p)| std::cmp::Reverse(*p));
        let Some((master, _)) = theirs.first() else { continue };
        let _ = writeln!(y, "    - {{ name: {}, virtual_router_id: {}, master: {} }}", q(&e.name), e.virtual_router_id, q(master));
        let mut prios: Vec<u8> = theirs.iter().map(|(_, p)| *p).collect();
        prios.sort_unstable_by(|a, b| b.cmp(a));
        if prios != first_prios {
            d.warning(e.at.0.clone(), format!("vrrp_instance {}: priorities {prios:?}; lvsctl gives an instance's MASTER the highest of the first instance's ({first_prios:?}) and the others their order", e.name));
        }
        if e.advert_int != first.advert_int || e.auth_pass != first.auth_pass || e.interface != first.interface {
            d.warning(e.at.0.clone(), format!("vrrp_instance {}: lvsctl gives every instance {}'s interface, advert_int and authentication", e.name, first.name));
        }
    }
}

fn vrrp(y: &mut String, v: &Instance, gw: Option<&Instance>, extra: &[&Instance], directors: &[(&String, &Conf)], master: &Conf, d: &mut Diagnostics) {
    let _ = writeln!(y, "vrrp:");
    let _ = writeln!(y, "  instance: {}", q(&v.name));
    let _ = writeln!(y, "  virtual_router_id: {}", v.virtual_router_id);
    let _ = writeln!(y, "  advert_int: {}", v.advert_int);
    if let Some(p) = &v.auth_pass {
        // The secret, as keepalived.conf held it; move it to `auth_pass_env` when you can.
        let _ = writeln!(y, "  auth_pass: {}", serde_json::to_string(p).expect("a string serializes"));
    }
    let prios: Vec<String> = directors
        .iter()
        .map(|(h, c)| format!("{h}: {}", c.instances.iter().find(|i| i.name == v.name).map_or(0, |i| i.priority)))
        .collect();
    let _ = writeln!(y, "  priorities: {{ {} }}", prios.join(", "));
    extra_instances(y, v, extra, directors, d);
    for (h, c) in directors {
        if let Some(i) = c.instances.iter().find(|i| i.name == v.name) {
            let want = if std::ptr::eq(*c, master) && !v.nopreempt && v.preempt_delay.is_none() { "MASTER" } else { "BACKUP" };
            if i.state != want {
                d.warning(i.at.0.clone(), format!("`{h}` starts as {}; lvsctl starts the highest priority as MASTER (every director BACKUP with nopreempt or preempt_delay)", i.state));
            }
        }
    }
    if let Some(g) = master.sync_groups.first() {
        let members: Vec<&str> = g.members.iter().map(String::as_str).collect();
        let ours: Vec<&str> = std::iter::once(v.name.as_str()).chain(gw.map(|g| g.name.as_str())).collect();
        if members.len() < 2 {
            d.warning(g.at.0.clone(), format!("vrrp_sync_group {} has one member: keepalived 2.x rejects that, and lvsctl leaves the group out", g.name));
        } else if members.iter().all(|m| ours.contains(m)) && members.len() == ours.len() {
            let _ = writeln!(y, "  sync_group: {}", q(&g.name));
        } else {
            d.error(g.at.0.clone(), format!("vrrp_sync_group {}: lvsctl groups the VIP and NAT gateway instances only", g.name));
        }
        if g.smtp_alert != master.notification.is_some() {
            d.warning(g.at.0.clone(), "lvsctl turns smtp_alert on exactly when notification_email is set");
        }
    } else if v.smtp_alert != master.notification.is_some() {
        d.warning(v.at.0.clone(), "lvsctl turns smtp_alert on exactly when notification_email is set");
    }
    if v.nopreempt {
        let _ = writeln!(y, "  nopreempt: true");
    }
    if let Some(p) = v.preempt_delay {
        let _ = writeln!(y, "  preempt_delay: {p}");
    }
    for (key, value) in ["garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat"].iter().zip(v.garp) {
        if let Some(n) = value {
            let _ = writeln!(y, "  {key}: {n}");
        }
    }
    if let Some(sync) = &master.lvs_sync {
        if sync.instance != v.name {
            d.error(sync.at.0.clone(), format!("lvs_sync_daemon follows vrrp_instance {}; lvsctl ties connection sync to the VIP instance {}", sync.instance, v.name));
        } else {
            let _ = writeln!(y, "  connection_sync: true");
            if sync.interface != v.interface {
                let _ = writeln!(y, "  sync_interface: {}", q(&sync.interface));
            }
            if let Some(id) = sync.id.filter(|id| *id != v.virtual_router_id) {
                let _ = writeln!(y, "  sync_id: {id}");
            }
        }
    }
    if v.unicast_src_ip.is_some() {
        let _ = writeln!(y, "  unicast: true");
        if !v.unicast_fault_no_peer {
            let _ = writeln!(y, "  unicast_fault_no_peer: false");
        }
    }
    track(y, v, gw, master, d);
}

/// The director's own health: the VIP instance's track scripts and interfaces, the notify
/// scripts (the sync group's with a NAT pair, else the instance's).
fn track(y: &mut String, v: &Instance, gw: Option<&Instance>, master: &Conf, d: &mut Diagnostics) {
    if !v.track_scripts.is_empty() {
        let _ = writeln!(y, "  track_scripts:");
        for name in &v.track_scripts {
            let Some(s) = master.scripts.iter().find(|s| &s.name == name) else {
                d.error(v.at.0.clone(), format!("vrrp_instance {} tracks `{name}`, which no vrrp_script defines", v.name));
                continue;
            };
            let _ = write!(y, "    - {{ name: {}, script: {}, interval: {}", q(&s.name), q(&s.script), s.interval);
            if s.timeout != s.interval {
                let _ = write!(y, ", timeout: {}", s.timeout);
            }
            for (key, value, default) in [("fall", s.fall, 1), ("rise", s.rise, 1)] {
                if value != default {
                    let _ = write!(y, ", {key}: {value}");
                }
            }
            if s.weight != 0 {
                let _ = write!(y, ", weight: {}", s.weight);
            }
            let _ = writeln!(y, " }}");
        }
    }
    for s in master.scripts.iter().filter(|s| !v.track_scripts.contains(&s.name)) {
        d.error(s.at.0.clone(), format!("vrrp_script {}: lvsctl tracks scripts in the VIP instance {} only", s.name, v.name))
            .hint("add it to that instance's track_script, or leave it out");
    }
    if let Some(g) = gw.filter(|g| !g.track_scripts.is_empty()) {
        d.error(g.at.0.clone(), format!("vrrp_instance {} tracks scripts: lvsctl tracks them in the VIP instance (the sync group follows it)", g.name));
    }
    if !v.track_interfaces.is_empty() {
        let names: Vec<String> = v.track_interfaces.iter().map(|i| q(i)).collect();
        let _ = writeln!(y, "  track_interfaces: [{}]", names.join(", "));
    }
    let notify = match master.sync_groups.first() {
        Some(g) => {
            if v.notify != Default::default() {
                d.error(v.at.0.clone(), format!("vrrp_instance {}: notify scripts on an instance of a sync group; lvsctl writes them on the group", v.name));
            }
            &g.notify
        }
        None => &v.notify,
    };
    for (key, path) in [("notify_master", &notify.master), ("notify_backup", &notify.backup), ("notify_fault", &notify.fault)] {
        if let Some(p) = path {
            let _ = writeln!(y, "  {key}: {}", q(p));
        }
    }
}

/// lvsctl adds every VIP as /32. A VIP written with a shorter prefix also brought that
/// network's route with it; where every director has an address in that network anyway the
/// route is there without it (a warning), else the difference matters (an error).
fn vip_prefixes(v: &Instance, directors: &[(&String, &Conf)], inv: &Inventory, d: &mut Diagnostics) {
    for a in v.addresses.iter().chain(&v.excluded_addresses).filter(|a| a.prefix != 32) {
        let net = crate::vrid::Net::of(a.ip, a.prefix);
        let covered = directors.iter().all(|(h, _)| inv.get(h).and_then(|h| h.address).is_some_and(|ip| crate::vrid::Net::of(ip, a.prefix) == net));
        let msg = format!("VIP {}/{}: lvsctl adds VIPs as /32", a.ip, a.prefix);
        if covered {
            d.warning(v.at.0.clone(), msg).hint(format!("every director has an address in {net} already, so the network's route does not depend on the VIP"));
        } else {
            d.error(v.at.0.clone(), msg).hint(format!("the MASTER gained a route to {net} with the VIP; give the directors an address there instead"));
        }
    }
}

/// A name for a virtual server: its `! service NAME` comment, else the port's usual name.
fn service_name(v: &VirtualServer, taken: &mut BTreeMap<String, usize>) -> String {
    let base = v.name.0.clone().unwrap_or_else(|| {
        let proto = if v.protocol == "UDP" { "udp" } else { "tcp" };
        match (proto, v.port) {
            ("tcp", 80) => "http".into(),
            ("tcp", 443) => "https".into(),
            ("udp", 53) | ("tcp", 53) => "dns".into(),
            _ => format!("{proto}{}", v.port),
        }
    });
    let n = taken.entry(base.clone()).or_insert(0);
    *n += 1;
    if *n == 1 { base } else { format!("{base}_{n}") }
}

/// A virtual server's checks as the topology's: the service's `check` (its first real server's)
/// and, for each real server checked otherwise, its own `check` (None: the service's).
fn service_checks(v: &VirtualServer, d: &mut Diagnostics) -> (Option<String>, Vec<Option<String>>) {
    let Some(first) = v.real_servers.first() else { return (None, Vec::new()) };
    let base = first.check.as_ref();
    // The service's check names a connect_port only when the first real server's check
    // does not use its own port; a real server whose check matches it once rendered (the
    // port included) needs no check of its own.
    let base_port = base.filter(|c| c.connect_port != first.port).map(|c| c.connect_port);
    let renders_as_base = |rs: &super::conf::RealServer| match (&rs.check, base) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let (mut a, mut b) = (a.clone(), b.clone());
            let port = base_port.unwrap_or(rs.port);
            let same_port = a.connect_port == port;
            (a.connect_port, b.connect_port) = (0, 0);
            same_port && a == b
        }
        _ => false,
    };
    let own: Vec<Option<String>> = v
        .real_servers
        .iter()
        .map(|rs| match (&rs.check, renders_as_base(rs)) {
            (_, true) => None,
            (None, false) => Some("{ type: none }".into()),
            (Some(c), false) => Some(check_yaml(c, (c.connect_port != rs.port).then_some(c.connect_port), d)),
        })
        .collect();
    let service = match base {
        None => "{ type: none }".into(),
        Some(c) => check_yaml(c, base_port, d),
    };
    (Some(service), own)
}

/// One check as a flow map; `connect_port` when it is not the real server's own port.
fn check_yaml(c: &Check, connect_port: Option<u16>, d: &mut Diagnostics) -> String {
    let kind = match c.kind.as_str() {
        "TCP_CHECK" => "tcp",
        "MISC_CHECK" => "misc",
        "UDP_CHECK" => "udp",
        "DNS_CHECK" => "dns",
        "SSL_GET" => "ssl_get",
        _ => "http_get",
    };
    let mut parts = vec![format!("type: {kind}")];
    if let Some(m) = &c.misc {
        if !m.args_are_the_real_server {
            d.error(c.at.0.clone(), "MISC_CHECK: lvsctl calls the script with the real server's address and port only")
                .hint("wrap other arguments in a script that takes ADDRESS PORT");
        }
        parts.push(format!("script: {}", q(&m.script)));
        if let Some(t) = m.timeout {
            parts.push(format!("timeout: {t}"));
        }
        if m.dynamic {
            parts.push("dynamic: true".into());
        }
    } else if kind == "udp" {
        if let Some(p) = &c.payload {
            parts.push(format!("payload: {}", q(p)));
        }
        match c.require_reply.as_deref() {
            Some("") => parts.push("require_reply: true".into()),
            Some(r) => parts.push(format!("require_reply: {}", q(r))),
            None => {}
        }
    } else if kind == "dns" {
        if let Some(t) = &c.query_type {
            parts.push(format!("query_type: {}", q(t)));
        }
        if let Some(n) = &c.query_name {
            parts.push(format!("query_name: {}", q(n)));
        }
    } else if kind != "tcp" {
        // keepalived accepts any 2xx without a status_code; lvsctl always writes one.
        let code = |u: &super::conf::Url| u.status_code.clone().unwrap_or_else(|| "200-299".into());
        match c.urls.as_slice() {
            [] => {
                d.error(c.at.0.clone(), format!("{} without a url: keepalived checks nothing; lvsctl writes at least one", c.kind));
            }
            [u] if u.virtualhost.is_none() => {
                parts.push(format!("path: {}", q(&u.path)));
                parts.push(format!("status_code: {}", q(&code(u))));
                if let Some(g) = &u.digest {
                    parts.push(format!("digest: {}", q(g)));
                }
            }
            urls => {
                let items: Vec<String> = urls
                    .iter()
                    .map(|u| {
                        let mut f = vec![format!("path: {}", q(&u.path)), format!("status_code: {}", q(&code(u)))];
                        if let Some(g) = &u.digest {
                            f.push(format!("digest: {}", q(g)));
                        }
                        if let Some(h) = &u.virtualhost {
                            f.push(format!("virtualhost: {}", q(h)));
                        }
                        format!("{{ {} }}", f.join(", "))
                    })
                    .collect();
                parts.push(format!("urls: [ {} ]", items.join(", ")));
            }
        }
        if let Some(h) = &c.virtualhost {
            parts.push(format!("virtualhost: {}", q(h)));
        }
        if c.enable_sni {
            parts.push("enable_sni: true".into());
        }
    }
    // A MISC_CHECK's script connects itself: no connect_port or connect_timeout.
    if c.misc.is_none() {
        if let Some(p) = connect_port {
            parts.push(format!("connect_port: {p}"));
        }
        parts.push(format!("connect_timeout: {}", c.connect_timeout));
    }
    parts.push(format!("retry: {}", c.retry));
    parts.push(format!("delay_before_retry: {}", c.delay_before_retry));
    format!("{{ {} }}", parts.join(", "))
}

fn services(y: &mut String, master: &Conf, vip_instance: Option<&Instance>, extra: &[&Instance], inv: &Inventory, d: &mut Diagnostics) {
    let _ = writeln!(y, "services:");
    let mut taken = BTreeMap::new();
    for v in &master.virtual_servers {
        let holds = |i: &Instance| i.addresses.iter().chain(&i.excluded_addresses).any(|a| a.ip == v.vip);
        let other = extra.iter().find(|i| holds(i));
        if let (Some(i), None) = (vip_instance, other) {
            if !holds(i) {
                d.error(v.at.0.clone(), format!("VIP {} is not an address of vrrp_instance {}: lvsctl moves every service VIP with the instance", v.vip, i.name));
            }
        }
        let _ = writeln!(y, "  - name: {}", q(&service_name(v, &mut taken)));
        let _ = writeln!(y, "    vip: {}", v.vip);
        let _ = writeln!(y, "    port: {}", v.port);
        if let Some(i) = other {
            let _ = writeln!(y, "    vrrp_instance: {}", q(&i.name));
        }
        if v.protocol != "TCP" {
            let _ = writeln!(y, "    protocol: {}", v.protocol.to_lowercase());
        }
        let _ = writeln!(y, "    mode: {}", v.method.to_lowercase());
        let _ = writeln!(y, "    scheduler: {}", q(&v.scheduler));
        if let Some(p) = v.persistence_timeout {
            let _ = writeln!(y, "    persistence_timeout: {p}");
        }
        if let Some(g) = v.persistence_granularity {
            let _ = writeln!(y, "    persistence_granularity: {g}");
        }
        for (flag, on) in [("ops", v.ops), ("alpha", v.alpha), ("omega", v.omega), ("inhibit_on_failure", v.inhibit_on_failure)] {
            if on {
                let _ = writeln!(y, "    {flag}: true");
            }
        }
        let _ = writeln!(y, "    delay_loop: {}", v.delay_loop);
        if v.quorum != 1 {
            let _ = writeln!(y, "    quorum: {}", v.quorum);
        }
        if v.hysteresis != 0 {
            let _ = writeln!(y, "    hysteresis: {}", v.hysteresis);
        }
        for (key, script) in [("quorum_up", &v.quorum_up), ("quorum_down", &v.quorum_down)] {
            if let Some(s) = script {
                let _ = writeln!(y, "    {key}: {}", q(s));
            }
        }
        if let Some(s) = &v.sorry_server {
            let who = match host_at(inv, s.ip) {
                Some(h) if s.port == v.port => format!("{{ host: {h} }}"),
                _ => format!("{{ address: {}, port: {} }}", s.ip, s.port),
            };
            let _ = writeln!(y, "    sorry_server: {who}");
            if s.inhibit {
                let _ = writeln!(y, "    sorry_server_inhibit: true");
            }
            if s.method != v.method {
                let _ = writeln!(y, "    sorry_server_lvs_method: {}", s.method.to_lowercase());
            }
        }
        let (check, own_checks) = service_checks(v, d);
        if let Some(c) = check {
            let _ = writeln!(y, "    check: {c}");
        }
        let _ = writeln!(y, "    real_servers:");
        for (rs, own_check) in v.real_servers.iter().zip(own_checks) {
            let Some(host) = host_at(inv, rs.ip) else {
                d.error(rs.at.0.clone(), format!("real server {} is in no inventory host's address", rs.ip))
                    .hint(format!("add the host to {} with `ansible_host: {}` (or `address: {}`)", inv.path.display(), rs.ip, rs.ip));
                continue;
            };
            let mut parts = vec![format!("host: {host}")];
            if rs.port != v.port {
                parts.push(format!("port: {}", rs.port));
            }
            parts.push(format!("weight: {}", rs.weight));
            if rs.inhibit_on_failure != v.inhibit_on_failure {
                parts.push(format!("inhibit_on_failure: {}", rs.inhibit_on_failure));
            }
            if let Some(c) = own_check {
                parts.push(format!("check: {c}"));
            }
            let _ = writeln!(y, "      - {{ {} }}", parts.join(", "));
        }
    }
}
