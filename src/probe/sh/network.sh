# lvsctl facts probe, network: addresses, default routes and lvsctl's nat and mangle rules
# (src/probe/network.rs calls and reads this).
# shellcheck shell=sh

# lines_as KIND: every line of stdin as a KIND record.
lines_as() {
  while IFS= read -r l || [ -n "$l" ]; do rec "$1" "$l"; done
}

# network: IPv4 and IPv6 addresses of the devices that are up (a VIP on a down device receives
# nothing), the default routes, and the lines of the nat table that mention LVSCTL (when
# iptables-save fails, a line saying so, which lvsctl reads as "chains unknown").
network() {
  if command -v ip >/dev/null 2>&1; then
    ip -o addr show up 2>/dev/null | lines_as addr
    ip -4 route show default 2>/dev/null | lines_as route
  fi
  if command -v iptables-save >/dev/null 2>&1; then
    { iptables-save -t nat 2>/dev/null || echo 'LVSCTL-PROBE iptables-save failed'; } | grep -F LVSCTL | lines_as nat
    # The mangle table (a director's firewall marks, plan/fwmark.rs), where it exists: legacy
    # iptables would load iptable_mangle into a kernel that never used it, just to list it.
    nw_mangle=1
    case $(iptables-save -V 2>/dev/null) in
      *legacy*) if ! grep -qx mangle /proc/net/ip_tables_names 2>/dev/null; then nw_mangle=; fi ;;
    esac
    if [ -n "$nw_mangle" ]; then
      { iptables-save -t mangle 2>/dev/null || echo 'LVSCTL-PROBE iptables-save failed'; } | grep -F LVSCTL | lines_as mangle
    fi
  fi
  # ip6tables' nat table (the router's IPv6 forwards), where it exists, for the same reason.
  if command -v ip6tables-save >/dev/null 2>&1; then
    nw_nat6=1
    case $(ip6tables-save -V 2>/dev/null) in
      *legacy*) if ! grep -qx nat /proc/net/ip6_tables_names 2>/dev/null; then nw_nat6=; fi ;;
    esac
    if [ -n "$nw_nat6" ]; then
      { ip6tables-save -t nat 2>/dev/null || echo 'LVSCTL-PROBE ip6tables-save failed'; } | grep -F LVSCTL | lines_as nat6
    fi
  fi
}
