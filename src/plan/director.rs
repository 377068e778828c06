//! What a director gets: keepalived.conf (or ipvsadm rules), the VIPs it binds itself when no
//! VRRP instance carries them, and the sysctls a director needs (no ICMP redirects, forwarding
//! for NAT).

use serde::Serialize;

use super::{sysctl_key, Address, HostPlan, Service};
use crate::error::Result;
use crate::model::{Cluster, Director, VirtualService, VrrpState};
use crate::render::Templates;
use crate::topology::{Engine, Mode, Protocol};

pub const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";

/// How many VIPs a VRRP instance carries in its adverts: the first service's VIP, the anchor.
/// The others go to `virtual_ipaddress_excluded`, which keepalived adds, removes and announces
/// (gratuitous ARP) with the state all the same but leaves out of the adverts. Why:
/// - peers drop each other's adverts while their address lists differ (keepalived 2.2.7:
///   "received an unexpected ip number count", vrrp.c), so every service added or removed
///   used to make the pair disagree from one director's reload to the other's; reloaded
///   together they still disagreed when the MASTER's reload outlasted the BACKUP's master-down
///   timer (3 x advert_int + skew): the BACKUP took over without the MASTER's connection
///   table, resetting established connections (seen once in ~7 VM-lab runs). With one
///   advertised VIP, only a change of the first service's VIP changes the adverts;
/// - an advert carries at most 255 addresses (fewer on a small MTU; keepalived moves the
///   excess with a config error and `keepalived -t` fails), so any number of VIPs is valid;
/// - keepalived 2.2.7 wants at least one advertised VIP (`no_virtual_ipaddress` is 2.2.8+).
///
/// Both directors render the same split (peers compare the advert's addresses).
pub const ADVERTISED_VIPS: usize = 1;

#[derive(Serialize)]
struct Instance<'a> {
    name: String,
    state: VrrpState,
    interface: &'a str,
    /// Interfaces whose failure faults the instance besides its own.
    track_interfaces: Vec<&'a str>,
    virtual_router_id: u8,
    priority: u8,
    advert_int: u64,
    nopreempt: bool,
    preempt_delay: Option<u64>,
    auth_pass: Option<&'a str>,
    unicast_src_ip: Option<String>,
    unicast_peers: Vec<String>,
    unicast_fault_no_peer: bool,
    garp: &'a crate::model::Garp,
    /// Names of the `vrrp_script`s it tracks (the VIP instance only).
    track_scripts: Vec<&'a str>,
    /// Notify scripts, here when there is no sync group (else on the group).
    notify: Option<&'a crate::model::Notify>,
    addresses: Vec<String>,
    /// VIPs beyond the first `ADVERTISED_VIPS`: `virtual_ipaddress_excluded`.
    excluded_addresses: Vec<String>,
}

#[derive(Serialize)]
struct SyncGroup<'a> {
    name: String,
    members: Vec<String>,
    notify: Option<&'a crate::model::Notify>,
}

#[derive(Serialize)]
struct CheckCtx<'a> {
    kind: &'a str,
    connect_port: Option<u16>,
    connect_timeout: u64,
    retry: u64,
    delay_before_retry: u64,
    urls: &'a [crate::model::Url],
    virtualhost: Option<&'a str>,
    enable_sni: bool,
    misc: Option<&'a crate::model::Misc>,
    udp: Option<&'a crate::model::Udp>,
    dns: Option<&'a crate::model::Dns>,
}

impl<'a> CheckCtx<'a> {
    fn new(c: &'a crate::model::Check) -> Self {
        CheckCtx {
            kind: c.kind.as_str(),
            connect_port: c.connect_port,
            connect_timeout: c.connect_timeout,
            retry: c.retry,
            delay_before_retry: c.delay_before_retry,
            urls: &c.urls,
            virtualhost: c.virtualhost.as_deref(),
            enable_sni: c.enable_sni,
            misc: c.misc.as_ref(),
            udp: c.udp.as_ref(),
            dns: c.dns.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct RealServerCtx<'a> {
    address: String,
    port: u16,
    weight: u64,
    inhibit_on_failure: Option<bool>,
    /// Its own check, when it has one (else the service's: one per service, not one per
    /// real server, which doubled the render time of 10,000 real servers).
    check: Option<CheckCtx<'a>>,
}

#[derive(Serialize)]
struct SorryServerCtx {
    address: String,
    port: u16,
    kind: &'static str,
    inhibit: bool,
}

#[derive(Serialize)]
struct VirtualServerCtx<'a> {
    name: &'a str,
    vip: String,
    port: u16,
    fwmark: Option<u32>,
    ports: &'a [u16],
    scheduler: &'a str,
    kind: &'static str,
    protocol: &'static str,
    proto_flag: &'static str,
    method_flag: &'static str,
    persistence_timeout: Option<u64>,
    persistence_granularity: Option<String>,
    ops: bool,
    delay_loop: u64,
    alpha: bool,
    omega: bool,
    inhibit_on_failure: bool,
    quorum: Option<u64>,
    hysteresis: Option<u64>,
    quorum_up: Option<&'a str>,
    quorum_down: Option<&'a str>,
    sorry_server: Option<SorryServerCtx>,
    check: CheckCtx<'a>,
    real_servers: Vec<RealServerCtx<'a>>,
}

#[derive(Serialize)]
struct NotificationCtx<'a> {
    emails: &'a [String],
    from: &'a str,
    smtp_server: &'a str,
    smtp_connect_timeout: u64,
}

