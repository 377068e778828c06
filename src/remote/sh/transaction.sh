# lvsctl apply transaction library (embedded by src/apply/script.rs, which appends the calls).
# The caller has set ROOT, PATH and S (src/remote/mod.rs), HOLDER and BREAK_LOCK, and
# included src/remote/sh/recover.sh (the stale-lock recovery, restore_backup, restore_state).
# Host paths are given as on the host (/etc/...); every access goes through "$ROOT".
# shellcheck shell=sh
# shellcheck disable=SC2034 # variables set here are read by the generated part
set -u
trap '' HUP PIPE
umask 077
G=
N=
STEP=start
CHANGED=
INSTALLED_DIRS=

# out KIND ARGS...: a record for lvsctl, and a line in the generation's log.
out() {
  rec "$@" 2>/dev/null
  [ -z "$G" ] || printf '%s\n' "$*" >>"$G/log"
}
step() { STEP=$1; out step "$1"; }
unlock() { rm -rf "$S/lock"; }
# Before the backup exists nothing was changed: report, unlock, leave.
die() {
  out fail "$1" "$2"
  [ -z "$G" ] || echo failed >"$G/status"
  unlock
  rec end
  exit 3
}
changed() { CHANGED="$CHANGED $1"; }
# fsync PATH...: those files and directories on disk (a whole-system sync where `sync` takes
# no operands, e.g. an old coreutils).
fsync() { sync "$@" 2>/dev/null || sync; }
fsync_tree() { find "$1" -exec sync {} + 2>/dev/null || sync; }
same_file() { h=$(sha256sum "$ROOT$1" 2>/dev/null | cut -d' ' -f1); [ "$h" = "$2" ] || changed "$1"; }
absent_file() { [ ! -e "$ROOT$1" ] || changed "$1"; }
same_sysctl() { v=$(cat "$ROOT$1" 2>/dev/null); [ "$v" = "$2" ] || changed "$1"; }
check_done() {
  [ -z "$CHANGED" ] && return 0
  out changed "${CHANGED# }"
  unlock
  rec end
  exit 5
}
# The candidate of host path $1, as a path on this system (next to its target: same
# filesystem, so the install is an atomic rename).
cand() { printf '%s/.lvsctl-new.%s' "$(dirname "$ROOT$1")" "$(basename "$1")"; }
# After the backup: every failure rolls back.
fail() {
  out fail "$STEP" "$*"
  rollback
  out rolledback "$((N - 1))"
  echo rolled-back >"$G/status"
  unlock
  rec end
  exit 1
}
run() {
  st=$1
  shift
  if ! err=$("$@" 2>&1 >/dev/null); then
    STEP=$st
    fail "$* : $err"
  fi
}

take_lock() {
  mkdir -p "$S/generations" 2>/dev/null || { out fail lock "cannot create $S"; rec end; exit 3; }
  chmod 700 "$S" "$S/generations"
  if ! mkdir "$S/lock" 2>/dev/null; then
    if lock_stale; then
      # Taken in an earlier boot: its holder died with the host (a power cut). Its generation,
      # if it was still applying, is rolled back first (lvsctl-boot.service does the same at
      # boot where it is installed).
      out stale-lock "$(cat "$S/lock/holder" 2>/dev/null)"
      recover_generation | while IFS= read -r l; do out warn "recovery: $l"; done
      rm -rf "$S/lock"
      mkdir "$S/lock" 2>/dev/null || { out fail lock "cannot take the lock"; rec end; exit 3; }
    elif [ "$BREAK_LOCK" = 1 ]; then
      out broke-lock "$(cat "$S/lock/holder" 2>/dev/null)"
      rm -rf "$S/lock"
      mkdir "$S/lock" 2>/dev/null || { out fail lock "cannot take the lock"; rec end; exit 3; }
    else
      out locked "$(cat "$S/lock/holder" 2>/dev/null)"
      rec end
      exit 4
    fi
  fi
  printf '%s since %s\n' "$HOLDER" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$S/lock/holder"
  # The boot the lock belongs to: a lock of an earlier boot is stale (lock_stale).
  cat "$ROOT/proc/sys/kernel/random/boot_id" >"$S/lock/boot_id" 2>/dev/null
  # On disk at once: a lock a power cut leaves must say which boot took it.
  fsync "$S/lock/holder" "$S/lock/boot_id" "$S/lock" "$S"
  out step lock
}

