#!/bin/bash
# Writes the crafted probe outputs in tests/probe (director, director-proc, ipvsadm-engine,
# real-server-drift, alpine-busybox, router-iptables-legacy, bad-manifest) from the file contents in tests/probe/files, in the
# format src/probe/mod.rs documents. Not written here: lab-web1-fresh.out (recorded over ssh from
# the lab's web1) and overrides.out (its sysctl records are the script's real output against a
# tree of sysctl files; see README.md). Needs coreutils base64 and busybox.
set -euo pipefail
OUT=$(cd "$(dirname "$0")" && pwd)
F=$OUT/files
b64() { base64 -w0; echo; }           # coreutils style: one line
bb64() { busybox base64; }            # busybox style: wrapped at 76
file() { echo "@@lvsctl file $1 $2 $3 $4"; }

{
echo 'Last login: Sat Nov 21 08:12:01 2026 from 10.77.0.1'
echo '@@lvsctl probe 1'
file 640 root root /etc/keepalived/keepalived.conf; cat "$F/director-keepalived.conf" | b64; echo
file 644 root root /etc/sysctl.d/90-lvsctl.conf; cat "$F/director-sysctl.conf" | b64; echo
echo '@@lvsctl listed /etc/keepalived/keepalived.conf'
echo '@@lvsctl listed /etc/sysctl.d/90-lvsctl.conf'
echo '@@lvsctl manifest'; cat "$F/director-manifest.json" | b64; echo
cat <<'EOF'
@@lvsctl sysctl net.ipv4.conf.all.send_redirects 0
@@lvsctl sysctl net.ipv4.conf.default.send_redirects 0
@@lvsctl sysctl net.ipv4.conf.eth0.send_redirects 0
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.11/24 brd 10.77.0.255 scope global noprefixroute eth0\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.100/32 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl addr 3: eth1    inet 10.77.1.11/24 brd 10.77.1.255 scope global noprefixroute eth1\       valid_lft forever preferred_lft forever
@@lvsctl route default via 10.77.0.2 dev eth0 proto static metric 100 
@@lvsctl keepalived installed
@@lvsctl keepalived version Keepalived v2.2.8 (04/04,2023), git commit v2.2.7-154-g292b299e+
@@lvsctl proc 1402 1 keepalived
@@lvsctl proc 1403 1402 keepalived
@@lvsctl proc 1404 1402 keepalived
@@lvsctl pidfile 1402
EOF
# The MASTER's IPVS table: web2 removed by its health check (ipvsadm 1.31's printf formats).
echo '@@lvsctl ipvsadm'
printf 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n'
printf '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
printf '%-4s %s %s persistent %u\n' TCP 10.77.0.100:80 wlc 60
printf '  -> %-28s %-7s %-6d %-10u %-10u\n' 10.77.0.21:80 Route 1 4 17
cat <<'EOF'
@@lvsctl os ID="rocky"
@@lvsctl os ID_LIKE="rhel centos fedora"
@@lvsctl sysctlfile /etc/sysctl.d/99-sysctl.conf
@@lvsctl sysctllink ../sysctl.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/10-default-yama-scope.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/50-coredump.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/50-default.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/50-libkcapi-optmem_max.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/50-pid-max.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/50-redhat.conf
@@lvsctl sysctlfile /etc/sysctl.conf
@@lvsctl end
EOF
} > "$OUT/director.out"

{
echo '@@lvsctl probe 1'
file 644 root root /etc/sysconfig/network-scripts/ifcfg-lo:0; cat "$F/rs-ifcfg-lo0" | b64; echo
file 644 root root /etc/sysctl.d/90-lvsctl.conf; cat "$F/rs-sysctl.conf" | b64; echo
echo '@@lvsctl listed /etc/sysconfig/network-scripts/ifcfg-lo:0'
echo '@@lvsctl listed /etc/sysctl.d/90-lvsctl.conf'
echo '@@lvsctl manifest'; cat "$F/rs-manifest.json" | b64; echo
cat <<'EOF'
@@lvsctl sysctl net.ipv4.conf.all.arp_ignore 0
@@lvsctl sysctl net.ipv4.conf.all.arp_announce 2
@@lvsctl sysctl net.ipv4.conf.lo.arp_ignore 1
@@lvsctl sysctl net.ipv4.conf.lo.arp_announce 2
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 1: lo    inet 10.77.0.100/32 scope global lo:0\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.21/24 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl route default via 10.77.0.2 dev eth0 
@@lvsctl os ID=debian
@@lvsctl sysctlfile /etc/sysctl.d/99-sysctl.conf
@@lvsctl sysctllink ../sysctl.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/50-pid-max.conf
@@lvsctl sysctlfile /usr/lib/sysctl.d/99-protect-links.conf
@@lvsctl sysctlfile /lib/sysctl.d/50-pid-max.conf
@@lvsctl sysctlfile /lib/sysctl.d/99-protect-links.conf
@@lvsctl sysctlfile /etc/sysctl.conf
@@lvsctl end
EOF
} > "$OUT/real-server-drift.out"

