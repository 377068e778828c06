//! The per-host transaction as ONE POSIX sh script, run in ONE exec.
//!
//! Steps, each announced on stdout as `@@step NAME`: lock (refused, naming the holder, when
//! another apply holds it) -> check that the host still is as planned (files by SHA-256,
//! sysctl values) -> back up every file it will touch and the runtime values it will change
//! as generation N (0700/0600) -> write candidates next to their targets -> validate them on
//! the host (`keepalived -t -e -f`, `iptables-restore --test`, every jumped-to chain
//! declared) -> install them by rename -> activate in a safe order (ARP sysctls before any VIP
//! is bound, addresses, routes, lvsctl's chains with --noflush, keepalived reload or start) ->
//! verify (sysctls, addresses, chains, daemon alive) -> record the generation and the
//! manifest, release the lock.
//!
//! Any failure after the backup rolls the host back (files restored, previous sysctl values
//! written back, addresses, routes and chains restored, keepalived reloaded with the old
//! config) and reports `@@fail STEP` with the command's stderr, then `@@rolledback N-1`.
//! The script ignores SIGHUP and SIGPIPE and logs to the generation directory: when the SSH
//! connection is cut it still finishes or rolls back, and releases the lock.

use std::fmt::Write;

use data_encoding::BASE64;
use sha2::{Digest, Sha256};

use crate::changes::{Change, FileAction, ServiceAction};
use crate::facts::{Facts, Manifest};
use crate::plan::HostPlan;
use crate::plan::{director::IPVSADM_RULES, director::KEEPALIVED_CONF, router::RULES_FILE};
use crate::probe::proc_sys_path;

pub const STATE_DIR: &str = "/var/lib/lvsctl";

/// Single-quote for sh.
pub fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What the script needs besides the plan and the changes.
pub struct TxnOptions<'a> {
    /// "user@runner pid N", written into the lock.
    pub holder: &'a str,
    pub break_lock: bool,
    /// JSON of the generation record (the plan with contents), stored 0600 for rollback.
    pub record_json: &'a str,
    pub cluster: &'a str,
}