# keepalived's main process (the one whose parent is not keepalived). Builtins only: a fork
# per process costs ~25 ms on slow hosts (measured in the VM lab: 2 s per call with `cat`).
comm_of() { kc=; { read -r kc <"$1/comm"; } 2>/dev/null; }
ka_pid() {
  for p in "$ROOT"/proc/[0-9]*; do
    comm_of "$p"; [ "$kc" = keepalived ] || continue
    pp=; { while read -r k v; do [ "$k" = PPid: ] && pp=$v && break; done <"$p/status"; } 2>/dev/null
    comm_of "$ROOT/proc/$pp"; [ "$kc" = keepalived ] && continue
    echo "${p##*/}"; return 0
  done
  return 1
}
systemd() { [ -d "$ROOT/run/systemd/system" ]; }
# service NAME ACTION through the host's init system.
service_ctl() {
  if systemd; then systemctl "$2" "$1"
  elif command -v service >/dev/null 2>&1; then service "$1" "$2"
  else "$ROOT/etc/init.d/$1" "$2"; fi
}

# Generation N: its directory, and the runtime state before (for the rollback).
begin_generation() {
  N=$(( $(cat "$S/generation" 2>/dev/null || echo 0) + 1 ))
  while [ -e "$S/generations/$N" ]; do N=$((N + 1)); done
  G="$S/generations/$N"
  mkdir -p "$G/backup" || die backup "cannot create $G"
  echo "$N" >"$S/lock/generation"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$G/time"
  printf '%s\n' "$HOLDER" >"$G/holder"
  : >"$G/existed"; : >"$G/created"; : >"$G/sysctl.before"; : >"$G/addr.added"; : >"$G/routes.changed"; : >"$G/modes"
  ip -o addr show >"$G/addr.before" 2>/dev/null
  ip -4 route show >"$G/route.before" 2>/dev/null
  if command -v iptables-save >/dev/null 2>&1; then iptables-save -t nat >"$G/nat.before" 2>/dev/null || :; fi
  ka_pid >"$G/keepalived.before" 2>/dev/null || echo stopped >"$G/keepalived.before"
}
backup() {
  if [ -e "$ROOT$1" ]; then
    { mkdir -p "$G/backup$(dirname "$1")" && cp -p "$ROOT$1" "$G/backup$1"; } || die backup "cannot back up $1"
    # Backups may hold the VRRP secret: 0600, with the original mode kept for the restore.
    printf '%s %s\n' "$(stat -c %a "$ROOT$1")" "$1" >>"$G/modes"
    chmod 600 "$G/backup$1"
    printf '%s\n' "$1" >>"$G/existed"
  else
    printf '%s\n' "$1" >>"$G/created"
  fi
}
# drained FLAG VIP RS FORWARD WEIGHT: a real server drained before this transaction (weight 0);
# a rollback gives it WEIGHT back (the old configuration's reload may not: keepalived leaves a
# destination it still has alone).
drained() { printf '%s %s %s %s %s\n' "$1" "$2" "$3" "$4" "$5" >>"$G/drained"; }
save_sysctl() {
  if v=$(cat "$ROOT$1" 2>/dev/null); then printf '%s %s\n' "$1" "$v" >>"$G/sysctl.before"; fi
}
store_record() {
  printf '%s' "$1" | base64 -d >"$G/record.json" || die backup 'cannot store the generation record'
  echo applying >"$G/status"
  # On disk before any file is replaced: a power cut from here on is rolled back from them
  # (the lock names the generation recovery rolls back).
  fsync_tree "$G"
  fsync "$S/lock/generation" "$S/lock" "$S/generations"
  out step "backup $N"
}

