//! Boot: how the host boots, for `plan::persistence::choose`: the init system, the network
//! stacks found active (by the run-time state each leaves: /run/NetworkManager,
//! /run/systemd/netif/state, /run/network/ifstate, /etc/netplan/*.yaml; the legacy network
//! service by its rc link), and whether each unit lvsctl enables is enabled at boot (the
//! links `systemctl enable`, update-rc.d, chkconfig and rc-update make, read as files: no
//! process, which costs ~25 ms a launch on a slow host). The script part is `sh/boot.sh`.

use super::{malformed, ProbeError, ProbeRequest};
use crate::facts::Facts;
use crate::remote::protocol::Record;
use crate::remote::{sq, Script};

const SH: &str = include_str!("sh/boot.sh");

/// The section's part of the script.
pub(super) fn script(s: &mut Script, req: &ProbeRequest) {
    let units: Vec<String> = req.units.iter().map(|u| sq(u)).collect();
    s.lib(SH).line(format!("boot_facts {}", units.join(" ")).trim_end());
}

/// Takes a record of this section; `false` for any other kind.
pub(super) fn take(r: &Record, facts: &mut Facts) -> Result<bool, ProbeError> {
    match r.kind {
        "init" => facts.boot.init = Some(r.args.trim().to_string()),
        "netstack" => facts.boot.network.push(r.args.trim().to_string()),
        "enabled" => {
            let Some((unit, state)) = r.args.trim().split_once(' ') else { return Err(malformed(r, "expected `enabled UNIT STATE`")) };
            facts.enabled.insert(unit.to_string(), state.trim() == "enabled");
            if state.trim() == "masked" {
                facts.masked.push(unit.to_string());
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}