pub fn transaction(plan: &HostPlan, facts: &Facts, changes: &[Change], o: &TxnOptions) -> String {
    let mut s = String::with_capacity(16 * 1024);
    // The whole script is one brace group: `sh -s` reads it completely before running any of
    // it. Without that, sh runs commands as they arrive on stdin, and a connection cut while
    // the script is still in flight (sshd drops what it has not yet written into the pipe)
    // ends it half-way with the lock held (found in the VM lab, where sh reads slowly).
    s.push_str("{\n");
    s.push_str(PRELUDE);
    let _ = writeln!(s, "HOLDER={}", sq(o.holder));
    let _ = writeln!(s, "IPVSADM_RULES={}", sq(IPVSADM_RULES));
    let _ = writeln!(s, "BREAK_LOCK={}", u8::from(o.break_lock));
    s.push_str(LOCK);

    // 2. Still as planned? Every file the plan touches and every sysctl it sets.
    s.push_str("step check\n");
    for c in changes {
        match c {
            Change::File { path, action, .. } => match (action, facts.files.get(path)) {
                (FileAction::Create, _) => {
                    let _ = writeln!(s, "[ ! -e {p} ] || changed {p}", p = sq(path));
                }
                (_, Some(old)) => {
                    let _ = writeln!(s, "same_file {} {}", sq(path), sha256_hex(old.content.as_bytes()));
                }
                (_, None) => {}
            },
            Change::Sysctl { key, from, .. } => {
                let want = from.as_deref().unwrap_or("");
                let _ = writeln!(s, "same_sysctl {} {}", sq(&proc_sys_path(key)), sq(want));
            }
            _ => {}
        }
    }
    s.push_str("[ -z \"$CHANGED\" ] || { echo \"@@changed$CHANGED\"; unlock; exit 5; }\n");

    // 3. Generation N: backups and runtime values before.
    s.push_str(GENERATION);
    let touched: Vec<&str> = changes.iter().filter_map(|c| if let Change::File { path, .. } = c { Some(path.as_str()) } else { None }).collect();
    for p in &touched {
        let _ = writeln!(s, "backup {}", sq(p));
    }
    for c in changes {
        if let Change::Sysctl { key, .. } = c {
            let path = proc_sys_path(key);
            let _ = writeln!(s, "v=$(cat {p} 2>/dev/null) && printf '%s %s\\n' {p} \"$v\" >>\"$G/sysctl.before\"", p = sq(&path));
        }
    }
    let _ = writeln!(s, "printf '%s' {} | base64 -d >\"$G/record.json\" || die backup 'cannot store the generation record'", sq(&BASE64.encode(o.record_json.as_bytes())));
    s.push_str("echo applying >\"$G/status\"\necho \"@@step backup $N\"\n");

    // 4. Candidates next to their targets.
    s.push_str("step write\n");
    for c in changes {
        if let Change::File { path, action: FileAction::Create | FileAction::Update, .. } = c {
            let f = plan.file(path).expect("changed file is planned");
            let _ = writeln!(
                s,
                "candidate {} {:o} {} {} {}",
                sq(path),
                f.mode,
                sq(&f.owner),
                sq(&f.group),
                sq(&BASE64.encode(f.content.as_bytes()))
            );
        }
    }

    // 5. Validate the candidates on the host, before anything becomes live.
    s.push_str("step validate\n");
    if touched.contains(&KEEPALIVED_CONF) {
        let _ = writeln!(s, "run validate keepalived -t -e -f \"$(cand {})\"", sq(KEEPALIVED_CONF));
    }
    if touched.contains(&RULES_FILE) {
        let _ = writeln!(s, "run validate iptables-restore --test \"$(cand {})\"", sq(RULES_FILE));
        let _ = writeln!(s, "chains_declared \"$(cand {})\"", sq(RULES_FILE));
    }

    // Install: renames (atomic per file), then deletions.
    s.push_str("step install\n");
    for c in changes {
        match c {
            Change::File { path, action: FileAction::Create | FileAction::Update, .. } => {
                let _ = writeln!(s, "install_candidate {}", sq(path));
            }
            Change::File { path, action: FileAction::Delete, .. } => {
                let _ = writeln!(s, "run install rm -f {}", sq(path));
            }
            _ => {}
        }
    }

    // 6. Activate: sysctls in plan order (ARP ones first), then addresses, routes, chains,
    // services. Changes are already in that order.
    s.push_str("step activate\n");
    // Modules first: ipip creates tunl0, whose sysctls and addresses follow. Loading one is
    // not undone by a rollback (an idle module changes nothing).
    for m in &plan.kernel_modules {
        let _ = writeln!(s, "[ -d /sys/module/{m} ] || run activate modprobe {m}", m = sq(m));
    }
    for c in changes {
        match c {
            Change::Sysctl { key, to, .. } => {
                let _ = writeln!(s, "set_sysctl {} {}", sq(&proc_sys_path(key)), sq(to));
            }
            Change::AddressRemove { address: a } => {
                let _ = writeln!(s, "run activate ip addr del {}/{} dev {}", a.ip, a.prefix, sq(&a.dev));
            }
            Change::AddressAdd { address: a } => {
                let label = a.label.as_ref().map(|l| format!(" label {}", sq(l))).unwrap_or_default();
                let _ = writeln!(s, "echo {} >>\"$G/addr.added\"", sq(&format!("{}/{} dev {}", a.ip, a.prefix, a.dev)));
                // tunl0 exists (ipip) but is down until something brings it up, and a VIP on a
                // down device receives nothing (found in the VM lab: every TUN request lost).
                if a.dev != "lo" {
                    let _ = writeln!(s, "run activate ip link set dev {} up", sq(&a.dev));
                }
                let _ = writeln!(s, "run activate ip addr replace {}/{} dev {}{label}", a.ip, a.prefix, sq(&a.dev));
            }
            Change::RouteRemove { route: r } => {
                let _ = writeln!(s, "run activate ip route del {} via {} dev {}", sq(&r.destination), r.via, sq(&r.dev));
            }
            Change::RouteAdd { route: r } => {
                let _ = writeln!(s, "run activate ip route replace {} via {} dev {}", sq(&r.destination), r.via, sq(&r.dev));
            }
            Change::NatRules { chains } => {
                let _ = writeln!(s, "nat_load {} {}", sq(RULES_FILE), chains.iter().map(|c| sq(c)).collect::<Vec<_>>().join(" "));
            }
            // A drifted IPVS table is rebuilt by its service's action (see changes.rs).
            Change::Service { name, action } | Change::IpvsTable { service: name, action, .. } => {
                let a = match action {
                    ServiceAction::Start => "start",
                    ServiceAction::Reload => "reload",
                    ServiceAction::Restart => "restart",
                };
                let _ = writeln!(s, "service_do {} {a}", sq(name));
            }
            Change::File { .. } => {}
        }
    }

    // 7. Verify what is now live.
    s.push_str("step verify\n");
    for sc in &plan.sysctls {
        if changes.iter().any(|c| matches!(c, Change::Sysctl { key, .. } if *key == sc.key)) {
            let _ = writeln!(s, "verify_sysctl {} {}", sq(&proc_sys_path(&sc.key)), sq(&sc.value));
        }
    }
    for a in &plan.addresses {
        let _ = writeln!(s, "verify_addr {} {}", sq(&format!("{}/{}", a.ip, a.prefix)), sq(&a.dev));
    }
    for ch in &plan.nat_chains {
        let _ = writeln!(s, "verify_chain {}", sq(ch));
    }
    for svc in &plan.services {
        if svc.name == "keepalived" {
            s.push_str("verify_keepalived\n");
        }
    }

    // 8. Record: manifest for the next plan, the list the probe reads, the generation number.
    let manifest = Manifest {
        cluster: o.cluster.to_string(),
        generation: 0,
        files: plan.files.iter().map(|f| f.path.clone()).collect(),
        sysctls: plan.sysctls.iter().map(|x| x.key.clone()).collect(),
        addresses: plan.addresses.clone(),
        routes: plan.routes.clone(),
        nat_chains: plan.nat_chains.clone(),
    };
    let manifest_json = serde_json::to_string(&manifest).expect("manifest serializes").replace("\"generation\":0", "\"generation\":__GEN__");
    let _ = writeln!(s, "MANIFEST={}", sq(&manifest_json));
    let files: String = plan.files.iter().map(|f| format!("{}\n", f.path)).collect();
    let _ = writeln!(s, "MANAGED={}", sq(&files));
    s.push_str(RECORD);
    s.push_str("}\n");
    s
}

