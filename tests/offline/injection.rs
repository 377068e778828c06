//! Property: no value that validation accepts can change the structure of a rendered file.
//!
//! Every free-text field of a topology (and the inventory's `interface`) is filled with
//! random strings over a hostile alphabet (braces, quotes, `#`, `!`, newlines, tabs, `$`,
//! backslashes, spaces, ...). When validation accepts a value, every rendered keepalived.conf,
//! ifcfg file, sysctl file and iptables rules file is parsed back into its structure (block
//! nesting, keywords, token counts / KEY= names / rule options) and compared with the
//! structure rendered from a plain value: they must be identical. Values are only ever
//! values. LVSCTL_INJECTION_ITERS (default 300 per field) runs longer.

use std::path::Path;

use lvsctl::diagnostic::Diagnostics;
use lvsctl::inventory::Inventory;
use lvsctl::model::Cluster;
use lvsctl::plan;
use lvsctl::render::Templates;
use lvsctl::topology::Topology;
use lvsctl::yaml::Document;

const TOPOLOGY: &str = r#"cluster: "@cluster@"
directors:
  hosts: [lvs1, lvs2]
  interface: "@interface@"
  notification_email: ["@email@"]
  notification_email_from: "@from@"
  smtp_server: "@smtp@"
vrrp:
  instance: "@instance@"
  virtual_router_id: 51
  auth_pass: "@pass@"
  sync_group: "@group@"
  track_scripts: [ { name: "@tsname@", script: "@tscript@" } ]
  track_interfaces: ["@tif@"]
  notify_master: "@notify@"
nat: { internal_interface: "@internal@", gateway_vip: 10.77.1.254 }
services:
  - name: "@service@"
    vip: 10.77.0.100
    port: 80
    check: { type: ssl_get, path: "@path@", virtualhost: "@vhost@", enable_sni: true }
    quorum_up: "@qup@"
    quorum_down: "@qdown@"
    sorry_server: { address: 127.0.0.1 }
    real_servers: [ { host: web1 }, { host: web2 } ]
  - name: natsvc
    vip: 10.77.0.101
    port: 80
    mode: nat
    check: { type: dns, query_name: "@qname@" }
    real_servers: [ { host: web1, port: 8080, check: { type: http_get, path: "@rspath@" } } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: "@service@" } ] }
"#;

const INVENTORY: &str = r#"all:
  hosts:
    lvs1: { ansible_host: 10.77.0.11 }
    lvs2: { ansible_host: 10.77.0.12 }
    web1: { ansible_host: 10.77.0.21, interface: "@rsif@" }
    web2: { ansible_host: 10.77.0.22 }
    gw: { ansible_host: 10.77.0.2 }
"#;

const FIELDS: &[(&str, &str)] = &[
    ("cluster", "web"),
    ("interface", "eth0"),
    ("email", "ops@example.com"),
    ("from", "ka@example.com"),
    ("smtp", "127.0.0.1"),
    ("instance", "VI_1"),
    ("pass", "s3cret"),
    ("group", "VG_1"),
    ("internal", "eth1"),
    ("service", "http"),
    ("path", "/healthz"),
    ("vhost", "www.example.com"),
    ("rsif", "eth0"),
    ("qup", "/etc/keepalived/quorum-up.sh"),
    ("qdown", "/etc/keepalived/quorum-down.sh"),
    ("tsname", "upstream"),
    ("tscript", "/etc/keepalived/check-upstream.sh"),
    ("tif", "eth2"),
    ("notify", "/etc/keepalived/notify-master.sh"),
    ("qname", "www.example.com"),
    ("rspath", "/ready"),
];