candidate() { # path mode owner group base64
  d=$(dirname "$ROOT$1"); c=$(cand "$1")
  # Config directories are world-readable as usual (only lvsctl's own state is 0700).
  [ -d "$d" ] || (umask 022; mkdir -p "$d") || fail "cannot create ${d#"$ROOT"}"
  if ! err=$( { printf '%s' "$5" | base64 -d >"$c"; } 2>&1 ); then fail "cannot write $1: $err"; fi
  { chmod "$2" "$c" && chown "$3:$4" "$c"; } || fail "cannot set mode/owner of $1"
  sync "$c" 2>/dev/null || sync
}
install_candidate() {
  mv -f "$(cand "$1")" "$ROOT$1" || fail "cannot rename into $1"
  INSTALLED_DIRS="$INSTALLED_DIRS
$(dirname "$ROOT$1")"
}
# The renames on disk: each target directory fsynced (a file is whole either way: old or new
# content, never a mix). Only what was touched: a global sync makes every dirty page of the
# host a write in flight (and under User-Mode Linux trips a lost-completion bug of its disk).
installed() {
  printf '%s\n' "$INSTALLED_DIRS" | sort -u | while IFS= read -r d; do
    [ -z "$d" ] || fsync "$d"
  done
}
daemon_reload() { echo reload >"$G/daemon-reload"; ! systemd || run install systemctl daemon-reload; }
remove_file() {
  run install rm -f "$ROOT$1"
  INSTALLED_DIRS="$INSTALLED_DIRS
$(dirname "$ROOT$1")"
}
# barrier: directors reloaded together (their VRRP adverts change) activate at the same moment:
# validated, this one says `ready` and waits for lvsctl's word on stdin (the rest of the script
# was read with the brace group around it): `go` when every director of the stage is ready;
# anything else, or EOF (lvsctl gone), rolls back rather than activate alone. The script's
# stdin is fd 3 (every command runs with /dev/null, src/apply/script.rs).
barrier() {
  out ready
  go=
  IFS= read -r go <&3 || go=
  [ "$go" = go ] || { STEP=validate; fail "another director of the stage failed before activating: not activated alone"; }
}
validate_keepalived() { run validate keepalived -t -e -f "$(cand "$1")"; }
validate_nat() {
  run validate iptables-restore --test "$(cand "$1")"
  chains_declared "$(cand "$1")"
}
validate_nat6() {
  run validate ip6tables-restore --test "$(cand "$1")"
  chains_declared "$(cand "$1")"
}
chains_declared() {
  # shellcheck disable=SC2013 # chain names: words
  for c in $(grep -o -- '-j [A-Za-z0-9_-]*' "$1" | cut -d' ' -f2 | sort -u); do
    case $c in DNAT|SNAT|MASQUERADE|ACCEPT|RETURN|DROP|REJECT|REDIRECT|LOG|MARK) continue ;; esac
    grep -q "^:$c " "$1" || fail "rules jump to chain $c, which the file does not declare"
  done
}