const PRELUDE: &str = r#"# lvsctl apply transaction (generated). Read-only until the lock is held.
set -u
trap '' HUP PIPE
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
S=/var/lib/lvsctl
G=
N=
STEP=start
CHANGED=
out() { printf '%s\n' "$*" 2>/dev/null; [ -z "$G" ] || printf '%s\n' "$*" >>"$G/log"; }
step() { STEP=$1; out "@@step $1"; }
unlock() { rm -rf "$S/lock"; }
# Before the backup exists nothing was changed: report, unlock, leave.
die() { out "@@fail $1 $2"; [ -z "$G" ] || { echo failed >"$G/status"; }; unlock; exit 3; }
changed() { CHANGED="$CHANGED $1"; }
same_file() { h=$(sha256sum "$1" 2>/dev/null | cut -d' ' -f1); [ "$h" = "$2" ] || changed "$1"; }
same_sysctl() { v=$(cat "$1" 2>/dev/null); [ "$v" = "$2" ] || changed "$1"; }
cand() { printf '%s/.lvsctl-new.%s' "$(dirname "$1")" "$(basename "$1")"; }
# After the backup: every failure rolls back.
fail() {
  out "@@fail $STEP $*"
  rollback
  out "@@rolledback $((N - 1))"
  echo rolled-back >"$G/status"
  unlock
  exit 1
}
run() { st=$1; shift; if ! err=$("$@" 2>&1 >/dev/null); then STEP=$st; fail "$* : $err"; fi; }
"#;

