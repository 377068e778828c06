#!/bin/sh
# Managed by lvsctl (cluster web, host gw): what `lvsctl apply` sets at
# runtime, set again at boot by lvsctl's units (never run it by hand while an apply runs).
#   boot.sh early     lvsctl-boot.service: roll back an apply a power cut interrupted, then
#                     the VIPs on lo and tunl0 (after systemd-sysctl: ARP sysctls first)
#   boot.sh network   lvsctl-network.service: addresses on configured interfaces, routes
#   boot.sh nat       lvsctl-nat.service: the router's nat chains, a director's mark chain (--noflush)
# shellcheck shell=sh
# shellcheck disable=SC2317 # the phases are called by name ("$1")
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ROOT=
S=/var/lib/lvsctl
rc=0
try() { "$@" || { echo "lvsctl boot: failed: $*" >&2; rc=1; }; }

# lvsctl crash recovery: an apply cut short by a power loss (or a crash of the host) left its
# generation `applying` under a lock taken in an earlier boot. Its files go back to what the
# generation's backup holds (those it created are removed), with lvsctl's state files, so the
# host holds exactly the previous generation. Run at boot by lvsctl-boot.service (before
# anything reads the files) and by the next apply when it finds such a lock.
# Reads S (the state directory) and ROOT; the transaction uses its restore functions too. Prints one line per file restored or removed.
# shellcheck shell=sh

# lock_stale: the lock was taken in an earlier boot (its holder cannot be running): its boot
# id is another boot's, or, where a power cut came between taking the lock and writing its
# boot id, the lock directory was last changed before this boot began.
lock_stale() {
  lb=
  cb=
  if { read -r lb <"$S/lock/boot_id"; } 2>/dev/null && [ -n "$lb" ]; then
    { read -r cb <"$ROOT/proc/sys/kernel/random/boot_id"; } 2>/dev/null || return 1
    [ "$lb" != "$cb" ]
    return
  fi
  up=
  { read -r up _ <"$ROOT/proc/uptime"; } 2>/dev/null || return 1
  lm=$(stat -c %Y "$S/lock" 2>/dev/null) || return 1
  [ "$lm" -lt $(( $(date +%s) - ${up%.*} - 2 )) ]
}

# backup_mode G F: the mode host file F had when generation G backed it up.
backup_mode() { sed -n "s|^\([0-7]*\) $2\$|\1|p" "$1/modes" | head -n 1; }

# restore_backup G F: host file F back to generation G's backup, by an atomic rename of a copy
# next to it, with its mode as it was; no copy is left behind when that fails.
restore_backup() {
  rb_cand="$(dirname "$ROOT$2")/.lvsctl-new.$(basename "$2")"
  rb_mode=$(backup_mode "$1" "$2")
  cp -p "$1/backup$2" "$rb_cand" 2>/dev/null && chmod "${rb_mode:-600}" "$rb_cand" && mv -f "$rb_cand" "$ROOT$2" && return 0
  rm -f "$rb_cand"
  return 1
}

# lvsctl's state files: the manifest the next plan compares with, the list the probe reads,
# the generation number (written by the transaction's record step).
STATE_FILES='manifest.json managed-files generation'

# restore_state G: lvsctl's state files as they were before generation G's record step (kept
# as .before, or noted .absent); nothing when that step had not begun.
restore_state() {
  for rs_f in $STATE_FILES; do
    rm -f "$S/$rs_f.new"
    if [ -f "$1/$rs_f.before" ]; then mv -f "$1/$rs_f.before" "$S/$rs_f"; elif [ -f "$1/$rs_f.absent" ]; then rm -f "$S/$rs_f"; fi
  done
}

# recover_generation: roll back the files of the generation a stale lock was applying.
recover_generation() {
  rn=
  { read -r rn <"$S/lock/generation"; } 2>/dev/null || return 0
  rg="$S/generations/$rn"
  rs=
  { read -r rs <"$rg/status"; } 2>/dev/null
  [ "$rs" = applying ] || return 0
  for list in existed created; do
    while IFS= read -r f; do
      [ -n "$f" ] || continue
      rm -f "$(dirname "$ROOT$f")/.lvsctl-new.$(basename "$f")"
      if [ "$list" = created ]; then
        [ ! -e "$ROOT$f" ] || { rm -f "$ROOT$f" && echo "removed $f"; }
      elif ! cmp -s "$rg/backup$f" "$ROOT$f"; then
        restore_backup "$rg" "$f" && echo "restored $f"
      fi
    done <"$rg/$list"
  done
  restore_state "$rg"
  echo rolled-back >"$rg/status"
  echo "recovered generation $rn: rolled back after an interrupted apply (lock of an earlier boot)" >>"$rg/log"
  sync
  echo "generation $rn rolled back"
}

early() {
  if [ -d "$S/lock" ] && lock_stale; then
    restored=$(recover_generation)
    if [ -n "$restored" ]; then
      printf '%s\n' "$restored"
      # The files were read before this unit ran: load the restored ones.
      case $restored in *"/etc/sysctl.d/90-lvsctl.conf"*) try sysctl -q -p /etc/sysctl.d/90-lvsctl.conf ;; esac
    fi
  fi
  [ -d /sys/module/nf_conntrack ] || try modprobe nf_conntrack
  :
}

network() {
  :
}

nat() {
  # Unhooked first: --noflush keeps the old jumps, so a reload would add them twice. A chain
  # is TABLE:NAME outside the nat table (mangle:LVSCTL-FWMARK: a director's firewall marks;
  # ip6-nat:NAME: ip6tables' nat table, the router's IPv6 forwards).
  # shellcheck disable=SC2043 # a director has one chain
  for c in LVSCTL-PREROUTING LVSCTL-POSTROUTING; do
    case $c in *:*) t=${c%%:*} ;; *) t=nat ;; esac
    for parent in PREROUTING POSTROUTING OUTPUT INPUT; do
      while iptables -t "${t#ip6-}" -D "$parent" -j "${c#*:}" 2>/dev/null; do :; done
    done
  done
  try iptables-restore --noflush /etc/lvsctl/router-nat.rules
  :
}

case ${1-} in
  early|network|nat) "$1" ;;
  *) echo "usage: $0 early|network|nat" >&2; exit 2 ;;
esac
exit "$rc"
