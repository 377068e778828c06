//! VRRP router id clashes between clusters, as a table: each row is a set of clusters given to
//! one `lvsctl validate A.yml B.yml ...`, and the clashes it must report (exit 1, an error at
//! the later cluster's `virtual_router_id` naming the earlier one and why their adverts meet)
//! or the absence of any (exit 0). Every cluster of a row is valid on its own.

use crate::common::*;

/// Directors of four pairs: `a` and `b` share the LAN 10.1.0.0/24, `c` and `d` sit on
/// 10.2.0.0/24 (inside 10.0.0.0/8 with the others). Real servers on each LAN.
const INVENTORY: &str = r#"
all:
  hosts:
    a1: { ansible_host: 10.1.0.11 }
    a2: { ansible_host: 10.1.0.12 }
    b1: { ansible_host: 10.1.0.13 }
    b2: { ansible_host: 10.1.0.14 }
    c1: { ansible_host: 10.2.0.11 }
    c2: { ansible_host: 10.2.0.12 }
    d1: { ansible_host: 10.2.0.13 }
    d2: { ansible_host: 10.2.0.14 }
    web1: { ansible_host: 10.1.0.21 }
    web2: { ansible_host: 10.2.0.21 }
    nat1: { ansible_host: 10.1.0.31, address: 10.9.0.31 }
    nat2: { ansible_host: 10.2.0.31, address: 10.9.0.32 }
"#;

/// One cluster of a row.
#[derive(Clone)]
struct C {
    name: &'static str,
    directors: [&'static str; 2],
    vrid: u8,
    unicast: bool,
    /// A NAT service behind a floating gateway: (gateway VIP, `nat.virtual_router_id` or
    /// None for the default `vrrp.virtual_router_id + 1`).
    nat: Option<(&'static str, Option<u8>)>,
    ipvsadm: bool,
}

fn c(name: &'static str, directors: [&'static str; 2], vrid: u8) -> C {
    C { name, directors, vrid, unicast: false, nat: None, ipvsadm: false }
}

impl C {
    fn unicast(mut self) -> C {
        self.unicast = true;
        self
    }
    fn nat(mut self, gateway: &'static str, vrid: Option<u8>) -> C {
        self.nat = Some((gateway, vrid));
        self
    }
    fn ipvsadm(mut self) -> C {
        self.ipvsadm = true;
        self
    }

    /// The topology; `virtual_router_id` on line 5, `nat.virtual_router_id` on line 11.
    fn yaml(&self) -> String {
        let vip_octet = 100 + self.vrid as u32 % 100;
        let lan = if self.directors[0].starts_with('a') || self.directors[0].starts_with('b') { "10.1.0" } else { "10.2.0" };
        let mut y = format!("cluster: {}\ninventory: inventory.yml\n", self.name);
        if self.ipvsadm {
            y += &format!("directors: {{ hosts: [{}], interface: eth0, engine: ipvsadm }}\n", self.directors[0]);
        } else {
            y += &format!("directors: {{ hosts: [{}, {}], interface: eth0 }}\n", self.directors[0], self.directors[1]);
            y += &format!("vrrp:\n  virtual_router_id: {}\n  auth_pass: pw{}\n  unicast: {}\n", self.vrid, self.vrid, self.unicast);
        }
        match self.nat {
            Some((gw, vrid)) => {
                let rs = if lan == "10.1.0" { "nat1" } else { "nat2" };
                y += "nat:\n  internal_interface: eth1\n";
                y += &format!("  gateway_vip: {gw}\n");
                if let Some(v) = vrid {
                    y += &format!("  virtual_router_id: {v}\n");
                }
                y += &format!(
                    "services:\n  - {{ name: app, vip: {lan}.{vip_octet}, port: 80, mode: nat, real_servers: [ {{ host: {rs}, port: 8080 }} ] }}\n"
                );
            }
            None => {
                let rs = if lan == "10.1.0" { "web1" } else { "web2" };
                y += &format!("services:\n  - {{ name: app, vip: {lan}.{vip_octet}, port: 80, real_servers: [ {{ host: {rs} }} ] }}\n");
            }
        }
        y
    }
}

struct Row {
    name: &'static str,
    clusters: Vec<C>,
    /// Extra arguments (`--segment-prefix 8`).
    args: &'static [&'static str],
    /// Pass the scratch directory instead of the files.
    as_directory: bool,
    /// Each clash: (the later cluster's file:line:column, a fragment of the message).
    clashes: Vec<(&'static str, &'static str)>,
}

fn row(name: &'static str, clusters: Vec<C>) -> Row {
    Row { name, clusters, args: &[], as_directory: false, clashes: Vec::new() }
}

impl Row {
    fn args(mut self, args: &'static [&'static str]) -> Row {
        self.args = args;
        self
    }
    fn directory(mut self) -> Row {
        self.as_directory = true;
        self
    }
    fn clash(mut self, at: &'static str, message: &'static str) -> Row {
        self.clashes.push((at, message));
        self
    }
}

