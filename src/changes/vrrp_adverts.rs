//! What a director's VRRP adverts carry, read from keepalived.conf: the VIPs, advert_int, the
//! VRID, the authentication. When a change alters it, the MASTER and the BACKUP disagree from
//! the first reload to the second: keepalived drops an advert whose VIP count or (VRRPv2)
//! interval differs from its own ("received an unexpected ip number count", "advertisement
//! interval mismatch"), so the BACKUP stops hearing its MASTER and takes over after
//! 3 x advert_int; when the MASTER is reloaded the BACKUP steps down, but the router's ARP
//! still points at it and the VIP's traffic is lost until that entry expires (6 s in the VM
//! lab, every request). The rollout therefore reloads such directors together (one stage)
//! instead of BACKUP then MASTER: the window shrinks to the difference between two
//! transactions, well under the takeover time. `vrrp_skip_check_adv_addr` does not help
//! here: a reload forgets the MASTER it was skipping the check for.
//!
//! That window is still there when the MASTER's reload is slow, so lvsctl keeps the adverts
//! from changing in the first place: they carry only the first service's VIP, the others are
//! `virtual_ipaddress_excluded` (plan::director::ADVERTISED_VIPS), so adding or removing any
//! other service is no advert change and rolls BACKUP then MASTER.

/// The lines of every `vrrp_instance` block that go into its adverts, tagged by instance.
pub fn signature(conf: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut instance: Option<String> = None;
    let mut depth = 0usize;
    let mut in_vips = false;
    for raw in conf.lines() {
        let line = raw.split(['!', '#']).next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        let first = line.split_whitespace().next().unwrap_or("");
        if depth == 0 && first == "vrrp_instance" {
            instance = line.split_whitespace().nth(1).map(str::to_string);
        }
        if let Some(name) = &instance {
            if depth == 1 && first == "virtual_ipaddress" {
                in_vips = true;
            } else if in_vips && depth == 2 && first != "}" {
                out.push(format!("{name} vip {}", line.split_whitespace().next().unwrap_or("")));
            } else if depth >= 1 && matches!(first, "advert_int" | "virtual_router_id" | "auth_type" | "auth_pass" | "version") {
                out.push(format!("{name} {line}"));
            }
        }
        depth = (depth + opens).saturating_sub(closes);
        if depth <= 1 {
            in_vips = false;
        }
        if depth == 0 {
            instance = None;
        }
    }
    out.sort();
    out
}

/// Each instance's identity: its name and VRID.
fn identities(signature: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = signature
        .iter()
        .map(|l| if l.split_whitespace().nth(1) == Some("virtual_router_id") { l.clone() } else { l.split_whitespace().next().unwrap_or("").to_string() })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Why the adverts of the same instances change between two keepalived.conf texts, or None
/// when they do not. An instance renamed or given another VRID is another instance, which
/// starts as BACKUP and waits 3 x advert_int before it takes the VIPs: reloaded together,
/// neither director would hold them meanwhile (found in the VM lab: the faults case's switch
/// to another example); one after the other, the old instance keeps serving on the MASTER
/// while the BACKUP's new one comes up, so that stays the order.
pub fn change(before: &str, after: &str) -> Option<String> {
    let (old, new) = (signature(before), signature(after));
    if old == new || identities(&old) != identities(&new) {
        return None;
    }
    let differs = |what: &str| {
        let pick = |v: &[String]| v.iter().filter(|l| l.split_whitespace().nth(1) == Some(what)).cloned().collect::<Vec<_>>();
        pick(&old) != pick(&new)
    };
    let mut what: Vec<&str> = Vec::new();
    for (key, name) in [("vip", "VIPs"), ("advert_int", "advert_int"), ("virtual_router_id", "virtual_router_id"), ("auth_type", "authentication"), ("auth_pass", "authentication"), ("version", "VRRP version")] {
        if differs(key) && !what.contains(&name) {
            what.push(name);
        }
    }
    if what.is_empty() {
        what.push("VRRP instances");
    }
    Some(what.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "global_defs {\n   router_id lvs1\n}\n\nvrrp_instance VI_1 {\n   state MASTER\n   priority 150\n   advert_int 1\n   authentication {\n      auth_type PASS\n      auth_pass s3cret\n   }\n   virtual_ipaddress {\n      10.77.0.100/32 dev eth0\n   }\n}\n\nvirtual_server 10.77.0.100 80 {\n   delay_loop 6\n}\n";

    #[test]
    fn what_goes_into_the_adverts_and_what_does_not() {
        assert_eq!(signature(CONF), ["VI_1 advert_int 1", "VI_1 auth_pass s3cret", "VI_1 auth_type PASS", "VI_1 vip 10.77.0.100/32"]);
        // Priorities, state, checks and virtual servers are no advert change.
        let other = CONF.replace("priority 150", "priority 200").replace("state MASTER", "state BACKUP").replace("delay_loop 6", "delay_loop 3");
        assert_eq!(change(CONF, &other), None);
        let vip = CONF.replace("      10.77.0.100/32 dev eth0\n", "      10.77.0.100/32 dev eth0\n      10.77.0.101/32 dev eth0\n");
        assert_eq!(change(CONF, &vip).as_deref(), Some("VIPs"));
        assert_eq!(change(&vip, CONF).as_deref(), Some("VIPs"));
        assert_eq!(change(CONF, &CONF.replace("advert_int 1", "advert_int 2")).as_deref(), Some("advert_int"));
        let with_vrid = CONF.replace("   priority 150\n", "   priority 150\n   virtual_router_id 51\n");
        assert_eq!(change(&with_vrid, &with_vrid.replace("advert_int 1", "advert_int 2")).as_deref(), Some("advert_int"));
        assert_eq!(change(&with_vrid, &with_vrid.replace("virtual_router_id 51", "virtual_router_id 52")), None);
        assert_eq!(change(CONF, &CONF.replace("auth_pass s3cret", "auth_pass other")).as_deref(), Some("authentication"));
        // Excluded VIPs are not in the adverts: adding or removing one is no advert change
        // (lvsctl advertises the first service's VIP only, plan::director::ADVERTISED_VIPS).
        let excluded = |vips: &str| CONF.replace("   }\n}\n\nvirtual_server", &format!("   }}\n   virtual_ipaddress_excluded {{\n{vips}   }}\n}}\n\nvirtual_server"));
        let one = excluded("      10.77.0.101/32 dev eth0\n");
        assert_eq!(signature(&one), signature(CONF));
        assert_eq!(change(&one, &excluded("      10.77.0.101/32 dev eth0\n      10.77.0.102/32 dev eth0\n")), None);
        assert_eq!(change(CONF, &one), None);
        // Another instance (renamed, or another VRID): not the same adverts changing.
        assert_eq!(change(CONF, &CONF.replace("vrrp_instance VI_1", "vrrp_instance HA_Web").replace("advert_int 1", "advert_int 2")), None);
    }
}
