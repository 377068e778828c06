//! `lvsctl inventory -i INV`: every host as lvsctl reads the inventory — how it will connect,
//! the groups it is in, and each variable lvsctl uses with its value (typed as Ansible types
//! it) and the file:line:column that set it, so a precedence surprise shows where it comes
//! from. `--json` prints the same; tests compare it with `ansible-inventory --list`.

use serde::Serialize;

use crate::cli::InventoryArgs;
use crate::diagnostic::Diagnostics;
use crate::error::{Error, Result};
use crate::exit;
use crate::inventory::{Format, Host, Inventory};
use crate::report;

#[derive(Serialize)]
struct Out {
    inventory: String,
    format: &'static str,
    hosts: Vec<HostOut>,
}

#[derive(Serialize)]
struct HostOut {
    name: String,
    groups: Vec<String>,
    ssh: Ssh,
    address: Option<String>,
    interface: Option<String>,
    /// The variables lvsctl reads, as Ansible types them.
    vars: serde_json::Map<String, serde_json::Value>,
    /// Where each of them was set (file:line:column).
    origins: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct Ssh {
    host: String,
    port: u16,
    user: String,
    key_file: Option<String>,
    known_hosts_file: Option<String>,
    #[serde(rename = "become")]
    become_root: bool,
    become_user: String,
}

fn host_out(h: &Host) -> HostOut {
    HostOut {
        name: h.name.clone(),
        groups: h.groups.clone(),
        ssh: Ssh {
            host: h.ssh_host.clone(),
            port: h.port,
            user: h.user.clone(),
            key_file: h.key_file.as_ref().map(|p| p.display().to_string()),
            known_hosts_file: h.known_hosts_file.as_ref().map(|p| p.display().to_string()),
            become_root: h.become_root,
            become_user: h.become_user.clone(),
        },
        address: h.address.map(|a| a.to_string()),
        interface: h.interface.clone(),
        vars: h.vars.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
        origins: h.vars.iter().map(|(k, v)| (k.clone(), v.span.to_string().into())).collect(),
    }
}

pub fn run(args: &InventoryArgs) -> Result<i32> {
    let path = &args.inventory;
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.clone(), source })?;
    let mut d = Diagnostics::default();
    let inv = Inventory::parse(path, &text, &mut d);
    eprint!("{}", report::diagnostics(&d));
    let Some(inv) = inv.filter(|_| !d.has_errors()) else { return Err(Error::Invalid { errors: d.error_count().max(1) }) };
    if let Some(unknown) = args.limit.iter().find(|h| inv.get(h).is_none()) {
        return Err(Error::usage(format!("--limit: `{unknown}` is not in the inventory")));
    }
    let format = match Inventory::format_of(path, &text) {
        Format::Yaml => "yaml",
        Format::Ini => "ini",
    };
    let hosts: Vec<HostOut> = inv.hosts.values().filter(|h| args.limit.is_empty() || args.limit.contains(&h.name)).map(host_out).collect();
    if args.json {
        let out = Out { inventory: path.display().to_string(), format, hosts };
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| Error::usage(e.to_string()))?);
        return Ok(exit::OK);
    }
    let width = hosts.iter().flat_map(|h| h.vars.keys()).map(String::len).max().unwrap_or(0);
    for h in &hosts {
        let become_ = if h.ssh.become_root { format!("  become {} (sudo)", h.ssh.become_user) } else { String::new() };
        let groups = if h.groups.is_empty() { String::new() } else { format!("  groups: {}", h.groups.join(", ")) };
        println!("{}  {}@{}:{}{become_}{groups}", console::style(&h.name).bold(), h.ssh.user, h.ssh.host, h.ssh.port);
        for (k, v) in &h.vars {
            let value = serde_json::to_string(v).unwrap_or_default();
            let origin = h.origins.get(k).and_then(|o| o.as_str()).unwrap_or_default();
            println!("  {k:<width$}  {value:<24} {}", console::style(origin).dim());
        }
    }
    println!("{} host(s) in {} ({}).", hosts.len(), path.display(), format.to_uppercase());
    Ok(exit::OK)
}