/// `lvs_sync_daemon` in global_defs: the sync daemon follows the state of `instance`.
#[derive(Serialize)]
struct LvsSyncCtx<'a> {
    interface: &'a str,
    instance: &'a str,
    id: u8,
}

#[derive(Serialize)]
struct KeepalivedCtx<'a> {
    cluster: &'a str,
    host: &'a str,
    notification: Option<NotificationCtx<'a>>,
    lvs_sync: Option<LvsSyncCtx<'a>>,
    sync_group: Option<SyncGroup<'a>>,
    /// keepalived runs scripts (track, notify, quorum): as root, refusing any a non-root user
    /// could change (`enable_script_security`; without it `keepalived -t` fails).
    scripts: bool,
    track_scripts: &'a [crate::model::TrackScript],
    instances: Vec<Instance<'a>>,
    virtual_servers: Vec<VirtualServerCtx<'a>>,
}

pub(super) fn plan(cluster: &Cluster, d: &Director, templates: &Templates, p: &mut HostPlan) -> Result<()> {
    let virtual_servers: Vec<VirtualServerCtx> = cluster.services.iter().map(virtual_server).collect();
    let nat = cluster.nat.as_ref();

    // Sysctls first: a director must not send ICMP redirects for traffic it forwards to
    // real servers on the same segment; NAT directors route, so they forward.
    p.sysctl("net.ipv4.conf.all.send_redirects", "0", Some("directors must not send ICMP redirects"));
    p.sysctl("net.ipv4.conf.default.send_redirects", "0", None);
    p.sysctl(sysctl_key(&d.interface, "send_redirects"), "0", None);
    if let Some(n) = nat {
        p.sysctl(sysctl_key(&n.internal_interface, "send_redirects"), "0", None);
        p.sysctl("net.ipv4.ip_forward", "1", Some("NAT directors route replies back to clients"));
    }
    // IPVS's own sysctls for changes without dropped requests. They exist only with the ip_vs
    // module, so it is loaded first (keepalived would load it later, at its start).
    if cluster.hosts.get(&d.host).is_none_or(|h| h.ipvs_sysctls) {
        p.kernel_module("ip_vs");
        p.sysctl(
            "net.ipv4.vs.expire_nodest_conn",
            "1",
            Some("a connection whose real server was removed is dropped at its next packet, so the client reconnects to a live one instead of hanging"),
        );
        p.sysctl("net.ipv4.vs.expire_quiescent_template", "1", Some("persistence does not pin clients to a drained (weight 0) real server"));
    }

    // VIPs a VRRP instance does not carry are bound statically, like the seeds' ifcfg-eth0:N.
    let vrrp = cluster.vrrp.as_ref().filter(|_| cluster.engine == Engine::Keepalived);
    if vrrp.is_none() {
        let mut static_addrs: Vec<(Address, &'static str)> = cluster
            .vips()
            .into_iter()
            .map(|ip| (Address { ip, prefix: super::host_prefix(ip), dev: d.interface.clone(), label: None }, "virtual IP of the LVS director"))
            .collect();
        if let (Some(n), Some(gw)) = (nat, nat.and_then(|n| n.gateway.as_ref())) {
            static_addrs.push((Address { ip: gw.vip.into(), prefix: gw.prefix, dev: n.internal_interface.clone(), label: None }, "gateway of the NAT real servers"));
        }
        let mut per_dev: std::collections::BTreeMap<String, usize> = Default::default();
        for (mut a, purpose) in static_addrs {
            // IPv4 addresses get the seeds' alias labels; IPv6 has none.
            if a.ip.is_ipv4() {
                let n = per_dev.entry(a.dev.clone()).or_insert(0);
                a.label = Some(format!("{}:{}", a.dev, n));
                *n += 1;
            }
            p.purposes.insert(a.ip, purpose);
            p.addresses.push(a);
        }
    }

    super::fwmark::plan(cluster, templates, p)?;

    // Real servers drained with `lvsctl drain`: their marks, beside the configuration that
    // gives them weight 0 (the same transaction writes both).
    if !cluster.drained.is_empty() {
        p.add_file(crate::model::drained::DRAINED_FILE.into(), crate::model::drained::render(&cluster.drained), 0o644, false);
    }
    match cluster.engine {
        Engine::Keepalived => {
            let mut instances = Vec::new();
            let mut sync_group = None;
            if let Some(v) = vrrp {
                // Unicast adverts go to the peers' addresses of the instance's family.
                let peers = |v6: bool| -> Vec<String> {
                    cluster
                        .directors
                        .iter()
                        .filter(|o| o.host != d.host)
                        .filter_map(|o| if v6 { o.address6.map(|a| a.to_string()) } else { o.address.map(|a| a.to_string()) })
                        .collect()
                };
                let src = |v6: bool| if v6 { d.address6.map(|a| a.to_string()) } else { d.address.map(|a| a.to_string()) };
                let unicast = |v6: bool| v.unicast && src(v6).is_some();
                // Every instance of a director shares its timing, secret and unicast peers; they
                // differ in name, interface, VRID and addresses, and (an active-active split,
                // model::instances) in state and priority. An IPv6 instance is VRRP version 3,
                // which has no authentication (keepalived ignores auth_pass there).
                let instance = |name: String, (state, priority): (VrrpState, u8), interface, track_interfaces, virtual_router_id, track_scripts, addresses, excluded_addresses, v6: bool| Instance {
                    name,
                    state,
                    interface,
                    track_interfaces,
                    virtual_router_id,
                    priority,
                    advert_int: v.advert_int,
                    nopreempt: v.nopreempt,
                    preempt_delay: v.preempt_delay,
                    auth_pass: if v6 { None } else { v.auth_pass.as_deref() },
                    unicast_src_ip: if unicast(v6) { src(v6) } else { None },
                    unicast_peers: if unicast(v6) { peers(v6) } else { Vec::new() },
                    unicast_fault_no_peer: unicast(v6) && v.unicast_fault_no_peer,
                    garp: &v.garp,
                    track_scripts,
                    notify: None,
                    addresses,
                    excluded_addresses,
                };
                // The VIP instances: the first, then an active-active split's others, each
                // advertising its own first VIP. Each tracks the director's health, so a failing
                // director hands every instance over. keepalived's instances are single-family:
                // an instance whose services mix IPv4 and IPv6 VIPs is rendered as two, NAME
                // (IPv4) and NAME_V6, with the same VRID (VRRP's IPv4 and IPv6 adverts are
                // separate protocols), role and tracking, so they move together.
                for vi in cluster.vip_instances() {
                    let all = cluster.instance_vips(&vi.name);
                    let v4 = crate::model::family::of_family(&all, false);
                    let v6 = crate::model::family::of_family(&all, true);
                    let v6_name = if v4.is_empty() { vi.name.clone() } else { format!("{}_V6", vi.name) };
                    for (name, family, is_v6) in [(vi.name.clone(), v4, false), (v6_name, v6, true)] {
                        if family.is_empty() {
                            continue;
                        }
                        let vips: Vec<String> = family.iter().map(|ip| format!("{ip}/{} dev {}", super::host_prefix(*ip), d.interface)).collect();
                        instances.push(instance(
                            name,
                            cluster.instance_role(&vi, d),
                            &d.interface,
                            v.track_interfaces.iter().map(String::as_str).collect(),
                            vi.virtual_router_id,
                            v.track_scripts.iter().map(|t| t.name.as_str()).collect(),
                            vips.iter().take(ADVERTISED_VIPS).cloned().collect(),
                            vips.iter().skip(ADVERTISED_VIPS).cloned().collect(),
                            is_v6,
                        ));
                    }
                }
                let vip_instances = instances.len();
                if let (Some(n), Some(gw)) = (nat, nat.and_then(|n| n.gateway.as_ref())) {
                    // With unicast, the gateway instance talks to the peers the same way as the
                    // VIP instance: from the director's address on its interface (the inventory
                    // knows no internal addresses), holding the gateway on the internal
                    // interface and faulting when that interface goes down. With multicast it
                    // advertises on the internal interface itself, as before.
                    let (interface, track_interfaces) = if unicast(false) {
                        (d.interface.as_str(), vec![n.internal_interface.as_str()])
                    } else {
                        (n.internal_interface.as_str(), Vec::new())
                    };
                    let gateway = vec![format!("{}/{} dev {}", gw.vip, gw.prefix, n.internal_interface)];
                    instances.push(instance(format!("{}_GW", v.instance), (d.state, d.priority), interface, track_interfaces, gw.virtual_router_id, Vec::new(), gateway, Vec::new(), false));
                }
                if instances.len() > vip_instances {
                    // The external VIPs and the internal gateway must fail over together.
                    // (keepalived rejects a sync group of one instance: validation warns.)
                    sync_group = Some(SyncGroup {
                        name: v.sync_group.clone().unwrap_or_else(|| "VG_1".into()),
                        members: instances.iter().map(|i| i.name.clone()).collect(),
                        notify: (!v.notify.is_empty()).then_some(&v.notify),
                    });
                } else {
                    for i in &mut instances {
                        i.notify = (!v.notify.is_empty()).then_some(&v.notify);
                    }
                }
            }
            let ctx = KeepalivedCtx {
                cluster: &cluster.name,
                host: &d.host,
                notification: cluster.notification.as_ref().map(|n| NotificationCtx {
                    emails: &n.emails,
                    from: &n.from,
                    smtp_server: &n.smtp_server,
                    smtp_connect_timeout: n.smtp_connect_timeout,
                }),
                lvs_sync: vrrp.and_then(|v| {
                    v.connection_sync.as_ref().map(|c| LvsSyncCtx { interface: c.interface.as_deref().unwrap_or(&d.interface), instance: &v.instance, id: c.id })
                }),
                scripts: vrrp.is_some_and(|v| !v.track_scripts.is_empty() || !v.notify.is_empty())
                    || cluster.services.iter().any(|s| s.quorum_up.is_some() || s.quorum_down.is_some() || s.check.misc.is_some()),
                track_scripts: vrrp.map_or(&[], |v| v.track_scripts.as_slice()),
                sync_group,
                instances,
                virtual_servers,
            };
            let secret = vrrp.is_some_and(|v| v.auth_pass.is_some());
            let content = templates.render("keepalived.conf.j2", ctx)?;
            p.add_file(KEEPALIVED_CONF.into(), content, if secret { 0o640 } else { 0o644 }, secret);
            p.services.push(Service { name: "keepalived".into(), reload_on: vec![KEEPALIVED_CONF.into()], rules_file: None });
        }
        Engine::Ipvsadm => {
            #[derive(Serialize)]
            struct Ctx<'a> {
                cluster: &'a str,
                host: &'a str,
                virtual_servers: Vec<VirtualServerCtx<'a>>,
            }
            let content = templates.render("ipvsadm.rules.j2", Ctx { cluster: &cluster.name, host: &d.host, virtual_servers })?;
            // Placed, with its service, where the distribution loads it: persistence::finish.
            p.ipvsadm_rules = Some(content);
        }
    }
    Ok(())
}

