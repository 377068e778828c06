#!/bin/bash
# Writes one kernel IPVS state twice, as the two texts the probe reads it from, each printed
# with its program's own printf formats (so the spacing, padding and hex are theirs):
#   ipvsadm-Ln.txt      `ipvsadm -Ln`, ipvsadm 1.31 (ipvsadm.c: list_all, print_title,
#                       print_service_entry): sorted, decimal, persistence in seconds
#   proc-net-ip_vs.txt  /proc/net/ip_vs (net/netfilter/ipvs/ip_vs_ctl.c: ip_vs_info_seq_show):
#                       hash order (fwmark services last), hex, persistence in ticks (HZ=250)
# The state: the lab's DR service (one idle and one busy real server), a NAT service (a
# drained real server), a TUN service, a persistent service with a /24 granularity and no
# real server, an SCTP service, an IPv6 service and a firewall-mark service with ops.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
HZ=250
hexip() { local IFS=.; set -- $1; printf '%02X%02X%02X%02X' "$1" "$2" "$3" "$4"; }

# ipvsadm 1.31: "%-4s %s" proto addr:port, " %s" scheduler, " persistent %u", " mask %s",
# " ops"; real servers "  -> %-28s %-7s %-6d %-10u %-10u".
adm_svc() { printf '%-4s %s %s' "$1" "$2" "$3"; shift 3; if [ $# -gt 0 ]; then printf ' %s' "$@"; fi; printf '\n'; }
adm_rs() { printf '  -> %-28s %-7s %-6d %-10u %-10u\n' "$@"; }
{
echo 'IP Virtual Server version 1.2.1 (size=4096)'
printf 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
adm_svc TCP 10.77.0.100:80 wlc persistent 60
adm_rs 10.77.0.21:80 Route 1 0 0
adm_rs 10.77.0.22:80 Route 1 3 12
adm_svc TCP 10.77.0.101:8080 rr
adm_rs 10.77.1.21:8080 Masq 1 0 0
adm_rs 10.77.1.22:8080 Masq 0 0 0
adm_svc UDP 10.77.0.53:53 sh
adm_rs 10.77.0.21:53 Tunnel 1 0 0
adm_svc UDP 10.77.0.54:53 rr persistent 300 mask 255.255.255.0
adm_svc SCTP 10.77.0.100:2905 rr
adm_rs 10.77.0.21:2905 Route 2 0 0
adm_svc TCP '[2001:db8::100]:443' wrr
adm_rs '[2001:db8::21]:443' Route 5 1 1
printf 'FWM  %d %s' 1 rr; printf ' ops\n'
adm_rs 10.77.0.23:0 Route 1 0 0
} > "$OUT/ipvsadm-Ln.txt"

# The kernel: "%s  %08X:%04X %s %s " proto addr port scheduler ops, then
# "persistent %d %08X\n" (ticks, netmask) or "\n"; IPv6 "%s  [%pI6]:%04X %s "; fwmark
# "FWM  %08X %s %s"; real servers "  -> %08X:%04X      %-7s %-6d %-10d %-10d".
proc_svc() { # proto ip port scheduler ops [timeout-seconds netmask]
  printf '%s  %s:%04X %s %s ' "$1" "$(hexip "$2")" "$3" "$4" "$5"
  if [ $# -gt 5 ]; then printf 'persistent %d %s\n' $(($6 * HZ)) "$7"; else printf '\n'; fi
}
proc_rs() { printf '  -> %s:%04X      %-7s %-6d %-10d %-10d\n' "$(hexip "$1")" "$2" "$3" "$4" "$5" "$6"; }
{
echo 'IP Virtual Server version 1.2.1 (size=4096)'
printf 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n'
proc_svc UDP 10.77.0.53 53 sh ''
proc_rs 10.77.0.21 53 Tunnel 1 0 0
proc_svc TCP 10.77.0.101 8080 rr ''
proc_rs 10.77.1.22 8080 Masq 0 0 0
proc_rs 10.77.1.21 8080 Masq 1 0 0
printf '%s  [%s]:%04X %s \n' TCP 2001:0db8:0000:0000:0000:0000:0000:0100 443 wrr
printf '  -> [%s]:%04X      %-7s %-6d %-10d %-10d\n' 2001:0db8:0000:0000:0000:0000:0000:0021 443 Route 5 1 1
proc_svc TCP 10.77.0.100 80 wlc '' 60 FFFFFFFF
proc_rs 10.77.0.22 80 Route 1 3 12
proc_rs 10.77.0.21 80 Route 1 0 0
proc_svc SCTP 10.77.0.100 2905 rr ''
proc_rs 10.77.0.21 2905 Route 2 0 0
proc_svc UDP 10.77.0.54 53 rr '' 300 FFFFFF00
printf 'FWM  %08X %s %s\n' 1 rr 'ops '
proc_rs 10.77.0.23 0 Route 1 0 0
} > "$OUT/proc-net-ip_vs.txt"