const LOCK: &str = r#"mkdir -p "$S/generations" 2>/dev/null || { out "@@fail lock cannot create $S"; exit 3; }
chmod 700 "$S" "$S/generations"
if ! mkdir "$S/lock" 2>/dev/null; then
  if [ "$BREAK_LOCK" = 1 ]; then
    out "@@broke-lock $(cat "$S/lock/holder" 2>/dev/null)"
    rm -rf "$S/lock"
    mkdir "$S/lock" 2>/dev/null || { out "@@fail lock cannot take the lock"; exit 3; }
  else
    out "@@locked $(cat "$S/lock/holder" 2>/dev/null)"
    exit 4
  fi
fi
printf '%s since %s\n' "$HOLDER" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$S/lock/holder"
out "@@step lock"
"#;

const GENERATION: &str = r#"N=$(( $(cat "$S/generation" 2>/dev/null || echo 0) + 1 ))
while [ -e "$S/generations/$N" ]; do N=$((N + 1)); done
G="$S/generations/$N"
mkdir -p "$G/backup" || die backup "cannot create $G"
date -u +%Y-%m-%dT%H:%M:%SZ >"$G/time"
printf '%s\n' "$HOLDER" >"$G/holder"
: >"$G/existed"; : >"$G/created"; : >"$G/sysctl.before"; : >"$G/addr.added"; : >"$G/modes"
ip -o -4 addr show >"$G/addr.before" 2>/dev/null
ip -4 route show >"$G/route.before" 2>/dev/null
if command -v iptables-save >/dev/null 2>&1; then iptables-save -t nat >"$G/nat.before" 2>/dev/null || :; fi
# keepalived's main process (the one whose parent is not keepalived). Builtins only: a fork per
# process costs ~25 ms on slow hosts (measured in the VM lab: 2 s per call with `cat`).
comm_of() { kc=; { read -r kc <"$1/comm"; } 2>/dev/null; }
ka_pid() {
  for p in /proc/[0-9]*; do
    comm_of "$p"; [ "$kc" = keepalived ] || continue
    pp=; { while read -r k v; do [ "$k" = PPid: ] && pp=$v && break; done <"$p/status"; } 2>/dev/null
    comm_of "/proc/$pp"; [ "$kc" = keepalived ] && continue
    echo "${p#/proc/}"; return 0
  done
  return 1
}
ka_pid >"$G/keepalived.before" 2>/dev/null || echo stopped >"$G/keepalived.before"
backup() {
  if [ -e "$1" ]; then
    mkdir -p "$G/backup$(dirname "$1")" && cp -p "$1" "$G/backup$1" || die backup "cannot back up $1"
    # Backups may hold the VRRP secret: 0600, with the original mode kept for the restore.
    printf '%s %s\n' "$(stat -c %a "$1")" "$1" >>"$G/modes"
    chmod 600 "$G/backup$1"
    printf '%s\n' "$1" >>"$G/existed"
  else
    printf '%s\n' "$1" >>"$G/created"
  fi
}
service_do() {
  # ipvsadm is no daemon: start, reload and restart all load the rules file with
  # ipvsadm-restore (which clears the table first), the live table saved for a rollback. Not
  # through an init script: RHEL's unit has no reload and saves the live table over the rules
  # file when stopped; Debian's reads another file.
  if [ "$1" = ipvsadm ]; then
    [ -f "$G/ipvs.before" ] || ipvsadm-save -n >"$G/ipvs.before" 2>/dev/null
    ipvsadm-restore <"$IPVSADM_RULES"
  elif [ -d /run/systemd/system ]; then systemctl "$2" "$1"
  elif command -v service >/dev/null 2>&1; then service "$1" "$2"
  else "/etc/init.d/$1" "$2"; fi </dev/null >>"$G/log" 2>&1 || { STEP=activate; fail "service $1 $2 failed (see $G/log)"; }
  echo "$1 $2" >>"$G/services"
}
restore_file() {
  # Untouched files (the failure came before install) stay as they are; otherwise the backup
  # goes back by the same atomic rename. A failed restore leaves no candidate behind.
  cmp -s "$G/backup$1" "$1" 2>/dev/null && return 0
  c=$(cand "$1")
  m=$(sed -n "s|^\([0-7]*\) $1\$|\1|p" "$G/modes" | head -1)
  if cp -p "$G/backup$1" "$c" 2>/dev/null && chmod "${m:-600}" "$c" && mv -f "$c" "$1"; then return 0; fi
  rm -f "$c"
  out "@@warn could not restore $1 (its backup is $G/backup$1)"
}
rollback() {
  out "@@step rollback"
  while IFS= read -r f; do [ -n "$f" ] && rm -f "$(cand "$f")"; done <"$G/existed"
  while IFS= read -r f; do [ -n "$f" ] && rm -f "$(cand "$f")" "$f"; done <"$G/created"
  while IFS= read -r f; do [ -n "$f" ] && restore_file "$f"; done <"$G/existed"
  while read -r p v; do [ -n "$p" ] && printf '%s\n' "$v" >"$p"; done <"$G/sysctl.before"
  while IFS= read -r a; do
    [ -n "$a" ] || continue
    ip_only=${a%% dev *}
    grep -q " inet $ip_only " "$G/addr.before" || ip addr del $a 2>/dev/null
  done <"$G/addr.added"
  # Addresses that were there before and are gone now: put them back.
  while read -r _ dev _ cidr rest; do
    ip -o -4 addr show dev "$dev" 2>/dev/null | grep -q " inet $cidr " && continue
    label=$(printf '%s\n' "$rest" | sed -n 's/.* \([^ ]*:[^ ]*\)$/\1/p')
    ip addr add "$cidr" dev "$dev" ${label:+label "$label"} 2>/dev/null
  done <"$G/addr.before"
  if [ -s "$G/route.before" ]; then
    grep '^default ' "$G/route.before" | head -1 | { read -r r || exit 0; ip route replace $r 2>/dev/null; }
  fi
  if [ -f "$G/nat.loaded" ]; then
    for c in $(cat "$G/nat.loaded"); do
      for parent in PREROUTING POSTROUTING OUTPUT INPUT; do
        while iptables -t nat -D "$parent" -j "$c" 2>/dev/null; do :; done
      done
      iptables -t nat -F "$c" 2>/dev/null; iptables -t nat -X "$c" 2>/dev/null
    done
    if grep -q 'LVSCTL-' "$G/nat.before" 2>/dev/null; then
      { echo '*nat'; grep -E '^:LVSCTL-|^-A .*LVSCTL-' "$G/nat.before"; echo COMMIT; } | iptables-restore --noflush 2>/dev/null
    fi
  fi
  if [ -f "$G/services" ]; then
    if grep -q '^ipvsadm ' "$G/services" && [ -f "$G/ipvs.before" ]; then
      ipvsadm-restore <"$G/ipvs.before" >>"$G/log" 2>&1
    fi
    before=$(cat "$G/keepalived.before")
    if grep -q '^keepalived ' "$G/services"; then
      if [ "$before" = stopped ]; then
        if [ -d /run/systemd/system ]; then systemctl stop keepalived; else service keepalived stop; fi </dev/null >>"$G/log" 2>&1
      else
        if [ -d /run/systemd/system ]; then systemctl reload keepalived; else service keepalived reload; fi </dev/null >>"$G/log" 2>&1
      fi
    fi
  fi
}
candidate() { # path mode owner group base64
  d=$(dirname "$1"); c=$(cand "$1")
  # Config directories are world-readable as usual (only lvsctl's own state is 0700).
  [ -d "$d" ] || (umask 022; mkdir -p "$d") || fail "cannot create $d"
  if ! err=$( { printf '%s' "$5" | base64 -d >"$c"; } 2>&1 ); then fail "cannot write $1: $err"; fi
  chmod "$2" "$c" && chown "$3:$4" "$c" || fail "cannot set mode/owner of $1"
  sync "$c" 2>/dev/null || sync
}
install_candidate() { mv -f "$(cand "$1")" "$1" || fail "cannot rename into $1"; }
chains_declared() {
  for c in $(grep -o -- '-j [A-Za-z0-9_-]*' "$1" | cut -d' ' -f2 | sort -u); do
    case $c in DNAT|SNAT|MASQUERADE|ACCEPT|RETURN|DROP|REJECT|REDIRECT|LOG) continue ;; esac
    grep -q "^:$c " "$1" || fail "rules jump to chain $c, which the file does not declare"
  done
}
set_sysctl() { printf '%s\n' "$2" >"$1" 2>/dev/null || fail "cannot set $1 to $2"; }
nat_load() { # file chain...
  f=$1; shift
  for c in "$@"; do
    for parent in PREROUTING POSTROUTING OUTPUT INPUT; do
      while iptables -t nat -D "$parent" -j "$c" 2>/dev/null; do :; done
    done
  done
  printf '%s\n' "$*" >"$G/nat.loaded"
  run activate iptables-restore --noflush "$f"
}
verify_sysctl() { v=$(cat "$1" 2>/dev/null); [ "$v" = "$2" ] || fail "$1 is '$v', not $2"; }
verify_addr() { ip -o -4 addr show dev "$2" up 2>/dev/null | grep -q " inet $1 " || fail "$1 is not on $2 (or $2 is down)"; }
verify_chain() {
  iptables -t nat -S "$1" >/dev/null 2>&1 || fail "chain $1 is missing"
}
verify_keepalived() {
  i=0
  while [ $i -lt 30 ]; do ka_pid >/dev/null && return 0; sleep 0.1; i=$((i + 1)); done
  fail "keepalived is not running (see /var/log or journalctl; $G/log)"
}
"#;