fn virtual_server(s: &VirtualService) -> VirtualServerCtx<'_> {
    VirtualServerCtx {
        name: &s.name,
        vip: s.vip.to_string(),
        port: s.port,
        fwmark: s.fwmark,
        ports: &s.ports,
        scheduler: s.scheduler.as_str(),
        kind: lvs_method(s.mode),
        protocol: match s.protocol {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        },
        proto_flag: match s.protocol {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
        },
        method_flag: match s.mode {
            Mode::Dr => "-g",
            Mode::Nat => "-m",
            Mode::Tun => "-i",
        },
        persistence_timeout: s.persistence_timeout,
        persistence_granularity: s.persistence_granularity.map(|g| g.to_string()),
        ops: s.ops,
        delay_loop: s.delay_loop,
        alpha: s.alpha,
        omega: s.omega,
        inhibit_on_failure: s.inhibit_on_failure,
        quorum: s.quorum,
        hysteresis: s.hysteresis,
        quorum_up: s.quorum_up.as_deref(),
        quorum_down: s.quorum_down.as_deref(),
        sorry_server: s.sorry_server.as_ref().map(|ss| SorryServerCtx {
            address: ss.address.to_string(),
            port: ss.port,
            kind: lvs_method(ss.mode),
            inhibit: ss.inhibit,
        }),
        check: CheckCtx::new(&s.check),
        real_servers: s
            .real_servers
            .iter()
            .map(|r| RealServerCtx {
                address: r.address.to_string(),
                port: r.port,
                weight: r.weight,
                inhibit_on_failure: r.inhibit_on_failure,
                check: r.check.as_deref().map(CheckCtx::new),
            })
            .collect(),
    }
}

/// keepalived's name of an LVS forwarding method.
fn lvs_method(mode: Mode) -> &'static str {
    match mode {
        Mode::Dr => "DR",
        Mode::Nat => "NAT",
        Mode::Tun => "TUN",
    }
}