load_module() { [ -d "$ROOT/sys/module/$1" ] || run activate modprobe "$1"; }
set_sysctl() { printf '%s\n' "$2" >"$ROOT$1" 2>/dev/null || fail "cannot set $1 to $2"; }
addr_add() { # ip/prefix dev [label]
  printf '%s dev %s\n' "$1" "$2" >>"$G/addr.added"
  # tunl0 exists (ipip) but is down until something brings it up, and a VIP on a down
  # device receives nothing (found in the VM lab: every TUN request lost).
  [ "$2" = lo ] || run activate ip link set dev "$2" up
  if [ $# -gt 2 ]; then run activate ip addr replace "$1" dev "$2" label "$3"
  else run activate ip addr replace "$1" dev "$2"; fi
}
addr_del() { run activate ip addr del "$1" dev "$2"; }
route_replace() { printf '%s\n' "$1" >>"$G/routes.changed"; run activate ip route replace "$1" via "$2" dev "$3"; }
route_del() { printf '%s\n' "$1" >>"$G/routes.changed"; run activate ip route del "$1" via "$2" dev "$3"; }
# lvsctl's chains are named as the plan names them: LVSCTL-PREROUTING in the nat table,
# mangle:LVSCTL-FWMARK in another (a director's firewall marks), ip6-nat:LVSCTL-PREROUTING in
# ip6tables' nat table (the router's IPv6 forwards). A table is `nat`, `mangle` or `ip6-nat`.
chain_table() { case $1 in *:*) echo "${1%%:*}" ;; *) echo nat ;; esac; }
chain_name() { echo "${1#*:}"; }
# ipt TABLE ARGS...: iptables or ip6tables on the table; ipt_save TABLE, ipt_restore TABLE ARGS.
ipt() { t_=$1; shift; case $t_ in ip6-*) ip6tables -t "${t_#ip6-}" "$@" ;; *) iptables -t "$t_" "$@" ;; esac; }
ipt_save() { case $1 in ip6-*) ip6tables-save -t "${1#ip6-}" ;; *) iptables-save -t "$1" ;; esac; }
ipt_restore() { t_=$1; shift; case $t_ in ip6-*) ip6tables-restore "$@" ;; *) iptables-restore "$@" ;; esac; }
# table_saved TABLE: the table as it was before this transaction first touched it, for a
# rollback (nat's is saved when the transaction begins).
table_saved() { [ -f "$G/$1.before" ] || ipt_save "$1" >"$G/$1.before" 2>/dev/null || :; }
unhook_chain() {
  ut=$(chain_table "$1"); uc=$(chain_name "$1")
  for parent in PREROUTING POSTROUTING OUTPUT INPUT FORWARD; do
    while ipt "$ut" -D "$parent" -j "$uc" 2>/dev/null; do :; done
  done
}
# nat_load FILE CHAIN...: lvsctl's chains replaced by one iptables-restore (ip6tables-restore
# for a file of ip6-nat chains), one atomic commit of the table. The file's jumps to a chain already hooked are left out of it (and extra copies
# removed), so a jump is never doubled nor, for a moment, missing: unhooking first let new
# connections reach the router itself for ~0.2 s, refused (found in the VM lab under load).
nat_load() { # file chain...
  f=$1; shift
  printf '%s\n' "$*" >>"$G/nat.loaded"
  : >"$G/nat.hooked"
  for spec in "$@"; do
    lt=$(chain_table "$spec"); c=$(chain_name "$spec")
    table_saved "$lt"
    for parent in PREROUTING POSTROUTING OUTPUT INPUT; do
      n=$(ipt "$lt" -S "$parent" 2>/dev/null | grep -c -x -- "-A $parent -j $c")
      [ "${n:-0}" -gt 0 ] || continue
      printf '%s\n' "-A $parent -j $c" >>"$G/nat.hooked"
      while [ "$n" -gt 1 ]; do ipt "$lt" -D "$parent" -j "$c" 2>/dev/null; n=$((n - 1)); done
    done
  done
  # (busybox grep -f with an empty file matches every line)
  if [ -s "$G/nat.hooked" ]; then grep -v -x -F -f "$G/nat.hooked" "$ROOT$f" >"$G/nat.rules"; else cat "$ROOT$f" >"$G/nat.rules"; fi
  case $lt in
    ip6-*) run activate ip6tables-restore --noflush "$G/nat.rules" ;;
    *) run activate iptables-restore --noflush "$G/nat.rules" ;;
  esac
}
# chains_remove CHAIN...: chains of lvsctl's the topology dropped, unhooked and deleted (the
# rollback puts them back from the table as it was).
chains_remove() {
  printf '%s\n' "$*" >>"$G/nat.loaded"
  for spec in "$@"; do
    table_saved "$(chain_table "$spec")"
    unhook_chain "$spec"
    ct=$(chain_table "$spec"); cn=$(chain_name "$spec")
    case $ct in
      ip6-*) run activate ip6tables -t "${ct#ip6-}" -F "$cn"; run activate ip6tables -t "${ct#ip6-}" -X "$cn" ;;
      *) run activate iptables -t "$ct" -F "$cn"; run activate iptables -t "$ct" -X "$cn" ;;
    esac
  done
}
service_do() { # name action [rules file]
  # Noted before it runs: an action that fails may have taken effect all the same (systemd
  # giving up on a keepalived that did start; ipvsadm-restore failing on a rule after it
  # cleared the table), so the rollback undoes it either way.
  echo "$1 $2" >>"$G/services"
  # ipvsadm is no daemon: start, reload and restart all load the rules file with
  # ipvsadm-restore (which clears the table first), the live table saved for a rollback. Not
  # through an init script: RHEL's unit has no reload and saves the live table over the rules
  # file when stopped; Debian's reads another file.
  if [ "$1" = ipvsadm ]; then
    [ -f "$G/ipvs.before" ] || ipvsadm-save -n >"$G/ipvs.before" 2>/dev/null
    ipvsadm-restore <"$ROOT$3"
  else
    service_ctl "$1" "$2"
  fi </dev/null >>"$G/log" 2>&1 || { STEP=activate; fail "service $1 $2 failed (see $G/log)"; }
}

