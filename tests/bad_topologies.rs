//! Bad topologies, one per row: each must be refused by `lvsctl validate` with exit code 1 and
//! an error at the exact `FILE:LINE:COLUMN` of the offending key or value, and `lvsctl render`
//! must refuse it too without writing anything.
//!
//! Every row starts from `BASE_TOPOLOGY` (which the test first proves valid) and breaks one
//! thing. The rows are full documents so their line and column numbers can be read off the
//! text: the newline right after `r#"` is dropped, so line 1 is the first line shown. Where an
//! input draws several errors, the row asserts the one it is about.
//!
//! All rows run in one test and every mismatch is reported together, with the actual stderr,
//! so one run shows every failing row.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A minimal valid cluster: a keepalived DR pair, one service, two real servers, an edge router.
const BASE_TOPOLOGY: &str = r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#;

/// The lab's hosts in Ansible's inventory layout.
const BASE_INVENTORY: &str = r#"
all:
  children:
    directors:
      hosts:
        lvs1: { ansible_host: 10.77.0.11 }
        lvs2: { ansible_host: 10.77.0.12 }
    real_servers:
      hosts:
        web1: { ansible_host: 10.77.0.21 }
        web2: { ansible_host: 10.77.0.22 }
    routers:
      hosts:
        gw: { ansible_host: 10.77.0.2 }
"#;

/// Named by `vrrp.auth_pass_env` in one row; removed from every run's environment.
const UNSET_VAR: &str = "LVSCTL_TEST_UNSET_VRRP_PASS";

struct Case {
    name: &'static str,
    topology: &'static str,
    inventory: &'static str,
    /// Environment variables set for this row's runs.
    env: Vec<(&'static str, &'static str)>,
    /// The file the error is reported in: `t.yml` (the topology) or `inv.yml`.
    file: &'static str,
    /// `LINE:COLUMN`, 1-based.
    at: &'static str,
    /// A substring of the error message.
    message: &'static str,
    /// A substring of the `  hint:` line right after the error.
    hint: Option<&'static str>,
    /// Text that must appear nowhere in the output (a VRRP password).
    secret: Option<&'static str>,
}

impl Case {
    fn new(name: &'static str, topology: &'static str) -> Case {
        Case {
            name,
            topology,
            inventory: BASE_INVENTORY,
            env: Vec::new(),
            file: "t.yml",
            at: "",
            message: "",
            hint: None,
            secret: None,
        }
    }

    /// The expected error, located in the topology.
    fn error(mut self, at: &'static str, message: &'static str) -> Case {
        self.at = at;
        self.message = message;
        self
    }

    /// The expected error, located in the inventory.
    fn inventory_error(mut self, at: &'static str, message: &'static str) -> Case {
        self.file = "inv.yml";
        self.error(at, message)
    }

    fn hint(mut self, hint: &'static str) -> Case {
        self.hint = Some(hint);
        self
    }

    fn inventory(mut self, inventory: &'static str) -> Case {
        self.inventory = inventory;
        self
    }

    fn env(mut self, name: &'static str, value: &'static str) -> Case {
        self.env.push((name, value));
        self
    }

    fn secret(mut self, secret: &'static str) -> Case {
        self.secret = Some(secret);
        self
    }
}