# Alpine: busybox base64 wraps at 76 columns; no keepalived; a multi-line file.
{
echo '@@lvsctl probe 1'
echo '@@lvsctl missing iptables-save'
file 644 root root /etc/sysconfig/network-scripts/ifcfg-lo:0; cat "$F/rs-ifcfg-lo0" | bb64; echo
file 600 root root /etc/sysctl.d/90-lvsctl.conf; cat "$F/rs-sysctl.conf" | bb64; echo
cat <<'EOF'
@@lvsctl nolist
@@lvsctl nomanifest
@@lvsctl sysctl net.ipv4.conf.all.arp_ignore 1
@@lvsctl sysctl net.ipv4.conf.all.arp_announce 2
@@lvsctl sysctl net.ipv4.conf.lo.arp_ignore 1
@@lvsctl sysctl net.ipv4.conf.lo.arp_announce 2
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 1: lo    inet 10.77.0.100/32 scope global lo:0\       valid_lft forever preferred_lft forever
@@lvsctl addr 5: eth0@if6    inet 10.77.0.22/24 brd 10.77.0.255 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl route default via 10.77.0.2 dev eth0  metric 202 
@@lvsctl os ID=alpine
@@lvsctl end
EOF
} > "$OUT/alpine-busybox.out"

# The router: iptables-save with nft and legacy tables both in use.
{
echo '@@lvsctl probe 1'
file 640 root root /etc/lvsctl/router-nat.rules; cat "$F/router-nat.rules" | b64; echo
file 644 root root /etc/sysctl.d/90-lvsctl.conf; cat "$F/router-sysctl.conf" | b64; echo
cat <<'EOF'
@@lvsctl listed /etc/lvsctl/router-nat.rules
@@lvsctl listed /etc/sysctl.d/90-lvsctl.conf
@@lvsctl nomanifest
@@lvsctl sysctl net.ipv4.ip_forward 1
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.2/24 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl addr 3: eth1    inet 10.77.9.2/24 scope global eth1\       valid_lft forever preferred_lft forever
@@lvsctl nat # Warning: iptables-legacy tables present, use iptables-legacy-save to see them
@@lvsctl nat :LVSCTL-PREROUTING - [0:0]
@@lvsctl nat :LVSCTL-POSTROUTING - [0:0]
@@lvsctl nat -A PREROUTING -j LVSCTL-PREROUTING
@@lvsctl nat -A POSTROUTING -j LVSCTL-POSTROUTING
@@lvsctl nat -A LVSCTL-PREROUTING -d 10.77.9.2/32 -p tcp -m tcp --dport 80 -m comment --comment lvsctl:http -j DNAT --to-destination 10.77.0.100:80
@@lvsctl nat -A LVSCTL-POSTROUTING -s 10.77.0.0/24 -p tcp -m tcp --sport 80 -m comment --comment lvsctl:http -j SNAT --to-source 10.77.9.2
@@lvsctl nat # Warning: iptables-legacy tables present, use iptables-legacy-save to see them
@@lvsctl os ID=debian
@@lvsctl sysctlfile /etc/sysctl.d/99-sysctl.conf
@@lvsctl sysctllink ../sysctl.conf
@@lvsctl sysctlfile /etc/sysctl.conf
@@lvsctl sysctlline /etc/sysctl.d/99-sysctl.conf:#net.ipv4.ip_forward=1
@@lvsctl sysctlline /etc/sysctl.conf:#net.ipv4.ip_forward=1
@@lvsctl end
EOF
} > "$OUT/router-iptables-legacy.out"