# boot_ctl NAME enable|disable: at boot, through the host's init system. systemctl without
# its implicit daemon-reload: the links matter at the next boot only, and a unit file this
# generation installs or removes has its own reload (daemon_reload; the rollback's too). Each
# reload re-reads every unit: 0.1-0.3 s on a real host, ~2.5 s of a loaded VM-lab VM.
boot_ctl() {
  if systemd; then systemctl --no-reload "$2" "$1"
  elif command -v update-rc.d >/dev/null 2>&1; then update-rc.d "$1" "$2"
  elif command -v chkconfig >/dev/null 2>&1; then if [ "$2" = enable ]; then chkconfig "$1" on; else chkconfig "$1" off; fi
  elif command -v rc-update >/dev/null 2>&1; then if [ "$2" = enable ]; then rc-update add "$1" default; else rc-update del "$1" default; fi
  else echo "no init system tool (systemctl, update-rc.d, chkconfig, rc-update)"; return 1; fi
}
boot_enable() {
  echo "enable $1" >>"$G/boot"
  boot_ctl "$1" enable </dev/null >>"$G/log" 2>&1 || { STEP=activate; fail "cannot enable $1 at boot (see $G/log)"; }
}
boot_disable() {
  echo "disable $1" >>"$G/boot"
  boot_ctl "$1" disable </dev/null >>"$G/log" 2>&1 || { STEP=install; fail "cannot disable $1 at boot (see $G/log)"; }
}

