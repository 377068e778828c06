//! Bad topologies, one test per row: each must be refused by `lvsctl validate` with exit code 1
//! and an error at the exact `FILE:LINE:COLUMN` of the offending key or value, and `lvsctl
//! render` must refuse it too without writing anything.
//!
//! A row is `BASE_TOPOLOGY` and `BASE_INVENTORY` (which `the_base_is_valid` proves valid) with
//! one thing broken by a few line edits of one of them: `topology()` or `inventory()`, then
//! `set`, `insert` and `delete`. Each edit counts lines in the document the edits before it
//! left, and rows edit from top to bottom, so the line of a `set` or an `insert` is its line in
//! the broken document, the one the expected `LINE:COLUMN` points into. Where an input draws
//! several errors, the row asserts the one it is about.
//!
//! `rows!` makes every row its own test, named after the row, so each is listed and reported
//! on its own; a failing row shows the actual stderr and keeps its files in the temp dir.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A minimal valid cluster: a keepalived DR pair, one service, two real servers, an edge router.
/// Lines: 1 `directors`; 2-5 `vrrp` (3 `virtual_router_id`, 4 `auth_pass`, 5 `priorities`);
/// 6 `services`, 7 `- name`, 8 `vip`, 9 `port`, 10 `real_servers`; 11 `router`.
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
/// Lines: 5 `lvs1`, 6 `lvs2`; 9 `web1`, 10 `web2`; 13 `gw`.
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

/// The base document a row breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Doc {
    Topology,
    Inventory,
}

