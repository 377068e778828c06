# lvsctl facts probe, IPVS: a director's kernel table (src/probe/ipvs.rs calls and reads this).
# shellcheck shell=sh

# ipvs_table: the kernel's IPVS table, only where the kernel has IPVS (ipvsadm would modprobe
# it otherwise): `ipvsadm -Ln`, or /proc/net/ip_vs and the kernel's HZ when ipvsadm is missing
# or fails. /proc/net/ip_vs and /boot are under $ROOT so tests can fake a kernel.
ipvs_table() {
  if [ -r "$ROOT/proc/net/ip_vs" ]; then
    t=
    if command -v ipvsadm >/dev/null 2>&1; then
      t=$(ipvsadm -Ln 2>/dev/null) || { t=; rec ipvsadmfailed; }
    fi
    if [ -n "$t" ]; then
      rec ipvsadm
      printf '%s\n' "$t"
    else
      rec ipvsproc
      cat "$ROOT/proc/net/ip_vs"
      h=$(grep '^CONFIG_HZ=' "$ROOT/boot/config-$(uname -r)" 2>/dev/null)
      [ -z "$h" ] || rec ipvshz "${h#CONFIG_HZ=}"
    fi
  else
    rec noipvs
  fi
}