verify_enabled() {
  if systemd; then systemctl is-enabled --quiet "$1" 2>/dev/null || fail "$1 is not enabled at boot"; fi
}
verify_ipvs() {
  want=$(grep -E '^-[Aa] ' "$ROOT$1" | sort)
  # ipvsadm 1.31 prints a TUN real server's default encapsulation (`--tun-type ipip`), which
  # the rules leave out so older ipvsadm-restore (without the option) loads them too.
  have=$(ipvsadm -Sn 2>/dev/null | sed 's/ --tun-type ipip$//' | sort)
  [ "$want" = "$have" ] || fail "the kernel's IPVS table is not what $1 holds: $(printf '%s\n' "$have" | tr '\n' ';')"
}
verify_sysctl() { v=$(cat "$ROOT$1" 2>/dev/null); [ "$v" = "$2" ] || fail "$1 is '$v', not $2"; }
verify_addr() { ip -o addr show dev "$2" up 2>/dev/null | grep -qE " inet6? $1 " || fail "$1 is not on $2 (or $2 is down)"; }
verify_chain() { ipt "$(chain_table "$1")" -S "$(chain_name "$1")" >/dev/null 2>&1 || fail "chain $1 is missing"; }
verify_keepalived() {
  i=0
  while [ $i -lt 30 ]; do ka_pid >/dev/null && return 0; sleep 0.1; i=$((i + 1)); done
  fail "keepalived is not running (see /var/log or journalctl; $G/log)"
}