/// One line edit; line numbers are 1-based.
enum Edit {
    /// Replace the line with the text.
    Set(usize, &'static str),
    /// Insert the text (one or more lines) so that it starts at this line.
    Insert(usize, &'static str),
    /// Remove these lines.
    Delete(RangeInclusive<usize>),
}

struct Case {
    /// The document the edits apply to; the other stays as its base.
    doc: Doc,
    edits: Vec<Edit>,
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

/// A row that breaks the topology.
fn topology() -> Case {
    Case::new(Doc::Topology)
}

/// A row that breaks the inventory.
fn inventory() -> Case {
    Case::new(Doc::Inventory)
}

impl Case {
    fn new(doc: Doc) -> Case {
        Case { doc, edits: Vec::new(), env: Vec::new(), file: "t.yml", at: "", message: "", hint: None, secret: None }
    }

    fn set(mut self, line: usize, text: &'static str) -> Case {
        self.edits.push(Edit::Set(line, text));
        self
    }

    fn insert(mut self, line: usize, text: &'static str) -> Case {
        self.edits.push(Edit::Insert(line, text));
        self
    }

    fn delete(mut self, lines: RangeInclusive<usize>) -> Case {
        self.edits.push(Edit::Delete(lines));
        self
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

    fn env(mut self, name: &'static str, value: &'static str) -> Case {
        self.env.push((name, value));
        self
    }

    fn secret(mut self, secret: &'static str) -> Case {
        self.secret = Some(secret);
        self
    }

    /// The row's topology and inventory: the bases, one of them edited.
    fn documents(&self) -> (String, String) {
        let edited = |doc: Doc, base: &str| if doc == self.doc { edit(text(base), &self.edits) } else { text(base).to_string() };
        (edited(Doc::Topology, BASE_TOPOLOGY), edited(Doc::Inventory, BASE_INVENTORY))
    }
}

/// `base` with the edits applied in order.
fn edit(base: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<&str> = base.lines().collect();
    for e in edits {
        match e {
            Edit::Set(n, text) => {
                assert!((1..=lines.len()).contains(n), "set({n}): the document has {} lines", lines.len());
                lines.splice(n - 1..*n, text.lines());
            }
            Edit::Insert(n, text) => {
                assert!((1..=lines.len() + 1).contains(n), "insert({n}): the document has {} lines", lines.len());
                lines.splice(n - 1..n - 1, text.lines());
            }
            Edit::Delete(range) => {
                assert!(*range.start() >= 1 && range.start() <= range.end() && *range.end() <= lines.len(), "delete({range:?}): the document has {} lines", lines.len());
                lines.drain(range.start() - 1..*range.end());
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// One `#[test]` per row, named after it.
macro_rules! rows {
    ($($name:ident = $case:expr;)*) => {
        $(
            #[test]
            fn $name() {
                refused(stringify!($name), $case);
            }
        )*

        /// The name of every row.
        const ROWS: &[&str] = &[$(stringify!($name)),*];
    };
}

rows! {
    // ----- keys -----
    unknown_top_level_key = topology()
        .set(6, "servcies:")
        .error("6:1", "unknown key `servcies`")
        .hint("did you mean `services`?");
    unknown_key_in_a_service = topology()
        .insert(10, "    schedular: wrr")
        .error("10:5", "unknown key `services[0].schedular`")
        .hint("did you mean `scheduler`?");
    keepalived_habit_nb_get_retry_in_check = topology()
        .insert(10, "    check: { type: tcp, nb_get_retry: 3 }")
        .error("10:25", "unknown key `services[0].check.nb_get_retry`")
        .hint("write `retry`");
    keepalived_habit_lb_kind_in_a_service = topology()
        .insert(10, "    lb_kind: DR")
        .error("10:5", "unknown key `services[0].lb_kind`")
        .hint("write `mode`");
    keepalived_habit_state_in_vrrp = topology()
        .insert(4, "  state: MASTER")
        .error("4:3", "unknown key `vrrp.state`")
        .hint("the first of `directors.hosts` is the MASTER");
    keepalived_habit_lvs_sync_daemon_interface_in_vrrp = topology()
        .insert(4, "  lvs_sync_daemon_interface: eth0")
        .error("4:3", "unknown key `vrrp.lvs_sync_daemon_interface`")
        .hint("write `vrrp.connection_sync: true`");
    duplicate_yaml_key = topology()
        .insert(10, "    port: 8080")
        .error("10:5", "duplicate mapping key: port")
        .hint("each key may appear only once");
    // Inside the unclosed `{`, `eth0` and `vrrp` read as one plain scalar: the parser can
    // only tell something is wrong at the `:` after `vrrp`.
    yaml_syntax_error_unclosed_flow_mapping = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2], interface: eth0")
        .error("2:5", "invalid YAML: ");
    services_given_as_a_mapping = topology()
        .set(7, "  http:")
        .error("7:3", "`services` must be a list, found a mapping")
        .hint("lines starting with `- `");
    real_servers_given_as_one_name = topology()
        .set(10, "    real_servers: web1")
        .error("10:19", "`services[0].real_servers` must be a list, found `web1`");
    missing_vip = topology()
        .delete(8..=8)
        .error("7:5", "`services[0].vip` is missing");
    // ----- addresses and ports -----
    invalid_vip = topology()
        .set(8, "    vip: 10.77.0.300")
        .error("8:10", "`services[0].vip`: `10.77.0.300` is not a valid IP address");
    vip_written_with_a_prefix_length = topology()
        .set(8, "    vip: 10.77.0.100/32")
        .error("8:10", "`services[0].vip`: `10.77.0.100/32` is not a valid IP address")
        .hint("without a prefix length");
    vip_equal_to_a_host_address = topology()
        .set(8, "    vip: 10.77.0.21")
        .error("8:10", "VIP 10.77.0.21 is the address of host `web1`");
    invalid_cidr_for_router_internal_network = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/33, forwards: [ { port: 80, service: http } ] }")
        .error("11:61", "`router.internal_network`: `10.77.0.0/33` is not a valid IPv4 network")
        .hint("ADDRESS/PREFIX");
    router_conntrack_table_too_small = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, conntrack_max: 1024, forwards: [ { port: 80, service: http } ] }")
        .error("11:90", "`router.conntrack_max` is 1024, outside 4096..2147483647");
    drain_timeout_over_an_hour = topology()
        .set(9, "    port: 80\n    drain_timeout: 5000")
        .error("10:20", "`services[0].drain_timeout` is 5000, outside 0..3600");
    port_0 = topology()
        .set(9, "    port: 0")
        .error("9:11", "`services[0].port` is 0, outside 1..65535");
    port_70000 = topology()
        .set(9, "    port: 70000")
        .error("9:11", "`services[0].port` is 70000, outside 1..65535");
    real_server_weight_out_of_range = topology()
        .set(10, "    real_servers: [ { host: web1, weight: 70000 }, { host: web2 } ]")
        .error("10:43", "`services[0].real_servers[0].weight` is 70000, outside 0..65535");
    // ----- VRRP -----
    vrid_0 = topology()
        .set(3, "  virtual_router_id: 0")
        .error("3:22", "`vrrp.virtual_router_id` is 0, outside 1..255");
    vrid_256 = topology()
        .set(3, "  virtual_router_id: 256")
        .error("3:22", "`vrrp.virtual_router_id` is 256, outside 1..255")
        .hint("VRRP router ids are 1 to 255");
    vrid_not_a_number = topology()
        .set(3, "  virtual_router_id: fifty-one")
        .error("3:22", "`vrrp.virtual_router_id` must be a number from 1 to 255, found `fifty-one`");
    equal_priorities = topology()
        .set(5, "  priorities: { lvs1: 100, lvs2: 100 }")
        .error("5:34", "directors `lvs1` and `lvs2` have the same priority 100");
    priority_255 = topology()
        .set(5, "  priorities: { lvs1: 255, lvs2: 100 }")
        .error("5:23", "priority 255 of `lvs1` is out of range")
        .hint("255 is reserved for the address owner");
    priority_for_a_host_that_is_not_a_director = topology()
        .set(5, "  priorities: { lvs1: 150, lvs2: 100, web1: 50 }")
        .error("5:39", "`vrrp.priorities` names `web1`, which is not a director");
    // Regressions found while writing this table (each was accepted or misreported).
    auth_pass_of_8_characters_but_10_bytes = topology()
        .set(4, "  auth_pass: pässwörd")
        .error("4:14", "`vrrp.auth_pass` is 10 bytes long; VRRP PASS authentication uses at most 8")
        .secret("pässwörd");
    nat_gateway_equal_to_a_service_vip = topology()
        .insert(6, "nat: { internal_interface: eth1, gateway_vip: 10.77.0.100 }")
        .insert(11, "    mode: nat")
        .delete(13..=13)
        .error("6:47", "`nat.gateway_vip` 10.77.0.100 is also used as VIP");
    router_public_ip_equal_to_a_host_address = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.0.21, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }")
        .error("11:32", "`router.public_ip` 10.77.0.21 is the address of host `web1`");
    router_public_ip_equal_to_the_vip = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.0.100, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }")
        .error("11:32", "`router.public_ip` 10.77.0.100 is also used as VIP");
    negative_virtual_router_id_keeps_its_value_in_the_message = topology()
        .set(3, "  virtual_router_id: -1")
        .error("3:22", "`vrrp.virtual_router_id` is -1, outside 1..255");
    master_with_a_lower_priority_than_the_backup = topology()
        .set(5, "  priorities: { lvs1: 100, lvs2: 150 }")
        .error("5:23", "`lvs1` is the MASTER (first in `directors.hosts`) but `lvs2` has a higher priority (150 > 100)")
        .hint("the first director must have the highest priority");
    auth_pass_longer_than_8_characters = topology()
        .set(4, "  auth_pass: sup3rs3cret")
        .error("4:14", "`vrrp.auth_pass` is 11 bytes long; VRRP PASS authentication uses at most 8")
        .hint("silently truncates")
        .secret("sup3rs3cret");
    auth_pass_from_the_environment_longer_than_8_characters = topology()
        .set(4, "  auth_pass_env: LVSCTL_TEST_VRRP_PASS")
        .env("LVSCTL_TEST_VRRP_PASS", "env5ecret99")
        .error("4:18", "`environment variable LVSCTL_TEST_VRRP_PASS` is 11 bytes long")
        .secret("env5ecret99");
    auth_pass_and_auth_pass_env_both_set = topology()
        .insert(5, "  auth_pass_env: VRRP_PASS")
        .env("VRRP_PASS", "0ther5ec")
        .error("5:18", "set either `vrrp.auth_pass` or `vrrp.auth_pass_env`, not both")
        .secret("0ther5ec");
    auth_pass_env_naming_an_unset_variable = topology()
        .set(4, "  auth_pass_env: LVSCTL_TEST_UNSET_VRRP_PASS")
        .error("4:18", "`vrrp.auth_pass_env`: environment variable `LVSCTL_TEST_UNSET_VRRP_PASS` is not set")
        .hint("export LVSCTL_TEST_UNSET_VRRP_PASS=");
    keepalived_pair_without_a_vrrp_section = topology()
        .delete(2..=5)
        .error("1:12", "2 keepalived directors need a `vrrp` section to share the VIPs");
    ipvsadm_engine_with_two_directors = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2], engine: ipvsadm, interface: eth0 }")
        .delete(2..=5)
        .error("1:28", "`engine: ipvsadm` drives a single director, but 2 are listed");
    unknown_engine = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2], engine: ipvs, interface: eth0 }")
        .error("1:43", "`directors.engine`: unknown value `ipvs`")
        .hint("one of: keepalived, ipvsadm");
    director_listed_twice = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2, lvs1], interface: eth0 }")
        .error("1:34", "director `lvs1` is listed twice");
    // ----- enumerations -----
    unknown_scheduler = topology()
        .insert(10, "    scheduler: wrrr")
        .error("10:16", "`services[0].scheduler`: unknown value `wrrr`")
        .hint("did you mean `wrr`?");
    unknown_mode_drr = topology()
        .insert(10, "    mode: DRR")
        .error("10:11", "`services[0].mode`: unknown value `DRR`")
        .hint("did you mean `dr`?");
    unknown_mode_fullnat = topology()
        .insert(10, "    mode: fullnat")
        .error("10:11", "`services[0].mode`: unknown value `fullnat`")
        .hint("one of: dr, nat, tun");
    unknown_protocol = topology()
        .insert(10, "    protocol: sctp")
        .error("10:15", "`services[0].protocol`: unknown value `sctp`")
        .hint("one of: tcp, udp");
    // The hint is not asserted: it suggests `tcp`, not `http_get` (reported separately).
    unknown_check_type = topology()
        .insert(10, "    check: { type: http }")
        .error("10:20", "`services[0].check.type`: unknown value `http`")
        .hint("did you mean `http_get`?");
    // ----- hosts -----
    director_missing_from_the_inventory = topology()
        .set(1, "directors: { hosts: [lsv1, lvs2], interface: eth0 }")
        .error("1:22", "director `lsv1` is not in the inventory")
        .hint("did you mean `lvs1`?");
    real_server_missing_from_the_inventory = topology()
        .set(10, "    real_servers: [ { host: web1 }, { host: web7 } ]")
        .error("10:45", "real server `web7` is not in the inventory");
    router_host_missing_from_the_inventory = topology()
        .set(11, "router: { host: edge, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }")
        .error("11:17", "router `edge` is not in the inventory");
    director_that_is_also_a_real_server = topology()
        .set(10, "    real_servers: [ { host: web1 }, { host: lvs2 } ]")
        .error("10:45", "`lvs2` is a director and cannot also be a real server");
    // ----- several VRRP instances (active-active) -----
    instance_master_that_is_not_a_director = topology()
        .insert(6, "  instances: [ { name: VI_2, virtual_router_id: 52, master: web1 } ]")
        .error("6:61", "`vrrp.instances[0].master`: `web1` is not a director");
    instance_with_the_first_instances_vrid = topology()
        .insert(6, "  instances: [ { name: VI_2, virtual_router_id: 51, master: lvs2 } ]")
        .error("6:49", "`vrrp.instances[0].virtual_router_id` 51 is also `vrrp.virtual_router_id` (VI_1)")
        .hint("each VRRP instance of the pair needs its own router id");
    instance_that_carries_no_vip = topology()
        .insert(6, "  instances: [ { name: VI_2, virtual_router_id: 52, master: lvs2 } ]")
        .error("6:24", "VRRP instance `VI_2` carries no VIP")
        .hint("name it in a service: `vrrp_instance: VI_2`");
    service_naming_an_unknown_instance = topology()
        .insert(6, "  instances: [ { name: VI_2, virtual_router_id: 52, master: lvs2 } ]")
        .insert(11, "    vrrp_instance: VI_22")
        .error("11:20", "service `http`: no VRRP instance `VI_22`")
        .hint("did you mean `VI_2`?");
    instances_with_connection_sync = topology()
        .insert(6, "  connection_sync: true\n  instances: [ { name: VI_2, virtual_router_id: 52, master: lvs2 } ]")
        .insert(12, "    vrrp_instance: VI_2")
        .error("6:20", "`vrrp.connection_sync` with `vrrp.instances`: keepalived runs one IPVS sync daemon")
        .hint("remove `connection_sync`");
    one_vip_in_two_instances = topology()
        .insert(6, "  instances: [ { name: VI_2, virtual_router_id: 52, master: lvs2 } ]")
        .insert(12, r#"  - name: https
    vip: 10.77.0.100
    port: 443
    vrrp_instance: VI_2
    real_servers: [ { host: web1 } ]"#)
        .error("15:20", "VIP 10.77.0.100 of service `https` is in instance `VI_2`, but service `http` puts it in `VI_1`")
        .hint("give every service of a VIP the same `vrrp_instance`");
    // ----- services -----
    duplicate_service_name = topology()
        .insert(11, r#"  - name: http
    vip: 10.77.0.101
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]"#)
        .error("11:11", "duplicate service name `http` (first defined at t.yml:7:11)");
    duplicate_service_endpoint_under_two_names = topology()
        .insert(11, r#"  - name: web
    vip: 10.77.0.100
    port: 80
    real_servers: [ { host: web1 }, { host: web2 } ]"#)
        .error("12:10", "duplicate virtual service 10.77.0.100:80/tcp: `http` already serves it");
    // ----- firewall-mark services -----
    ports_without_a_fwmark = topology()
        .set(9, "    ports: [80, 443]")
        .error("9:12", "`services[0].ports` needs `fwmark`")
        .hint("IPVS serves several ports as one service only by a firewall mark");
    port_and_ports_together = topology()
        .insert(10, "    fwmark: 1\n    ports: [80, 443]")
        .error("9:11", "`services[0]` has both `port` and `ports`")
        .hint("lists every port it covers in `ports`: remove `port`");
    fwmark_zero = topology()
        .set(9, "    fwmark: 0\n    ports: [80, 443]")
        .error("9:13", "`services[0].fwmark` is 0, outside 1..4294967295");
    a_port_listed_twice_in_ports = topology()
        .set(9, "    fwmark: 1\n    ports: [80, 80]")
        .error("10:17", "port 80 is listed twice in `services[0].ports` (first at t.yml:10:13)");
    fwmark_port_that_another_service_serves = topology()
        .insert(11, r#"  - name: web
    vip: 10.77.0.100
    fwmark: 1
    ports: [443, 80]
    real_servers: [ { host: web1 } ]"#)
        .error("14:18", "duplicate virtual service 10.77.0.100:80/tcp: `http` already serves it")
        .hint("the directors mark every packet to a firewall-mark service's ports");
    one_fwmark_for_two_services = topology()
        .insert(11, r#"  - name: a
    vip: 10.77.0.101
    fwmark: 7
    ports: [443]
    real_servers: [ { host: web1 } ]
  - name: b
    vip: 10.77.0.102
    fwmark: 7
    ports: [443]
    real_servers: [ { host: web1 } ]"#)
        .error("18:13", "firewall mark 7 is also service `a`'s (at t.yml:13:13)")
        .hint("IPVS has one service per mark");
    real_server_port_in_a_fwmark_service = topology()
        .set(9, "    fwmark: 1\n    ports: [80, 443]")
        .set(11, "    real_servers: [ { host: web1, port: 80 }, { host: web2 } ]")
        .error("11:41", "real server `web1` has a `port` in firewall-mark service `http` (mark 1)")
        .hint("remove `port`");
    sorry_server_port_in_a_fwmark_service = topology()
        .set(9, "    fwmark: 1\n    ports: [80, 443]\n    sorry_server: { address: 127.0.0.1, port: 8080 }")
        .error("11:47", "`services[0].sorry_server.port`: the sorry server of a firewall-mark service has no port");
    router_forward_of_a_port_the_fwmark_service_lacks = topology()
        .set(9, "    fwmark: 1\n    ports: [80, 443]")
        .set(12, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 8443, service: http } ] }")
        .error("12:95", "`router.forwards[0]`: public port 8443 is not one of firewall-mark service `http`'s ports (80, 443)")
        .hint("forward each of 80, 443 with its own entry");
    router_that_is_a_director_of_a_fwmark_service = topology()
        .set(9, "    fwmark: 1\n    ports: [80, 443]")
        .set(12, "router: { host: lvs1, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http } ] }")
        .error("12:17", "the router `lvs1` is also a director, and service `http` is a firewall-mark service")
        .hint("give the router its own host");
    duplicate_real_server_in_one_service = topology()
        .set(10, "    real_servers: [ { host: web1 }, { host: web1 } ]")
        .error("10:45", "duplicate real server `web1` port 80 in service `http` (first at t.yml:10:29)")
        .hint("lists the same real server twice");
    dr_real_server_port_differs_from_the_service_port = topology()
        .set(10, "    real_servers: [ { host: web1, port: 8080 }, { host: web2 } ]")
        .error("10:41", "real server port 8080 differs from the service port 80 in DR mode")
        .hint("only NAT can remap ports");
    tun_real_server_port_differs_from_the_service_port = topology()
        .insert(10, "    mode: tun")
        .set(11, "    real_servers: [ { host: web1, port: 8080 }, { host: web2 } ]")
        .error("11:41", "real server port 8080 differs from the service port 80 in TUN mode");
    check_path_not_starting_with_a_slash = topology()
        .insert(10, "    check: { type: http_get, path: health }")
        .error("10:36", "`services[0].check.path` must start with `/`");
    // ----- NAT -----
    nat_service_without_a_nat_section = topology()
        .insert(10, "    mode: nat")
        .error("10:11", "a NAT service needs a `nat` section");
    nat_pair_without_gateway_vip = topology()
        .insert(10, "    mode: nat")
        .insert(12, "nat: { internal_interface: eth1 }")
        .error("12:6", "a NAT director pair needs `nat.gateway_vip`");
    nat_gateway_router_id_equal_to_the_vrrp_one = topology()
        .insert(10, "    mode: nat")
        .insert(12, "nat: { internal_interface: eth1, gateway_vip: 10.77.1.254, virtual_router_id: 51 }")
        .error("12:79", "`nat.virtual_router_id` 51 equals `vrrp.virtual_router_id`");
    // ----- router -----
    router_forward_naming_an_unknown_service = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: htpp } ] }")
        .error("11:108", "`router.forwards[0]`: no service named `htpp`")
        .hint("did you mean `http`?");
    public_port_forwarded_twice = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: http }, { port: 80, service: http } ] }")
        .error("11:124", "public port 80 is forwarded twice (first at t.yml:11:95)");
    // ----- config injection: no value may change the structure of a generated file -----
    newline_in_the_vrrp_instance_name = topology()
        .insert(3, r#"  instance: "VI_1\nvrrp_script chk { script /tmp/x }""#)
        .error("3:13", "`vrrp.instance` contains a newline, which would change the structure of the generated config")
        .hint("use letters, digits");
    closing_brace_in_the_interface = topology()
        .set(1, r#"directors: { hosts: [lvs1, lvs2], interface: "eth0}" }"#)
        .error("1:46", "`directors.interface` contains `}`, which would change the structure of the generated config");
    comment_character_in_auth_pass = topology()
        .set(4, r#"  auth_pass: "s3c#ret""#)
        .error("4:14", "`vrrp.auth_pass` contains `#`, which would change the structure of the generated config")
        .secret("s3c#ret");
    space_in_notification_email = topology()
        .set(1, r#"directors: { hosts: [lvs1, lvs2], interface: eth0, notification_email: "ops team@example.com", smtp_server: 127.0.0.1 }"#)
        .error("1:72", "`directors.notification_email` contains a space; it must be a single word");
    double_quote_in_the_check_path = topology()
        .insert(10, r#"    check: { type: http_get, path: '/health"x' }"#)
        .error("10:36", "`services[0].check.path` contains a double quote, which would change the structure of the generated config");
    slash_in_the_service_name = topology()
        .set(7, "  - name: web/http")
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ { port: 80, service: web/http } ] }")
        .error("7:11", "`services[0].name`: `web/http` may hold only letters, digits, `_`, `-` and `.`");
    interface_name_too_long = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2], interface: enp0s31f6.100000 }")
        .error("1:46", "`directors.interface`: `enp0s31f6.100000` is not a valid interface name")
        .hint("at most 15 characters");
    // ----- notification -----
    notification_email_that_is_not_an_address = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2], interface: eth0, notification_email: ops, smtp_server: 127.0.0.1 }")
        .error("1:72", "`ops` is not an email address");
    notification_email_without_smtp_server = topology()
        .set(1, "directors: { hosts: [lvs1, lvs2], interface: eth0, notification_email: ops@example.com }")
        .error("1:12", "`directors.notification_email` needs `smtp_server`")
        .hint("smtp_server: 127.0.0.1");
    // ----- inventory -----
    inventory_ansible_port_that_is_not_a_number = inventory()
        .set(9, "        web1: { ansible_host: 10.77.0.21, ansible_port: http }")
        .inventory_error("9:57", "host `web1`: `ansible_port` is `http`, not a port number (1..65535)");
    inventory_address_that_is_not_an_ipv4_address = inventory()
        .set(10, "        web2: { ansible_host: web2.lab, address: 10.77.0.0.22 }")
        .inventory_error("10:50", "host `web2`: `address` is `10.77.0.0.22`, not an IPv4 address");
    inventory_unusable_host_name = inventory()
        .insert(11, "        ../web3: { ansible_host: 10.77.0.23 }")
        .inventory_error("11:9", "host name `../web3` is not usable");
    inventory_closing_brace_in_a_director_s_interface = inventory()
        .set(5, r#"        lvs1: { ansible_host: 10.77.0.11, interface: "eth0}" }"#)
        .inventory_error("5:54", "contains `}`, which would change the structure of the generated config");
    real_server_without_an_ipv4_address = inventory()
        .set(10, "        web2: { ansible_host: web2.lab }")
        .error("10:45", "real server `web2` has no IPv4 address")
        .hint("set `address`");
    // ----- keepalived's own limits -----
    persistence_timeout_0 = topology()
        .insert(10, "    persistence_timeout: 0")
        .error("10:26", "`services[0].persistence_timeout` is 0; keepalived accepts 1 to 2678400 seconds")
        .hint("to turn persistence off, remove `persistence_timeout`");
    persistence_timeout_over_31_days = topology()
        .insert(10, "    persistence_timeout: 2678401")
        .error("10:26", "`services[0].persistence_timeout` is 2678401 seconds; keepalived accepts 1 to 2678400 (31 days)")
        .hint("write at most 2678400");
    unicast_vrrp_with_a_single_director = topology()
        .set(1, "directors: { hosts: [lvs1], interface: eth0 }")
        .set(5, "  unicast: true")
        .error("5:12", "`vrrp.unicast` needs a second director")
        .hint("remove `vrrp.unicast`");
    connection_sync_with_a_single_director = topology()
        .set(1, "directors: { hosts: [lvs1], interface: eth0 }")
        .set(5, "  connection_sync: true")
        .error("5:20", "`vrrp.connection_sync` needs a second director to copy the connections to")
        .hint("list the BACKUP in `directors.hosts`");
    connection_sync_id_over_255 = topology()
        .insert(5, "  connection_sync: true")
        .insert(6, "  sync_id: 256")
        .error("6:12", "`vrrp.sync_id` is 256, outside 0..255");
    // ----- richer HTTP(S) checks -----
    status_code_out_of_range = topology()
        .insert(10, "    check: { type: http_get, path: /, status_code: 200-700 }")
        .error("10:52", "`services[0].check.status_code`: `200-700` is not an HTTP status code (100..599) or a range of them (`200-299`)");
    status_code_range_backwards = topology()
        .insert(10, "    check: { type: http_get, path: /, status_code: [200, 302-301] }")
        .error("10:52", "`302-301` is not an HTTP status code");
    digest_that_is_no_md5 = topology()
        .insert(10, "    check: { type: http_get, path: /, digest: 12345 }")
        .error("10:47", "`services[0].check.digest` must be an MD5 digest: 32 hex digits")
        .hint("genhash");
    urls_and_path_together = topology()
        .insert(10, "    check: { type: http_get, path: /a, urls: [ { path: /b } ] }")
        .error("10:36", "`services[0].check.path` and `services[0].check.urls` together");
    url_path_without_a_slash = topology()
        .insert(10, "    check: { type: http_get, urls: [ { path: health } ] }")
        .error("10:46", "`services[0].check.urls[0].path` must start with `/`");
    url_without_a_path = topology()
        .insert(10, "    check: { type: http_get, urls: [ { status_code: 200 } ] }")
        .error("10:38", "`services[0].check.urls[0].path` is missing");
    misc_check_without_a_script = topology()
        .insert(10, "    check: { type: misc, timeout: 3 }")
        .error("10:20", "a `misc` check needs `services[0].check.script`")
        .hint("the real server's address and port as arguments");
    misc_check_script_with_arguments = topology()
        .insert(10, "    check: { type: misc, script: /usr/bin/dig @localhost }")
        .error("10:34", "`services[0].check.script` contains a blank");
    udp_payload_that_is_no_hex = topology()
        .insert(10, "    check: { type: udp, payload: hello }")
        .error("10:34", "`services[0].check.payload` must be bytes in hex")
        .hint("two per byte");
    udp_reply_pattern_as_a_list = topology()
        .insert(10, "    check: { type: udp, require_reply: [1, 2] }")
        .error("10:40", "`services[0].check.require_reply` must be true, false or the expected answer in hex");
    dns_query_type_unknown = topology()
        .insert(10, "    check: { type: dns, query_type: PTR }")
        .error("10:37", "`services[0].check.query_type`: unknown DNS query type `PTR`")
        .hint("one of: A, NS, CNAME, SOA, MX, TXT, AAAA");
    dns_query_name_with_an_empty_label = topology()
        .insert(10, "    check: { type: dns, query_name: www..example.com }")
        .error("10:37", "`services[0].check.query_name`: `www..example.com` is not a DNS name keepalived accepts");
    real_server_check_of_an_unknown_type = topology()
        .set(10, "    real_servers: [ { host: web1, check: { type: icmp } }, { host: web2 } ]")
        .error("10:50", "`services[0].real_servers[0].check.type`: unknown value `icmp`");
    real_server_misc_check_without_a_script = topology()
        .set(10, "    real_servers: [ { host: web1 }, { host: web2, check: { type: misc, timeout: 2 } } ]")
        .error("10:66", "a `misc` check needs `services[0].real_servers[1].check.script`");
    garp_master_repeat_of_zero = topology()
        .insert(6, "  garp_master_repeat: 0")
        .error("6:23", "`vrrp.garp_master_repeat` is 0, outside 1..255");
    // ----- the director's own health (track scripts, interfaces, notify) -----
    track_script_weight_in_a_nat_sync_group = topology()
        .insert(6, "  track_scripts: [ { name: up, script: /etc/keepalived/up.sh, weight: -60 } ]")
        .insert(7, "nat: { internal_interface: eth1, gateway_vip: 10.77.1.254 }")
        .insert(12, "    mode: nat")
        .error("6:71", "keepalived ignores the weight of track script `up` in a sync group")
        .hint("use weight 0");
    track_script_with_a_relative_path = topology()
        .insert(6, "  track_scripts: [ { name: up, script: check-up.sh } ]")
        .error("6:40", "`vrrp.track_scripts[].script`: `check-up.sh` is not an absolute path");
    track_script_with_arguments = topology()
        .insert(6, "  track_scripts: [ { name: up, script: /usr/bin/pidof nginx } ]")
        .error("6:40", "`vrrp.track_scripts[].script` contains a blank")
        .hint("put the command and its arguments in an executable script");
    track_script_listed_twice = topology()
        .insert(6, "  track_scripts: [ { name: up, script: /etc/keepalived/a.sh }, { name: up, script: /etc/keepalived/b.sh } ]")
        .error("6:72", "track script `up` is listed twice");
    track_script_without_a_script = topology()
        .insert(6, "  track_scripts: [ { name: up } ]")
        .error("6:20", "`vrrp.track_scripts[0].script` is missing");
    track_script_weight_out_of_range = topology()
        .insert(6, "  track_scripts: [ { name: up, script: /etc/keepalived/up.sh, weight: -254 } ]")
        .error("6:71", "`vrrp.track_scripts[0].weight` must be a number from -253 to 253, found `-254`");
    track_script_written_as_keepalived_s_block = topology()
        .insert(6, "  vrrp_script: { chk: { script: /etc/keepalived/up.sh } }")
        .error("6:3", "unknown key `vrrp.vrrp_script`")
        .hint("write `vrrp.track_scripts`");
    tracking_the_vrrp_interface_itself = topology()
        .insert(6, "  track_interfaces: [eth0]")
        .error("6:22", "`eth0` is the VRRP interface of `lvs1`");
    notify_script_with_a_relative_path = topology()
        .insert(6, "  notify_master: notify.sh")
        .error("6:18", "`vrrp.notify_master`: `notify.sh` is not an absolute path");
    // ----- the virtual-server vocabulary -----
    sorry_server_written_as_keepalived_s_one_line = topology()
        .insert(10, "    sorry_server: 10.77.0.30 80")
        .error("10:19", "`services[0].sorry_server` must be a mapping, found `10.77.0.30 80`")
        .hint("write `sorry_server: { address: 10.77.0.30, port: 80 }`");
    unknown_key_in_sorry_server = topology()
        .insert(10, "    sorry_server: { hots: web2 }")
        .error("10:21", "unknown key `services[0].sorry_server.hots`")
        .hint("did you mean `host`?");
    sorry_server_with_both_host_and_address = topology()
        .insert(10, "    sorry_server: { host: web2, address: 10.77.0.30 }")
        .error("10:42", "set either `services[0].sorry_server.host` or `services[0].sorry_server.address`, not both");
    sorry_server_with_neither_host_nor_address = topology()
        .insert(10, "    sorry_server: { port: 80 }")
        .error("10:19", "`services[0].sorry_server` needs `host` or `address`")
        .hint("sorry_server: { host: NAME }");
    sorry_server_host_missing_from_the_inventory = topology()
        .insert(10, "    sorry_server: { host: web9 }")
        .error("10:27", "sorry server `web9` is not in the inventory");
    sorry_server_that_is_a_director = topology()
        .insert(10, "    sorry_server: { host: lvs2 }")
        .error("10:27", "`lvs2` is a director and cannot be the sorry server")
        .hint("write `address: 127.0.0.1`");
    sorry_server_at_a_director_s_address = topology()
        .insert(10, "    sorry_server: { address: 10.77.0.12 }")
        .error("10:30", "sorry server 10.77.0.12 is the address of director `lvs2`");
    sorry_server_at_the_service_vip = topology()
        .insert(10, "    sorry_server: { address: 10.77.0.100 }")
        .error("10:30", "sorry server 10.77.0.100 is the service's own VIP");
    sorry_server_on_another_port_in_dr_mode = topology()
        .insert(10, "    sorry_server: { address: 10.77.0.30, port: 8080 }")
        .error("10:48", "sorry server port 8080 differs from the service port 80 in DR mode")
        .hint("only NAT can remap ports");
    sorry_server_inhibit_without_sorry_server = topology()
        .insert(10, "    sorry_server_inhibit: true")
        .error("10:27", "`services[0].sorry_server_inhibit` needs `sorry_server`");
    unknown_sorry_server_lvs_method = topology()
        .insert(10, r#"    sorry_server: { address: 10.77.0.30 }
    sorry_server_lvs_method: fullnat"#)
        .error("11:30", "`services[0].sorry_server_lvs_method`: unknown value `fullnat`")
        .hint("one of: dr, nat, tun");
    nat_sorry_server_without_a_nat_section = topology()
        .insert(10, r#"    sorry_server: { address: 10.77.0.30, port: 8080 }
    sorry_server_lvs_method: NAT"#)
        .error("11:30", "a NAT sorry server needs a `nat` section");
    sorry_server_that_is_a_real_server_with_another_inhibit_setting = topology()
        .insert(10, r#"    inhibit_on_failure: true
    sorry_server: { host: web2 }"#)
        .error("11:19", "the sorry server is real server `web2`, but `sorry_server_inhibit` is false and its `inhibit_on_failure` is true")
        .hint("make them agree");
    quorum_above_the_real_servers_total_weight = topology()
        .insert(10, "    quorum: 3")
        .error("10:13", "`services[0].quorum` is 3, more than the total weight 2 of the real servers of `http`")
        .hint("could never be up");
    hysteresis_not_below_the_quorum = topology()
        .insert(10, r#"    quorum: 2
    hysteresis: 2"#)
        .error("11:17", "`services[0].hysteresis` is 2; it must be less than the quorum 2")
        .hint("down below quorum - hysteresis");
    quorum_0 = topology()
        .insert(10, "    quorum: 0")
        .error("10:13", "`services[0].quorum` is 0, outside 1..4294967295");
    every_real_server_drained = topology()
        .set(10, "    real_servers: [ { host: web1, weight: 0 }, { host: web2, weight: 0 } ]")
        .error("10:19", "every real server of service `http` has weight 0")
        .hint("keep one real server with a weight");
    quorum_up_not_an_absolute_path = topology()
        .insert(10, "    quorum_up: notify.sh")
        .error("10:16", "`services[0].quorum_up`: `notify.sh` is not an absolute path")
        .hint("write the full path");
    quorum_down_with_arguments = topology()
        .insert(10, r#"    quorum_down: "/usr/local/bin/notify.sh DOWN""#)
        .error("10:18", "`services[0].quorum_down` contains a blank: lvsctl takes the path of a script, without arguments")
        .hint("executable script");
    semicolon_in_quorum_up = topology()
        .insert(10, "    quorum_up: /bin/true;reboot")
        .error("10:16", "`services[0].quorum_up` contains `;`, which would change the structure of the generated config");
    persistence_granularity_without_persistence_timeout = topology()
        .insert(10, "    persistence_granularity: 255.255.255.0")
        .error("10:30", "`services[0].persistence_granularity` needs `persistence_timeout`")
        .hint("set `persistence_timeout: SECONDS`");
    persistence_granularity_written_as_a_prefix_length = topology()
        .insert(10, r#"    persistence_timeout: 300
    persistence_granularity: 24"#)
        .error("11:30", "`services[0].persistence_granularity`: `24` is a prefix length; keepalived wants a netmask")
        .hint("write `persistence_granularity: 255.255.255.0`");
    persistence_granularity_not_a_contiguous_netmask = topology()
        .insert(10, r#"    persistence_timeout: 300
    persistence_granularity: 255.0.255.0"#)
        .error("11:30", "`services[0].persistence_granularity`: `255.0.255.0` is not a contiguous netmask");
    ops_on_a_tcp_service = topology()
        .insert(10, "    ops: true")
        .error("10:10", "`services[0].ops` (one-packet scheduling) works only for UDP, but service `http` is TCP")
        .hint("set `protocol: udp`");
    alpha_written_as_a_bare_keyword = topology()
        .insert(10, "    alpha:")
        .error("10:5", "`services[0].alpha` has no value")
        .hint("write `alpha: true`");
    real_server_inhibit_on_failure_that_is_not_a_boolean = topology()
        .set(10, "    real_servers: [ { host: web1, inhibit_on_failure: sometimes }, { host: web2 } ]")
        .error("10:55", "`services[0].real_servers[0].inhibit_on_failure` must be true or false, found `sometimes`");
    quorum_with_the_ipvsadm_engine = topology()
        .set(1, "directors: { hosts: [lvs1], engine: ipvsadm, interface: eth0 }")
        .delete(2..=5)
        .insert(6, "    quorum: 1")
        .error("6:13", "`services[0].quorum` needs `engine: keepalived`")
        .hint("no quorum, sorry server");
    // ----- IPv6 -----
    ipv6_vip_and_real_servers_without_an_ipv6_address = topology()
        .set(8, "    vip: \"fd77::100\"")
        .error("10:29", "real server `web1` has no IPv6 address")
        .hint("set `ipv6_address`");
    ipv6_vip_in_nat_mode = topology()
        .set(8, "    vip: \"fd77::100\"")
        .insert(9, "    mode: nat")
        .error("9:11", "`services[0]`: IPv6 VIP fd77::100 in NAT mode")
        .hint("serve IPv6 VIPs with `mode: dr`");
    ipv6_firewall_mark_service = topology()
        .set(8, "    vip: \"fd77::100\"")
        .set(9, "    fwmark: 1\n    ports: [80, 443]")
        .error("9:13", "`services[0]`: firewall-mark service with IPv6 VIP fd77::100")
        .hint("ip6tables marks are not rendered yet");
    ipv6_persistence_granularity_as_a_netmask = topology()
        .set(8, "    vip: \"fd77::100\"")
        .insert(10, "    persistence_timeout: 60\n    persistence_granularity: 255.255.255.0")
        .error("11:30", "`services[0].persistence_granularity` with IPv6 VIP fd77::100");
    ipv6_vip_forwarded_by_a_router_without_an_ipv6_address = topology()
        .set(8, "    vip: \"fd77::100\"")
        .error("11:108", "`router.forwards[0]`: service `http` has an IPv6 VIP (fd77::100), and the router has no `public_ip6` and `internal_network6`")
        .hint("set `router.public_ip6` and `router.internal_network6`");
    router_public_ip6_that_is_not_an_ipv6_address = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, public_ip6: 10.77.9.2, forwards: [ { port: 80, service: http } ] }")
        .error("11:87", "`router.public_ip6`: `10.77.9.2` is not a valid IPv6 address");
    router_internal_network6_without_a_prefix = topology()
        .set(11, "router: { host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, internal_network6: \"fd77::\", forwards: [ { port: 80, service: http } ] }")
        .error("11:94", "`router.internal_network6`: `fd77::` is not a valid IPv6 network")
        .hint("fd77::/64");
    ipv6_unicast_vrrp_without_the_directors_ipv6_addresses = topology()
        .set(5, "  unicast: true")
        .set(8, "    vip: \"fd77::100\"")
        .error("5:12", "`vrrp.unicast` with IPv6 VIP fd77::100 needs the IPv6 address of director `lvs1`")
        .hint("set `ipv6_address`");
    ipv4_sorry_server_of_an_ipv6_vip = topology()
        .set(8, "    vip: \"fd77::100\"")
        .insert(10, "    sorry_server: { address: 10.77.0.30 }")
        .error("10:30", "sorry server 10.77.0.30 is IPv4 but the VIP fd77::100 is IPv6")
        .hint("keepalived mixes them only in TUN mode");
    inventory_ipv6_address_that_is_not_an_ipv6_address = inventory()
        .set(9, "        web1: { ansible_host: 10.77.0.21, ipv6_address: 10.77.0.21 }")
        .inventory_error("9:57", "host `web1`: `ipv6_address` is `10.77.0.21`, not an IPv6 address");
    inventory_ipv6_address_written_as_address = inventory()
        .set(9, "        web1: { ansible_host: 10.77.0.21, address: \"fd77::21\" }")
        .inventory_error("9:52", "host `web1`: `address` is `fd77::21`, not an IPv4 address")
        .hint("`ipv6_address`");
}

/// A base's text as written: without the newline right after `r#"`.
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

/// A fresh directory for one row (one test process may run several rows).
fn case_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lvsctl-bad-topology-{}-{name}", std::process::id()))
}

fn write_case(dir: &Path, topology: &str, inventory: &str) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create case dir");
    std::fs::write(dir.join("t.yml"), topology).expect("write t.yml");
    std::fs::write(dir.join("inv.yml"), inventory).expect("write inv.yml");
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

/// Run one row: write its files, run validate and render, assert every expectation.
fn refused(name: &str, case: Case) {
    assert!(!case.at.is_empty() && !case.message.is_empty(), "row `{name}` expects no error");
    let (topology, inventory) = case.documents();
    let dir = case_dir(name);
    write_case(&dir, &topology, &inventory);
    let problems = check(&case, &dir);
    if problems.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(problems.is_empty(), "row `{name}` ({}):\n  {}", dir.display(), problems.join("\n  "));
}

/// The base must be valid, or every row would test something else than it says.
#[test]
fn the_base_is_valid() {
    assert!(ROWS.len() >= 36, "only {} rows", ROWS.len());
    let dir = case_dir("base");
    write_case(&dir, text(BASE_TOPOLOGY), text(BASE_INVENTORY));
    let validate = lvsctl(&dir, &["validate", "t.yml", "-i", "inv.yml"], &[]);
    let render = lvsctl(&dir, &["render", "t.yml", "-i", "inv.yml", "--out", "out"], &[]);
    let valid = validate.status.code() == Some(0) && render.status.code() == Some(0) && dir.join("out").is_dir();
    assert!(
        valid,
        "BASE_TOPOLOGY ({}): validate {:?}, render {:?}, want 0 and a rendered `out`\n{}",
        dir.display(),
        validate.status.code(),
        render.status.code(),
        String::from_utf8_lossy(&validate.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