# A manifest that is not JSON any more (hand-edited, or a disk that filled up mid-write).
{
echo '@@lvsctl probe 1'
cat <<'EOF'
@@lvsctl nofile /etc/sysconfig/network-scripts/ifcfg-lo:0
@@lvsctl nofile /etc/sysctl.d/90-lvsctl.conf
@@lvsctl nolist
@@lvsctl manifest
EOF
printf '{"cluster":"web","generation":3,"files":["/etc/sysconfig/net' | b64; echo
cat <<'EOF'
@@lvsctl sysctl net.ipv4.conf.all.arp_ignore 0
@@lvsctl sysctl net.ipv4.conf.all.arp_announce 0
@@lvsctl sysctl net.ipv4.conf.lo.arp_ignore 0
@@lvsctl sysctl net.ipv4.conf.lo.arp_announce 0
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.21/24 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl route default via 10.77.0.2 dev eth0 
@@lvsctl os ID=debian
@@lvsctl end
EOF
} > "$OUT/bad-manifest.out"

# A keepalived BACKUP without ipvsadm: its IPVS table from /proc/net/ip_vs (hex, persistence
# in ticks; the kernel's printf formats), with the HZ of its kernel config.
{
echo '@@lvsctl probe 1'
file 640 root root /etc/keepalived/keepalived.conf; cat "$F/director-keepalived.conf" | b64; echo
file 644 root root /etc/sysctl.d/90-lvsctl.conf; cat "$F/director-sysctl.conf" | b64; echo
cat <<'EOF'
@@lvsctl nolist
@@lvsctl nomanifest
@@lvsctl sysctl net.ipv4.conf.all.send_redirects 0
@@lvsctl sysctl net.ipv4.conf.default.send_redirects 0
@@lvsctl sysctl net.ipv4.conf.eth0.send_redirects 0
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.12/24 brd 10.77.0.255 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl route default via 10.77.0.2 dev eth0 
@@lvsctl keepalived installed
@@lvsctl keepalived version Keepalived v2.2.7 (01/16,2022)
@@lvsctl proc 733 1 keepalived
@@lvsctl proc 734 733 keepalived
@@lvsctl proc 735 733 keepalived
@@lvsctl pidfile 733
@@lvsctl ipvsproc
EOF
printf 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n'
printf '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n'
printf '%s  %08X:%04X %s %s ' TCP $((0x0A4D0064)) 80 wlc ''; printf 'persistent %d %08X\n' 60000 $((0xFFFFFFFF))
printf '  -> %08X:%04X      %-7s %-6d %-10d %-10d\n' $((0x0A4D0016)) 80 Route 1 0 0
printf '  -> %08X:%04X      %-7s %-6d %-10d %-10d\n' $((0x0A4D0015)) 80 Route 1 0 0
cat <<'EOF'
@@lvsctl ipvshz 1000
@@lvsctl os ID=debian
@@lvsctl end
EOF
} > "$OUT/director-proc.out"

# The ipvsadm engine's one director: someone ran `ipvsadm -E -t 10.77.0.100:80 -s rr` and
# added a real server by hand; the rules file is absent (lvsctl never applied here).
{
echo '@@lvsctl probe 1'
cat <<'EOF'
@@lvsctl nofile /etc/sysconfig/ipvsadm
@@lvsctl nofile /etc/sysconfig/network-scripts/ifcfg-eth0:0
@@lvsctl nofile /etc/sysctl.d/90-lvsctl.conf
@@lvsctl nolist
@@lvsctl nomanifest
@@lvsctl sysctl net.ipv4.conf.all.send_redirects 1
@@lvsctl sysctl net.ipv4.conf.default.send_redirects 1
@@lvsctl sysctl net.ipv4.conf.eth0.send_redirects 1
@@lvsctl addr 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.11/24 brd 10.77.0.255 scope global eth0\       valid_lft forever preferred_lft forever
@@lvsctl addr 2: eth0    inet 10.77.0.100/32 scope global eth0:0\       valid_lft forever preferred_lft forever
@@lvsctl ipvsadm
EOF
printf 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n'
printf '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n'
printf '%-4s %s %s\n' TCP 10.77.0.100:80 rr
printf '  -> %-28s %-7s %-6d %-10u %-10u\n' 10.77.0.21:80 Route 1 0 0
printf '  -> %-28s %-7s %-6d %-10u %-10u\n' 10.77.0.22:80 Route 1 0 0
printf '  -> %-28s %-7s %-6d %-10u %-10u\n' 10.77.0.29:80 Route 1 0 0
cat <<'EOF'
@@lvsctl os ID=debian
@@lvsctl end
EOF
} > "$OUT/ipvsadm-engine.out"