restore_file() {
  # A file with its content as before (untouched: the failure came before install; or a
  # mode-only update) gets its mode back; otherwise the backup goes back by the same atomic
  # rename. A failed restore leaves no candidate behind.
  if cmp -s "$G/backup$1" "$ROOT$1" 2>/dev/null; then
    m=$(backup_mode "$G" "$1")
    chmod "${m:-600}" "$ROOT$1" || out warn "could not restore the mode of $1"
    return 0
  fi
  restore_backup "$G" "$1" || out warn "could not restore $1 (its backup is $G/backup$1)"
}
rollback() {
  out step rollback
  # Boot links first: disabling needs the unit file this generation may have created.
  if [ -f "$G/boot" ]; then
    while read -r what u; do
      case $what in
        enable) boot_ctl "$u" disable ;;
        disable) boot_ctl "$u" enable ;;
      esac </dev/null >>"$G/log" 2>&1 || out warn "could not undo: $what $u at boot"
    done <"$G/boot"
  fi
  while IFS= read -r f; do [ -n "$f" ] && rm -f "$(cand "$f")"; done <"$G/existed"
  while IFS= read -r f; do [ -n "$f" ] && rm -f "$(cand "$f")" "$ROOT$f"; done <"$G/created"
  while IFS= read -r f; do [ -n "$f" ] && restore_file "$f"; done <"$G/existed"
  while read -r p v; do [ -n "$p" ] && printf '%s\n' "$v" >"$ROOT$p"; done <"$G/sysctl.before"
  while IFS= read -r a; do
    [ -n "$a" ] || continue
    ip_only=${a%% dev *}
    # shellcheck disable=SC2086 # "IP/PREFIX dev DEV": words for ip
    grep -qE " inet6? $ip_only " "$G/addr.before" || ip addr del $a 2>/dev/null
  done <"$G/addr.added"
  # Addresses that were there before and are gone now: put them back (IPv6: the static
  # global ones; the kernel makes link-local and autoconfigured ones itself).
  while read -r _ dev fam cidr rest; do
    case $fam in
      inet) ;;
      inet6) case $rest in *"scope global"*dynamic*|*"scope link"*|*"scope host"*) continue ;; esac ;;
      *) continue ;;
    esac
    ip -o addr show dev "$dev" 2>/dev/null | grep -q " $fam $cidr " && continue
    # `ip -o` ends a line with `\       valid_lft ...`: the label is the last word before it.
    rest=${rest%%\\*}
    label=$(printf '%s\n' "$rest" | sed -n 's/.* \([^ ]*:[^ ]*\) *$/\1/p')
    ip addr add "$cidr" dev "$dev" ${label:+label "$label"} 2>/dev/null
  done <"$G/addr.before"
  # Routes this generation replaced or removed: as they were, or gone when it added them (a
  # host without a default route before). The default route as it was in any case: removing
  # an address can take the routes through it along.
  { cat "$G/routes.changed"; echo default; } | sort -u | while IFS= read -r d; do
    r=
    while IFS= read -r l; do case $l in "$d "*) r=$l; break ;; esac; done <"$G/route.before"
    # shellcheck disable=SC2086 # a route line: words for ip
    if [ -n "$r" ]; then ip route replace $r 2>/dev/null
    elif grep -qxF -- "$d" "$G/routes.changed"; then ip route del "$d" 2>/dev/null; fi
  done
  if [ -f "$G/daemon-reload" ] && systemd; then systemctl daemon-reload >>"$G/log" 2>&1; fi
  if [ -f "$G/nat.loaded" ]; then
    # shellcheck disable=SC2013 # chain names: words
    for c in $(cat "$G/nat.loaded"); do
      unhook_chain "$c"
      ipt "$(chain_table "$c")" -F "$(chain_name "$c")" 2>/dev/null; ipt "$(chain_table "$c")" -X "$(chain_name "$c")" 2>/dev/null
    done
    # Each table this transaction touched back as it was (a router's IPv6 forwards alone
    # leave its iptables nat table untouched: restoring that would double its jumps).
    for t in nat mangle ip6-nat; do
      touched=
      # shellcheck disable=SC2013 # chain names: words
      for c in $(cat "$G/nat.loaded"); do [ "$(chain_table "$c")" != "$t" ] || touched=1; done
      if [ -n "$touched" ] && grep -q 'LVSCTL-' "$G/$t.before" 2>/dev/null; then
        { echo "*${t#ip6-}"; grep -E '^:LVSCTL-|^-A .*LVSCTL-' "$G/$t.before"; echo COMMIT; } | ipt_restore "$t" --noflush 2>/dev/null
      fi
    done
  fi
  if [ -f "$G/services" ]; then
    if grep -q '^ipvsadm ' "$G/services" && [ -f "$G/ipvs.before" ]; then
      ipvsadm-restore <"$G/ipvs.before" >>"$G/log" 2>&1
    fi
    before=$(cat "$G/keepalived.before")
    if grep -q '^keepalived ' "$G/services"; then
      if [ "$before" = stopped ]; then
        service_ctl keepalived stop </dev/null >>"$G/log" 2>&1
      elif ka_pid >/dev/null; then
        service_ctl keepalived reload </dev/null >>"$G/log" 2>&1
      else
        # It exited on the new configuration (or a restart stopped it): start it on the old.
        service_ctl keepalived start </dev/null >>"$G/log" 2>&1
      fi
    fi
  fi
  if [ -f "$G/drained" ]; then
    while read -r p v r f w; do
      ipvsadm -e "$p" "$v" -r "$r" "$f" -w "$w" >>"$G/log" 2>&1 || out warn "could not give $r of $v its weight $w back"
    done <"$G/drained"
  fi
  # The record step's files, as they were (kept as .before) or absent.
  if [ "$STEP" = record ]; then restore_state "$G"; fi
}

# Record: the manifest for the next plan, the list the probe reads, the generation number.
# Three renames: the files as they were are kept first, so a rollback of this step puts back
# all three (a manifest of the failed generation would make the next plan remove the wrong
# things).
finish_generation() { # manifest-json managed-files
  step record
  for f in $STATE_FILES; do
    if [ -f "$S/$f" ]; then cp -p "$S/$f" "$G/$f.before" || fail "cannot keep a copy of $f"; else : >"$G/$f.absent"; fi
  done
  { printf '%s\n' "$1" >"$S/manifest.json.new" && mv -f "$S/manifest.json.new" "$S/manifest.json"; } || fail "cannot write the manifest"
  { printf '%s' "$2" >"$S/managed-files.new" && mv -f "$S/managed-files.new" "$S/managed-files"; } || fail "cannot write the managed-files list"
  { echo "$N" >"$S/generation.new" && mv -f "$S/generation.new" "$S/generation"; } || fail "cannot write the generation number"
  echo applied >"$G/status"
  fsync "$S" "$S/manifest.json" "$S/managed-files" "$S/generation" "$G/status"
  unlock
  out 'done' "$N"
  rec end
}
