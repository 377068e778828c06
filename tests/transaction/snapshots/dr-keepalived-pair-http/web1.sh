ROOT=''
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck disable=SC2034 # for the libraries that keep state
S="$ROOT"'/var/lib/lvsctl'
{
# (src/remote/sh/lib.sh, embedded whole)
HOLDER='lvsctl apply by snapshot@test pid 1'
BREAK_LOCK='0'
# (src/remote/sh/transaction.sh, embedded whole)
take_lock
step check
absent_file '/etc/sysconfig/network-scripts/ifcfg-lo:0'
absent_file '/etc/sysctl.d/90-lvsctl.conf'
same_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore' ''
same_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce' ''
same_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore' ''
same_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce' ''
check_done
begin_generation
backup '/etc/sysconfig/network-scripts/ifcfg-lo:0'
backup '/etc/sysctl.d/90-lvsctl.conf'
save_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore'
save_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce'
save_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore'
save_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce'
store_record 'eyJjbHVzdGVyIjoid2Vic2VydmljZSIsImhvc3QiOiJ3ZWIxIiwicm9sZXMiOlsicmVhbF9zZXJ2ZXIiXSwiZmlsZXMiOlt7InBhdGgiOiIvZXRjL3N5c2NvbmZpZy9uZXR3b3JrLXNjcmlwdHMvaWZjZmctbG86MCIsImtpbmQiOiJpZmNmZyIsImNvbnRlbnQiOiIjIE1hbmFnZWQgYnkgbHZzY3RsIChjbHVzdGVyIHdlYnNlcnZpY2UpOiBWSVAgb2YgYW4gTFZTLURSIHJlYWwgc2VydmVyIChuZXZlciBhbnN3ZXJzIEFSUCBmb3IgaXQpXG5ERVZJQ0U9bG86MFxuQk9PVFBST1RPPW5vbmVcbklQQUREUj0xMC43Ny4wLjEwMFxuTkVUTUFTSz0yNTUuMjU1LjI1NS4yNTVcbk9OQk9PVD15ZXNcbk5BTUU9bG9vcGJhY2tcbiIsIm1vZGUiOjQyMCwib3duZXIiOiJyb290IiwiZ3JvdXAiOiJyb290Iiwic2VjcmV0IjpmYWxzZX0seyJwYXRoIjoiL2V0Yy9zeXNjdGwuZC85MC1sdnNjdGwuY29uZiIsImtpbmQiOiJzeXNjdGwiLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWJzZXJ2aWNlLCBob3N0IHdlYjEsIHJlYWwgc2VydmVyKS5cbiMgTG9hZGVkIGF0IGJvb3QgYnkgc3lzdGVtZC1zeXNjdGwgLyBgc3lzY3RsIC0tc3lzdGVtYDsgbHZzY3RsIGFsc28gc2V0cyB0aGUgcnVudGltZSB2YWx1ZXMuXG4jIGFuc3dlciBBUlAgb25seSBmb3IgYWRkcmVzc2VzIG9mIHRoZSByZWNlaXZpbmcgaW50ZXJmYWNlIChuZXZlciB0aGUgVklQKVxubmV0LmlwdjQuY29uZi5hbGwuYXJwX2lnbm9yZSA9IDFcbiMgbmV2ZXIgYW5ub3VuY2UgdGhlIFZJUCBhcyBhbiBBUlAgc291cmNlXG5uZXQuaXB2NC5jb25mLmFsbC5hcnBfYW5ub3VuY2UgPSAyXG5uZXQuaXB2NC5jb25mLmxvLmFycF9pZ25vcmUgPSAxXG5uZXQuaXB2NC5jb25mLmxvLmFycF9hbm5vdW5jZSA9IDJcbiIsIm1vZGUiOjQyMCwib3duZXIiOiJyb290IiwiZ3JvdXAiOiJyb290Iiwic2VjcmV0IjpmYWxzZX1dLCJzeXNjdGxzIjpbeyJrZXkiOiJuZXQuaXB2NC5jb25mLmFsbC5hcnBfaWdub3JlIiwidmFsdWUiOiIxIn0seyJrZXkiOiJuZXQuaXB2NC5jb25mLmFsbC5hcnBfYW5ub3VuY2UiLCJ2YWx1ZSI6IjIifSx7ImtleSI6Im5ldC5pcHY0LmNvbmYubG8uYXJwX2lnbm9yZSIsInZhbHVlIjoiMSJ9LHsia2V5IjoibmV0LmlwdjQuY29uZi5sby5hcnBfYW5ub3VuY2UiLCJ2YWx1ZSI6IjIifV0sImFkZHJlc3NlcyI6W3siaXAiOiIxMC43Ny4wLjEwMCIsInByZWZpeCI6MzIsImRldiI6ImxvIiwibGFiZWwiOiJsbzowIn1dLCJyb3V0ZXMiOltdLCJuYXRfY2hhaW5zIjpbXSwic2VydmljZXMiOltdfQ=='
step write
candidate '/etc/sysconfig/network-scripts/ifcfg-lo:0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWJzZXJ2aWNlKTogVklQIG9mIGFuIExWUy1EUiByZWFsIHNlcnZlciAobmV2ZXIgYW5zd2VycyBBUlAgZm9yIGl0KQpERVZJQ0U9bG86MApCT09UUFJPVE89bm9uZQpJUEFERFI9MTAuNzcuMC4xMDAKTkVUTUFTSz0yNTUuMjU1LjI1NS4yNTUKT05CT09UPXllcwpOQU1FPWxvb3BiYWNrCg=='
candidate '/etc/sysctl.d/90-lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWJzZXJ2aWNlLCBob3N0IHdlYjEsIHJlYWwgc2VydmVyKS4KIyBMb2FkZWQgYXQgYm9vdCBieSBzeXN0ZW1kLXN5c2N0bCAvIGBzeXNjdGwgLS1zeXN0ZW1gOyBsdnNjdGwgYWxzbyBzZXRzIHRoZSBydW50aW1lIHZhbHVlcy4KIyBhbnN3ZXIgQVJQIG9ubHkgZm9yIGFkZHJlc3NlcyBvZiB0aGUgcmVjZWl2aW5nIGludGVyZmFjZSAobmV2ZXIgdGhlIFZJUCkKbmV0LmlwdjQuY29uZi5hbGwuYXJwX2lnbm9yZSA9IDEKIyBuZXZlciBhbm5vdW5jZSB0aGUgVklQIGFzIGFuIEFSUCBzb3VyY2UKbmV0LmlwdjQuY29uZi5hbGwuYXJwX2Fubm91bmNlID0gMgpuZXQuaXB2NC5jb25mLmxvLmFycF9pZ25vcmUgPSAxCm5ldC5pcHY0LmNvbmYubG8uYXJwX2Fubm91bmNlID0gMgo='
step validate
step install
install_candidate '/etc/sysconfig/network-scripts/ifcfg-lo:0'
install_candidate '/etc/sysctl.d/90-lvsctl.conf'
step activate
set_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore' '1'
set_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce' '2'
set_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore' '1'
set_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce' '2'
addr_add 10.77.0.100/32 'lo' 'lo:0'
step verify
verify_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore' '1'
verify_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce' '2'
verify_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore' '1'
verify_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce' '2'
verify_addr '10.77.0.100/32' 'lo'
finish_generation '{"cluster":"webservice","files":["/etc/sysconfig/network-scripts/ifcfg-lo:0","/etc/sysctl.d/90-lvsctl.conf"],"sysctls":["net.ipv4.conf.all.arp_ignore","net.ipv4.conf.all.arp_announce","net.ipv4.conf.lo.arp_ignore","net.ipv4.conf.lo.arp_announce"],"addresses":[{"ip":"10.77.0.100","prefix":32,"dev":"lo","label":"lo:0"}],"routes":[],"nat_chains":[]}' '/etc/sysconfig/network-scripts/ifcfg-lo:0
/etc/sysctl.d/90-lvsctl.conf
'
}