fn rows() -> Vec<Row> {
    vec![
        row("same id, one LAN, both multicast", vec![c("a", ["a1", "a2"], 51), c("b", ["b1", "b2"], 51)])
            .clash("b.yml:5:22", "VRRP router id 51 of cluster `b` (VI_1) clashes with cluster `a` (VI_1, ")
            .clash("b.yml:5:22", "both multicast their adverts on 10.1.0.0/24"),
        row("another id on the same LAN", vec![c("a", ["a1", "a2"], 51), c("b", ["b1", "b2"], 52)]),
        row("same id on two LANs", vec![c("a", ["a1", "a2"], 51), c("c", ["c1", "c2"], 51)]),
        row("same id, LANs one /8 with --segment-prefix 8", vec![c("a", ["a1", "a2"], 51), c("c", ["c1", "c2"], 51)])
            .args(&["--segment-prefix", "8"])
            .clash("c.yml:5:22", "both multicast their adverts on 10.0.0.0/8"),
        row("same id, one LAN, both unicast, disjoint peers", vec![c("a", ["a1", "a2"], 51).unicast(), c("b", ["b1", "b2"], 51).unicast()]),
        row("same id, one LAN, one unicast and one multicast", vec![c("a", ["a1", "a2"], 51).unicast(), c("b", ["b1", "b2"], 51)])
            .clash("b.yml:5:22", "one multicasts its adverts on 10.1.0.0/24"),
        row("same id, both unicast through a shared director", vec![c("a", ["a1", "a2"], 51).unicast(), c("b", ["a1", "b2"], 51).unicast()])
            .clash("b.yml:5:22", "both send unicast adverts to 10.1.0.11"),
        row("same id, multicast, a shared director", vec![c("a", ["a1", "a2"], 51), c("b", ["a2", "b2"], 51)])
            .clash("b.yml:5:22", "both run on the director 10.1.0.12"),
        row("NAT gateways with one id on one inside network, LANs apart", vec![
            c("a", ["a1", "a2"], 51).nat("10.9.0.254", Some(60)),
            c("c", ["c1", "c2"], 71).nat("10.9.0.253", Some(60)),
        ])
        .clash("c.yml:11:22", "VRRP router id 60 of cluster `c` (VI_1_GW) clashes with cluster `a` (VI_1_GW, ")
        .clash("c.yml:11:22", "both multicast their adverts on 10.9.0.0/24"),
        row("a defaulted gateway id (51 + 1) against an explicit one", vec![
            c("a", ["a1", "a2"], 51).nat("10.9.0.254", None),
            c("c", ["c1", "c2"], 71).nat("10.9.0.253", Some(52)),
        ])
        .clash("c.yml:11:22", "clashes with cluster `a` (VI_1_GW, "),
        row("a gateway id equal to another cluster's VIP id, networks apart", vec![
            c("a", ["a1", "a2"], 51).nat("10.9.0.254", Some(60)),
            c("c", ["c1", "c2"], 60),
        ]),
        row("three clusters, one pair of them clashing", vec![c("a", ["a1", "a2"], 51), c("c", ["c1", "c2"], 51), c("d", ["d1", "d2"], 51)])
            .clash("d.yml:5:22", "clashes with cluster `c` (VI_1, "),
        row("ipvsadm runs no VRRP", vec![c("a", ["a1", "a2"], 51), c("b", ["b1", "b2"], 51).ipvsadm()]),
        row("a directory of topologies", vec![c("a", ["a1", "a2"], 51), c("b", ["b1", "b2"], 51)])
            .directory()
            .clash("b.yml:5:22", "both multicast their adverts on 10.1.0.0/24"),
    ]
}

/// Every row, each in its own scratch directory; all failures reported together.
#[test]
fn vrid_clashes_between_clusters_are_reported_where_adverts_meet() {
    let mut failures = Vec::new();
    for r in rows() {
        let dir = Scratch::new("vrid");
        std::fs::write(dir.path().join("inventory.yml"), INVENTORY).unwrap();
        let mut files = Vec::new();
        for cl in &r.clusters {
            let f = dir.path().join(format!("{}.yml", cl.name));
            std::fs::write(&f, cl.yaml()).unwrap();
            // Each cluster is valid on its own: a row is about the set.
            let alone = run(&["validate", f.to_str().unwrap()]);
            if alone.status.code() != Some(0) {
                failures.push(format!("{}: cluster {} is invalid alone:\n{}\n{}", r.name, cl.name, cl.yaml(), stderr(&alone)));
            }
            files.push(f.to_str().unwrap().to_string());
        }
        let mut args: Vec<&str> = vec!["validate"];
        let dir_arg = dir.path().to_str().unwrap().to_string();
        if r.as_directory {
            args.push(&dir_arg);
        } else {
            args.extend(files.iter().map(String::as_str));
        }
        args.extend(r.args);
        let o = run(&args);
        let (out, err) = (stdout(&o), stderr(&o));
        let want_code = if r.clashes.is_empty() { 0 } else { 1 };
        if o.status.code() != Some(want_code) {
            failures.push(format!("{}: exit {:?}, want {want_code}:\n{out}{err}", r.name, o.status.code()));
            continue;
        }
        let distinct: std::collections::BTreeSet<&str> = r.clashes.iter().map(|(at, _)| *at).collect();
        let count_line = format!(": {} router id clash(es)", distinct.len());
        if !out.contains(&count_line) && !err.contains(&count_line) {
            failures.push(format!("{}: no `{count_line}` line:\n{out}{err}", r.name));
        }
        for (at, message) in &r.clashes {
            let located = err.lines().any(|l| l.contains(&format!("{}/{at}", dir.path().display())) && l.contains("error"));
            if !located || !err.contains(message) {
                failures.push(format!("{}: want an error at {at} with `{message}`:\n{err}", r.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} row(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