const ALPHABET: &[&str] = &[
    "a", "b", "Z", "0", "9", "_", "-", ".", "/", ":", "@", "{", "}", "\"", "'", "#", "!", ";", "$", "`", "\\\\", "\\n", "\\t", "\\r", " ", "  ", "=", "*", "[", "]", ",", "|", "&",
];

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The structure of a rendered file, by kind: for each meaningful line, what it is made of
/// with the values left out.
fn structure(path: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if path.ends_with("keepalived.conf") {
        // Blocks whose lines are items (values), not keywords.
        const LISTS: &[&str] = &["group", "virtual_ipaddress", "virtual_ipaddress_excluded", "notification_email", "unicast_peer", "track_interface", "track_script"];
        let mut blocks: Vec<String> = Vec::new();
        for line in text.lines() {
            let code = line.split(['!', '#']).next().unwrap_or("");
            let tokens: Vec<&str> = code.split_whitespace().collect();
            if tokens.is_empty() {
                continue;
            }
            let opens = tokens.iter().filter(|t| **t == "{").count();
            let closes = tokens.iter().filter(|t| **t == "}").count();
            let in_list = blocks.last().is_some_and(|b| LISTS.contains(&b.as_str()));
            // A line is: keyword (or <item> in a list block), its token count, opens/closes.
            let keyword = if tokens[0] == "}" { "}" } else if in_list { "<item>" } else { tokens[0] };
            out.push(format!("{}:{keyword}:{}:{opens}:{closes}", blocks.len(), tokens.len()));
            for _ in 0..closes {
                blocks.pop();
            }
            for _ in 0..opens {
                blocks.push(tokens[0].to_string());
            }
        }
        out.push(format!("end-depth:{}", blocks.len()));
    } else if path.contains("ifcfg-") || path.contains("route-") || path.contains("sysctl") || path.ends_with(".conf") {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            let tokens = value.split_whitespace().count();
            let key = key.split_whitespace().next().unwrap_or("");
            // The interface is a legitimate part of a per-interface sysctl key.
            let key = match key.strip_prefix("net.ipv4.conf.").and_then(|r| r.rsplit_once('.')) {
                Some((iface, setting)) if !iface.contains('.') && !["all", "default", "lo"].contains(&iface) => format!("net.ipv4.conf.<if>.{setting}"),
                _ => key.to_string(),
            };
            out.push(format!("{key}={tokens}"));
        }
    } else if path.ends_with(".rules") {
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let flags: Vec<&str> = line.split_whitespace().filter(|t| t.starts_with('-') || t.starts_with('*') || t.starts_with(':') || *t == "COMMIT").collect();
            out.push(format!("{}|{}", flags.join(" "), line.split_whitespace().count()));
        }
    } else {
        out.push(format!("lines:{}", text.lines().count()));
    }
    out
}

fn render(topology: &str, inventory: &str, templates: &Templates) -> Result<Vec<(String, String, String)>, Diagnostics> {
    let mut d = Diagnostics::default();
    let inv_doc = Document::parse(Path::new("inv.yml"), inventory, &mut d).ok_or_else(|| d.clone())?;
    let inv = Inventory::from_document(&inv_doc, &mut d);
    let doc = Document::parse(Path::new("t.yml"), topology, &mut d).ok_or_else(|| d.clone())?;
    let topo = Topology::from_document(&doc, &mut d);
    let cluster = Cluster::build(&topo, &inv, &mut d).ok_or_else(|| d.clone())?;
    if d.has_errors() {
        return Err(d);
    }
    let plans = plan::build(&cluster, templates).expect("valid clusters render");
    Ok(plans.into_iter().flat_map(|p| p.files.into_iter().map(move |f| (p.host.clone(), f.path, f.content))).collect())
}

fn fill(field: &str, value: &str) -> (String, String) {
    let mut t = TOPOLOGY.to_string();
    let mut i = INVENTORY.to_string();
    for (f, plain) in FIELDS {
        let v = if *f == field { value } else { plain };
        t = t.replace(&format!("@{f}@"), v);
        i = i.replace(&format!("@{f}@"), v);
    }
    (t, i)
}

#[test]
fn accepted_values_never_change_the_structure_of_rendered_files() {
    let iters: usize = std::env::var("LVSCTL_INJECTION_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let templates = Templates::new(None).unwrap();
    let (t, i) = fill("", "");
    let baseline = render(&t, &i, &templates).unwrap_or_else(|d| panic!("baseline invalid: {:?}", d.sorted()));
    let base: Vec<(String, String, Vec<String>)> = baseline.iter().map(|(h, p, c)| (h.clone(), p.clone(), structure(p, c))).collect();
    let mut rng = Rng(0x1badc0ffee);
    let (mut accepted, mut refused) = (0usize, 0usize);
    let mut failures = Vec::new();
    for (field, _) in FIELDS {
        for _ in 0..iters {
            let len = 1 + rng.below(10);
            let value: String = (0..len).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect();
            let (t, i) = fill(field, &value);
            match render(&t, &i, &templates) {
                Err(_) => refused += 1,
                Ok(files) => {
                    accepted += 1;
                    let got: Vec<(String, String, Vec<String>)> = files.iter().map(|(h, p, c)| (h.clone(), p.replace(&value, "X"), structure(p, c))).collect();
                    // Same files (by host; names may carry the value, e.g. route-<if>) and same structure.
                    if got.len() != base.len() || got.iter().zip(&base).any(|(g, b)| g.0 != b.0 || g.2 != b.2) {
                        failures.push(format!("field `{field}` value {value:?} changed the structure of a rendered file"));
                    }
                }
            }
        }
    }
    eprintln!("injection: {} values tried over {} fields: {accepted} accepted (structure unchanged), {refused} refused by validation", accepted + refused, FIELDS.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(accepted > 100 && refused > 100, "the property must be exercised both ways ({accepted} accepted, {refused} refused)");
}