const RECORD: &str = r#"step record
printf '%s\n' "$MANIFEST" | sed "s/__GEN__/$N/" >"$S/manifest.json.new" && mv -f "$S/manifest.json.new" "$S/manifest.json" || fail "cannot write the manifest"
printf '%s' "$MANAGED" >"$S/managed-files.new" && mv -f "$S/managed-files.new" "$S/managed-files" || fail "cannot write the managed-files list"
echo "$N" >"$S/generation.new" && mv -f "$S/generation.new" "$S/generation"
echo applied >"$G/status"
unlock
out "@@done $N"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The ipvsadm engine's director with a drifted table: the transaction loads the rules with
    /// ipvsadm-restore (through `service_do`), and the script is valid sh for dash and busybox.
    #[test]
    fn an_ipvs_rebuild_is_one_service_action_in_a_valid_script() {
        let cluster = crate::ipvs::testing::example("dr-ipvsadm-single.yml");
        let plans = crate::plan::build(&cluster, &crate::render::Templates::new(None).unwrap()).unwrap();
        let plan = plans.iter().find(|p| p.host == "lvs1").unwrap();
        let changes = vec![Change::IpvsTable { service: "ipvsadm".into(), action: ServiceAction::Reload, differences: vec!["TCP 10.77.0.100:80 wrr: scheduler rr (want wrr)".into()] }];
        let o = TxnOptions { holder: "test", break_lock: false, record_json: "{}", cluster: "web" };
        let script = transaction(plan, &Facts::default(), &changes, &o);
        assert!(script.contains("IPVSADM_RULES='/etc/sysconfig/ipvsadm'\n"), "{script}");
        assert!(script.contains("\nservice_do 'ipvsadm' reload\n"), "{script}");
        for shell in [&["dash", "-n"][..], &["busybox", "sh", "-n"][..]] {
            let Ok(mut child) = std::process::Command::new(shell[0]).args(&shell[1..]).stdin(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn() else {
                eprintln!("{} skipped: not installed", shell[0]);
                continue;
            };
            {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
            }
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{shell:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