fn cases() -> Vec<Case> {
    vec![
        // ----- keys -----
        Case::new("unknown top-level key", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
servcies:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("6:1", "unknown key `servcies`")
        .hint("did you mean `services`?"),
        Case::new("unknown key in a service", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    schedular: wrr
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:5", "unknown key `services[0].schedular`")
        .hint("did you mean `scheduler`?"),
        Case::new("keepalived habit nb_get_retry in check", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    check: { type: tcp, nb_get_retry: 3 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:25", "unknown key `services[0].check.nb_get_retry`")
        .hint("write `retry`"),
        Case::new("keepalived habit lb_kind in a service", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    lb_kind: DR
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:5", "unknown key `services[0].lb_kind`")
        .hint("write `mode`"),
        Case::new("keepalived habit state in vrrp", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  state: MASTER
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("4:3", "unknown key `vrrp.state`")
        .hint("the first of `directors.hosts` is the MASTER"),
        Case::new("duplicate YAML key", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    port: 8080
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:5", "duplicate mapping key: port")
        .hint("each key may appear only once"),
        // Inside the unclosed `{`, `eth0` and `vrrp` read as one plain scalar: the parser can
        // only tell something is wrong at the `:` after `vrrp`.
        Case::new("YAML syntax error: unclosed flow mapping", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("2:5", "invalid YAML: "),
        Case::new("services given as a mapping", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  http:
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("7:3", "`services` must be a list, found a mapping")
        .hint("lines starting with `- `"),
        Case::new("real_servers given as one name", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: web1
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:19", "`services[0].real_servers` must be a list, found `web1`"),
        Case::new("missing vip", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("7:5", "`services[0].vip` is missing"),
        // ----- addresses and ports -----
        Case::new("invalid VIP", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.300
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("8:10", "`services[0].vip`: `10.77.0.300` is not a valid IPv4 address"),
        Case::new("VIP written with a prefix length", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100/32
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("8:10", "`services[0].vip`: `10.77.0.100/32` is not a valid IPv4 address")
        .hint("without a prefix length"),
        Case::new("VIP equal to a host address", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.21
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("8:10", "VIP 10.77.0.21 is the address of host `web1`"),
        Case::new("invalid CIDR for router.internal_network", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/33, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:61", "`router.internal_network`: `10.77.0.0/33` is not a valid IPv4 network")
        .hint("ADDRESS/PREFIX"),
        Case::new("port 0", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 0
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("9:11", "`services[0].port` is 0, outside 1..65535"),
        Case::new("port 70000", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 70000
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("9:11", "`services[0].port` is 70000, outside 1..65535"),
        Case::new("real server weight out of range", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1, weight: 70000 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:43", "`services[0].real_servers[0].weight` is 70000, outside 0..65535"),
        // ----- VRRP -----
        Case::new("vrid 0", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 0
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("3:22", "`vrrp.virtual_router_id` is 0, outside 1..255"),
        Case::new("vrid 256", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 256
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("3:22", "`vrrp.virtual_router_id` is 256, outside 1..255")
        .hint("VRRP router ids are 1 to 255"),
        Case::new("vrid not a number", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: fifty-one
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("3:22", "`vrrp.virtual_router_id` must be a number from 1 to 255, found `fifty-one`"),
        Case::new("equal priorities", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 100, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("5:34", "directors `lvs1` and `lvs2` have the same priority 100"),
        Case::new("priority 255", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 255, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("5:23", "priority 255 of `lvs1` is out of range")
        .hint("255 is reserved for the address owner"),
        Case::new("priority for a host that is not a director", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100, web1: 50 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("5:39", "`vrrp.priorities` names `web1`, which is not a director"),
        // Regressions found while writing this table (each was accepted or misreported).
        Case::new("auth_pass of 8 characters but 10 bytes", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: pässwörd
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("4:14", "`vrrp.auth_pass` is 10 bytes long; VRRP PASS authentication uses at most 8")
        .secret("pässwörd"),
        Case::new("NAT gateway equal to a service VIP", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
nat: { internal_interface: eth1, gateway_vip: 10.77.0.100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: nat
    real_servers: [ { host: web1 }, { host: web2 } ]
"#)
        .error("6:47", "`nat.gateway_vip` 10.77.0.100 is also used as VIP"),
        Case::new("router public_ip equal to a host address", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.0.21, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:32", "`router.public_ip` 10.77.0.21 is the address of host `web1`"),
        Case::new("router public_ip equal to the VIP", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.0.100, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:32", "`router.public_ip` 10.77.0.100 is also used as VIP"),
        Case::new("negative virtual_router_id keeps its value in the message", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: -1
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("3:22", "`vrrp.virtual_router_id` is -1, outside 1..255"),
        Case::new("MASTER with a lower priority than the backup", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 100, lvs2: 150 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("5:23", "`lvs1` is the MASTER (first in `directors.hosts`) but `lvs2` has a higher priority (150 > 100)")
        .hint("the first director must have the highest priority"),
        Case::new("auth_pass longer than 8 characters", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: sup3rs3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("4:14", "`vrrp.auth_pass` is 11 bytes long; VRRP PASS authentication uses at most 8")
        .hint("silently truncates")
        .secret("sup3rs3cret"),
        Case::new("auth_pass from the environment longer than 8 characters", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass_env: LVSCTL_TEST_VRRP_PASS
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .env("LVSCTL_TEST_VRRP_PASS", "env5ecret99")
        .error("4:18", "`environment variable LVSCTL_TEST_VRRP_PASS` is 11 bytes long")
        .secret("env5ecret99"),
        Case::new("auth_pass and auth_pass_env both set", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  auth_pass_env: VRRP_PASS
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .env("VRRP_PASS", "0ther5ec")
        .error("5:18", "set either `vrrp.auth_pass` or `vrrp.auth_pass_env`, not both")
        .secret("0ther5ec"),
        Case::new("auth_pass_env naming an unset variable", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass_env: LVSCTL_TEST_UNSET_VRRP_PASS
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("4:18", "`vrrp.auth_pass_env`: environment variable `LVSCTL_TEST_UNSET_VRRP_PASS` is not set")
        .hint("export LVSCTL_TEST_UNSET_VRRP_PASS="),
        Case::new("keepalived pair without a vrrp section", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:12", "2 keepalived directors need a `vrrp` section to share the VIPs"),
        Case::new("ipvsadm engine with two directors", r#"
directors: { hosts: [lvs1, lvs2], engine: ipvsadm, interface: eth0 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:28", "`engine: ipvsadm` drives a single director, but 2 are listed"),
        Case::new("unknown engine", r#"
directors: { hosts: [lvs1, lvs2], engine: ipvs, interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:43", "`directors.engine`: unknown value `ipvs`")
        .hint("one of: keepalived, ipvsadm"),
        Case::new("director listed twice", r#"
directors: { hosts: [lvs1, lvs2, lvs1], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:34", "director `lvs1` is listed twice"),
        // ----- enumerations -----
        Case::new("unknown scheduler", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    scheduler: wrrr
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:16", "`services[0].scheduler`: unknown value `wrrr`")
        .hint("did you mean `wrr`?"),
        Case::new("unknown mode DRR", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: DRR
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:11", "`services[0].mode`: unknown value `DRR`")
        .hint("did you mean `dr`?"),
        Case::new("unknown mode fullnat", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: fullnat
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:11", "`services[0].mode`: unknown value `fullnat`")
        .hint("one of: dr, nat, tun"),
        Case::new("unknown protocol", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    protocol: sctp
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:15", "`services[0].protocol`: unknown value `sctp`")
        .hint("one of: tcp, udp"),
        // The hint is not asserted: it suggests `tcp`, not `http_get` (reported separately).
        Case::new("unknown check type", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    check: { type: http }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:20", "`services[0].check.type`: unknown value `http`")
        .hint("did you mean `http_get`?"),
        // ----- hosts -----
        Case::new("director missing from the inventory", r#"
directors: { hosts: [lsv1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:22", "director `lsv1` is not in the inventory")
        .hint("did you mean `lvs1`?"),
        Case::new("real server missing from the inventory", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web7 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:45", "real server `web7` is not in the inventory"),
        Case::new("router host missing from the inventory", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: edge, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:17", "router `edge` is not in the inventory"),
        Case::new("director that is also a real server", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: lvs2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:45", "`lvs2` is a director and cannot also be a real server"),
        // ----- services -----
        Case::new("duplicate service name", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
  - name: http
    vip: 10.77.0.101
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:11", "duplicate service name `http` (first defined at t.yml:7:11)"),
        Case::new("duplicate service endpoint under two names", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
  - name: web
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("12:10", "duplicate virtual service 10.77.0.100:80/tcp: `http` already serves it"),
        Case::new("duplicate real server in one service", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web1 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:45", "duplicate real server `web1` port 80 in service `http` (first at t.yml:10:29)")
        .hint("lists the same real server twice"),
        Case::new("DR real server port differs from the service port", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1, port: 8080 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:41", "real server port 8080 differs from the service port 80 in DR mode")
        .hint("only NAT can remap ports"),
        Case::new("TUN real server port differs from the service port", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: tun
    real_servers: [ { host: web1, port: 8080 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:41", "real server port 8080 differs from the service port 80 in TUN mode"),
        Case::new("check path not starting with a slash", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    check: { type: http_get, path: health }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:36", "`services[0].check.path` must start with `/`"),
        // ----- NAT -----
        Case::new("NAT service without a nat section", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: nat
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:11", "a NAT service needs a `nat` section"),
        Case::new("NAT pair without gateway_vip", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: nat
    real_servers: [ { host: web1 }, { host: web2 } ]
nat: { internal_interface: eth1 }
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("12:6", "a NAT director pair needs `nat.gateway_vip`"),
        Case::new("NAT gateway router id equal to the VRRP one", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    mode: nat
    real_servers: [ { host: web1 }, { host: web2 } ]
nat: { internal_interface: eth1, gateway_vip: 10.77.1.254, virtual_router_id: 51 }
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("12:79", "`nat.virtual_router_id` 51 equals `vrrp.virtual_router_id`"),
        // ----- router -----
        Case::new("router forward naming an unknown service", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: htpp } ] }
"#)
        .error("11:108", "`router.forwards[0]`: no service named `htpp`")
        .hint("did you mean `http`?"),
        Case::new("public port forwarded twice", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http }, { port: 80, service: http } ] }
"#)
        .error("11:124", "public port 80 is forwarded twice (first at t.yml:11:95)"),
        // ----- config injection: no value may change the structure of a generated file -----
        Case::new("newline in the VRRP instance name", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  instance: "VI_1\nvrrp_script chk { script /tmp/x }"
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("3:13", "`vrrp.instance` contains a newline, which would change the structure of the generated config")
        .hint("use letters, digits"),
        Case::new("closing brace in the interface", r#"
directors: { hosts: [lvs1, lvs2], interface: "eth0}" }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:46", "`directors.interface` contains `}`, which would change the structure of the generated config"),
        Case::new("comment character in auth_pass", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: "s3c#ret"
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("4:14", "`vrrp.auth_pass` contains `#`, which would change the structure of the generated config")
        .secret("s3c#ret"),
        Case::new("space in notification_email", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0, notification_email: "ops team@example.com", smtp_server: 127.0.0.1 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:72", "`directors.notification_email` contains a space; it must be a single word"),
        Case::new("double quote in the check path", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    check: { type: http_get, path: '/health"x' }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:36", "`services[0].check.path` contains a double quote, which would change the structure of the generated config"),
        Case::new("slash in the service name", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: web/http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: web/http } ] }
"#)
        .error("7:11", "`services[0].name`: `web/http` may hold only letters, digits, `_`, `-` and `.`"),
        Case::new("interface name too long", r#"
directors: { hosts: [lvs1, lvs2], interface: enp0s31f6.100000 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:46", "`directors.interface`: `enp0s31f6.100000` is not a valid interface name")
        .hint("at most 15 characters"),
        // ----- notification -----
        Case::new("notification_email that is not an address", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0, notification_email: ops, smtp_server: 127.0.0.1 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:72", "`ops` is not an email address"),
        Case::new("notification_email without smtp_server", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0, notification_email: ops@example.com }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("1:12", "`directors.notification_email` needs `smtp_server`")
        .hint("smtp_server: 127.0.0.1"),
        // ----- inventory -----
        Case::new("inventory: ansible_port that is not a number", BASE_TOPOLOGY)
            .inventory(r#"
all:
  children:
    directors:
      hosts:
        lvs1: { ansible_host: 10.77.0.11 }
        lvs2: { ansible_host: 10.77.0.12 }
    real_servers:
      hosts:
        web1: { ansible_host: 10.77.0.21, ansible_port: http }
        web2: { ansible_host: 10.77.0.22 }
    routers:
      hosts:
        gw: { ansible_host: 10.77.0.2 }
"#)
            .inventory_error("9:57", "host `web1`: `ansible_port` is `http`, not a port number (1..65535)"),
        Case::new("inventory: address that is not an IPv4 address", BASE_TOPOLOGY)
            .inventory(r#"
all:
  children:
    directors:
      hosts:
        lvs1: { ansible_host: 10.77.0.11 }
        lvs2: { ansible_host: 10.77.0.12 }
    real_servers:
      hosts:
        web1: { ansible_host: 10.77.0.21 }
        web2: { ansible_host: web2.lab, address: 10.77.0.0.22 }
    routers:
      hosts:
        gw: { ansible_host: 10.77.0.2 }
"#)
            .inventory_error("10:50", "host `web2`: `address` is `10.77.0.0.22`, not an IPv4 address"),
        Case::new("inventory: unusable host name", BASE_TOPOLOGY)
            .inventory(r#"
all:
  children:
    directors:
      hosts:
        lvs1: { ansible_host: 10.77.0.11 }
        lvs2: { ansible_host: 10.77.0.12 }
    real_servers:
      hosts:
        web1: { ansible_host: 10.77.0.21 }
        web2: { ansible_host: 10.77.0.22 }
        ../web3: { ansible_host: 10.77.0.23 }
    routers:
      hosts:
        gw: { ansible_host: 10.77.0.2 }
"#)
            .inventory_error("11:9", "host name `../web3` is not usable"),
        Case::new("inventory: closing brace in a director's interface", BASE_TOPOLOGY)
            .inventory(r#"
all:
  children:
    directors:
      hosts:
        lvs1: { ansible_host: 10.77.0.11, interface: "eth0}" }
        lvs2: { ansible_host: 10.77.0.12 }
    real_servers:
      hosts:
        web1: { ansible_host: 10.77.0.21 }
        web2: { ansible_host: 10.77.0.22 }
    routers:
      hosts:
        gw: { ansible_host: 10.77.0.2 }
"#)
            .inventory_error("5:54", "contains `}`, which would change the structure of the generated config"),
        Case::new("real server without an IPv4 address", BASE_TOPOLOGY)
            .inventory(r#"
all:
  children:
    directors:
      hosts:
        lvs1: { ansible_host: 10.77.0.11 }
        lvs2: { ansible_host: 10.77.0.12 }
    real_servers:
      hosts:
        web1: { ansible_host: 10.77.0.21 }
        web2: { ansible_host: web2.lab }
    routers:
      hosts:
        gw: { ansible_host: 10.77.0.2 }
"#)
            .error("10:45", "real server `web2` has no IPv4 address")
            .hint("set `address`"),
        // ----- keepalived's own limits -----
        Case::new("persistence_timeout 0", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    persistence_timeout: 0
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:26", "`services[0].persistence_timeout` is 0; keepalived accepts 1 to 2678400 seconds")
        .hint("to turn persistence off, remove `persistence_timeout`"),
        Case::new("persistence_timeout over 31 days", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    persistence_timeout: 2678401
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:26", "`services[0].persistence_timeout` is 2678401 seconds; keepalived accepts 1 to 2678400 (31 days)")
        .hint("write at most 2678400"),
        Case::new("unicast VRRP with a single director", r#"
directors: { hosts: [lvs1], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  unicast: true
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("5:12", "`vrrp.unicast` needs a second director")
        .hint("remove `vrrp.unicast`"),
        // ----- the virtual-server vocabulary -----
        Case::new("sorry_server written as keepalived's one line", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: 10.77.0.30 80
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:19", "`services[0].sorry_server` must be a mapping, found `10.77.0.30 80`")
        .hint("write `sorry_server: { address: 10.77.0.30, port: 80 }`"),
        Case::new("unknown key in sorry_server", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { hots: web2 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:21", "unknown key `services[0].sorry_server.hots`")
        .hint("did you mean `host`?"),
        Case::new("sorry_server with both host and address", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { host: web2, address: 10.77.0.30 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:42", "set either `services[0].sorry_server.host` or `services[0].sorry_server.address`, not both"),
        Case::new("sorry_server with neither host nor address", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { port: 80 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:19", "`services[0].sorry_server` needs `host` or `address`")
        .hint("sorry_server: { host: NAME }"),
        Case::new("sorry server host missing from the inventory", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { host: web9 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:27", "sorry server `web9` is not in the inventory"),
        Case::new("sorry server that is a director", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { host: lvs2 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:27", "`lvs2` is a director and cannot be the sorry server")
        .hint("write `address: 127.0.0.1`"),
        Case::new("sorry server at a director's address", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { address: 10.77.0.12 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:30", "sorry server 10.77.0.12 is the address of director `lvs2`"),
        Case::new("sorry server at the service VIP", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { address: 10.77.0.100 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:30", "sorry server 10.77.0.100 is the service's own VIP"),
        Case::new("sorry server on another port in DR mode", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { address: 10.77.0.30, port: 8080 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:48", "sorry server port 8080 differs from the service port 80 in DR mode")
        .hint("only NAT can remap ports"),
        Case::new("sorry_server_inhibit without sorry_server", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server_inhibit: true
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:27", "`services[0].sorry_server_inhibit` needs `sorry_server`"),
        Case::new("unknown sorry_server_lvs_method", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { address: 10.77.0.30 }
    sorry_server_lvs_method: fullnat
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:30", "`services[0].sorry_server_lvs_method`: unknown value `fullnat`")
        .hint("one of: dr, nat, tun"),
        Case::new("NAT sorry server without a nat section", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    sorry_server: { address: 10.77.0.30, port: 8080 }
    sorry_server_lvs_method: NAT
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:30", "a NAT sorry server needs a `nat` section"),
        Case::new("sorry server that is a real server with another inhibit setting", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    inhibit_on_failure: true
    sorry_server: { host: web2 }
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:19", "the sorry server is real server `web2`, but `sorry_server_inhibit` is false and its `inhibit_on_failure` is true")
        .hint("make them agree"),
        Case::new("quorum above the real servers' total weight", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum: 3
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:13", "`services[0].quorum` is 3, more than the total weight 2 of the real servers of `http`")
        .hint("could never be up"),
        Case::new("hysteresis not below the quorum", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum: 2
    hysteresis: 2
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:17", "`services[0].hysteresis` is 2; it must be less than the quorum 2")
        .hint("down below quorum - hysteresis"),
        Case::new("quorum 0", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum: 0
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:13", "`services[0].quorum` is 0, outside 1..4294967295"),
        Case::new("every real server drained", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1, weight: 0 }, { host: web2, weight: 0 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:19", "every real server of service `http` has weight 0")
        .hint("keep one real server with a weight"),
        Case::new("quorum_up not an absolute path", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum_up: notify.sh
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:16", "`services[0].quorum_up`: `notify.sh` is not an absolute path")
        .hint("write the full path"),
        Case::new("quorum_down with arguments", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum_down: "/usr/local/bin/notify.sh DOWN"
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:18", "`services[0].quorum_down` contains a blank: lvsctl takes the path of a script, without arguments")
        .hint("executable script"),
        Case::new("semicolon in quorum_up", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum_up: /bin/true;reboot
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:16", "`services[0].quorum_up` contains `;`, which would change the structure of the generated config"),
        Case::new("persistence_granularity without persistence_timeout", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    persistence_granularity: 255.255.255.0
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:30", "`services[0].persistence_granularity` needs `persistence_timeout`")
        .hint("set `persistence_timeout: SECONDS`"),
        Case::new("persistence_granularity written as a prefix length", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    persistence_timeout: 300
    persistence_granularity: 24
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:30", "`services[0].persistence_granularity`: `24` is a prefix length; keepalived wants a netmask")
        .hint("write `persistence_granularity: 255.255.255.0`"),
        Case::new("persistence_granularity not a contiguous netmask", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    persistence_timeout: 300
    persistence_granularity: 255.0.255.0
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("11:30", "`services[0].persistence_granularity`: `255.0.255.0` is not a contiguous netmask"),
        Case::new("ops on a TCP service", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    ops: true
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:10", "`services[0].ops` (one-packet scheduling) works only for UDP, but service `http` is TCP")
        .hint("set `protocol: udp`"),
        Case::new("alpha written as a bare keyword", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    alpha:
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:5", "`services[0].alpha` has no value")
        .hint("write `alpha: true`"),
        Case::new("real server inhibit_on_failure that is not a boolean", r#"
directors: { hosts: [lvs1, lvs2], interface: eth0 }
vrrp:
  virtual_router_id: 51
  auth_pass: s3cret
  priorities: { lvs1: 150, lvs2: 100 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1, inhibit_on_failure: sometimes }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("10:55", "`services[0].real_servers[0].inhibit_on_failure` must be true or false, found `sometimes`"),
        Case::new("quorum with the ipvsadm engine", r#"
directors: { hosts: [lvs1], engine: ipvsadm, interface: eth0 }
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    quorum: 1
    real_servers: [ { host: web1 }, { host: web2 } ]
router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }
"#)
        .error("6:13", "`services[0].quorum` needs `engine: keepalived`")
        .hint("no quorum, sorry server"),
    ]
}

/// A row's text as written in the table: without the newline right after `r#"`.
fn text(s: &str) -> &str {
    s.strip_prefix('\n').unwrap_or(s)
}

fn lvsctl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvsctl"));
    cmd.args(args)
        .current_dir(dir)
        // Backtraces and forced colors would change stderr.
        .env_remove("RUST_BACKTRACE")
        .env_remove("CLICOLOR_FORCE")
        .env_remove(UNSET_VAR);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run lvsctl: {e}"))
}

fn write_case(dir: &Path, topology: &str, inventory: &str) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create case dir");
    std::fs::write(dir.join("t.yml"), text(topology)).expect("write t.yml");
    std::fs::write(dir.join("inv.yml"), text(inventory)).expect("write inv.yml");
}

fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// Everything wrong with one row's runs; empty when the row passes.
fn check(case: &Case, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let validate = lvsctl(dir, &["validate", "t.yml", "-i", "inv.yml"], &case.env);
    let stderr = String::from_utf8_lossy(&validate.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&validate.stdout).into_owned();
    if validate.status.code() != Some(1) {
        problems.push(format!("validate: exit status {:?}, want 1", validate.status.code()));
    }
    let prefix = format!("{}:{}: error: ", case.file, case.at);
    let lines: Vec<&str> = stderr.lines().collect();
    let found = lines.iter().position(|l| l.strip_prefix(&prefix).is_some_and(|m| m.contains(case.message)));
    match found {
        None => problems.push(format!("validate: no line `{prefix}...{}...` in stderr", case.message)),
        Some(i) => {
            if let Some(hint) = case.hint {
                let next = lines.get(i + 1).copied().unwrap_or("");
                if !(next.starts_with("  hint: ") && next.contains(hint)) {
                    problems.push(format!("validate: the error is not followed by `  hint: ...{hint}...`"));
                }
            }
        }
    }
    if stderr.contains("panicked") {
        problems.push("validate: panicked".into());
    }

    let render = lvsctl(dir, &["render", "t.yml", "-i", "inv.yml", "--out", "out"], &case.env);
    let render_stderr = String::from_utf8_lossy(&render.stderr).into_owned();
    let render_stdout = String::from_utf8_lossy(&render.stdout).into_owned();
    if render.status.code() != Some(1) {
        problems.push(format!("render: exit status {:?}, want 1", render.status.code()));
    }
    if dir.join("out").exists() {
        problems.push("render: created `out`".into());
    }
    if !render_stderr.lines().any(|l| l.strip_prefix(&prefix).is_some_and(|m| m.contains(case.message))) {
        problems.push(format!("render: no line `{prefix}...{}...` in stderr", case.message));
    }
    if render_stderr.contains("panicked") {
        problems.push("render: panicked".into());
    }

    if let Some(secret) = case.secret {
        for (what, out) in [("validate stdout", &stdout), ("validate stderr", &stderr), ("render stdout", &render_stdout), ("render stderr", &render_stderr)] {
            if out.contains(secret) {
                problems.push(format!("{what} shows the secret `{secret}`"));
            }
        }
    }
    if !problems.is_empty() {
        problems.push(format!("validate stderr:\n{stderr}"));
    }
    problems
}

#[test]
fn bad_topologies_are_refused_at_the_right_place() {
    let root: PathBuf = std::env::temp_dir().join(format!("lvsctl-bad-topologies-{}", std::process::id()));
    let mut failures: Vec<String> = Vec::new();

    // The base must be valid, or every row would test something else than it says.
    let base_dir = root.join("00-base");
    write_case(&base_dir, BASE_TOPOLOGY, BASE_INVENTORY);
    let validate = lvsctl(&base_dir, &["validate", "t.yml", "-i", "inv.yml"], &[]);
    let render = lvsctl(&base_dir, &["render", "t.yml", "-i", "inv.yml", "--out", "out"], &[]);
    if validate.status.code() != Some(0) || render.status.code() != Some(0) || !base_dir.join("out").is_dir() {
        failures.push(format!(
            "BASE_TOPOLOGY: validate {:?}, render {:?}, want 0 and a rendered `out`\n{}",
            validate.status.code(),
            render.status.code(),
            String::from_utf8_lossy(&validate.stderr)
        ));
    }

    let cases = cases();
    assert!(cases.len() >= 36, "only {} cases", cases.len());
    let mut names = std::collections::BTreeSet::new();
    for (i, case) in cases.iter().enumerate() {
        assert!(names.insert(case.name), "two rows are named `{}`", case.name);
        assert!(!case.at.is_empty() && !case.message.is_empty(), "row `{}` expects no error", case.name);
        let dir = root.join(format!("{:02}-{}", i + 1, slug(case.name)));
        write_case(&dir, case.topology, case.inventory);
        let problems = check(case, &dir);
        if problems.is_empty() {
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            failures.push(format!("row {} `{}` ({}):\n  {}", i + 1, case.name, dir.display(), problems.join("\n  ")));
        }
    }

    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&root);
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n\n{}", failures.len(), cases.len() + 1, failures.join("\n\n"));
}
