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
store_record 'eyJjbHVzdGVyIjoid2ViIiwiaG9zdCI6IndlYjEiLCJyb2xlcyI6WyJyZWFsX3NlcnZlciJdLCJmaWxlcyI6W3sicGF0aCI6Ii9ldGMvc3lzY29uZmlnL25ldHdvcmstc2NyaXB0cy9pZmNmZy1sbzowIiwia2luZCI6ImlmY2ZnIiwiY29udGVudCI6IiMgTWFuYWdlZCBieSBsdnNjdGwgKGNsdXN0ZXIgd2ViKTogVklQIG9mIGFuIExWUy1EUiByZWFsIHNlcnZlciAobmV2ZXIgYW5zd2VycyBBUlAgZm9yIGl0KVxuREVWSUNFPWxvOjBcbkJPT1RQUk9UTz1ub25lXG5JUEFERFI9MTAuNzcuMC4xMDBcbk5FVE1BU0s9MjU1LjI1NS4yNTUuMjU1XG5PTkJPT1Q9eWVzXG5OQU1FPWxvb3BiYWNrXG4iLCJtb2RlIjo0MjAsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9LHsicGF0aCI6Ii9ldGMvc3lzY3RsLmQvOTAtbHZzY3RsLmNvbmYiLCJraW5kIjoic3lzY3RsIiwiY29udGVudCI6IiMgTWFuYWdlZCBieSBsdnNjdGwgKGNsdXN0ZXIgd2ViLCBob3N0IHdlYjEsIHJlYWwgc2VydmVyKS5cbiMgTG9hZGVkIGF0IGJvb3QgYnkgc3lzdGVtZC1zeXNjdGwgLyBgc3lzY3RsIC0tc3lzdGVtYDsgbHZzY3RsIGFsc28gc2V0cyB0aGUgcnVudGltZSB2YWx1ZXMuXG4jIGFuc3dlciBBUlAgb25seSBmb3IgYWRkcmVzc2VzIG9mIHRoZSByZWNlaXZpbmcgaW50ZXJmYWNlIChuZXZlciB0aGUgVklQKVxubmV0LmlwdjQuY29uZi5hbGwuYXJwX2lnbm9yZSA9IDFcbiMgbmV2ZXIgYW5ub3VuY2UgdGhlIFZJUCBhcyBhbiBBUlAgc291cmNlXG5uZXQuaXB2NC5jb25mLmFsbC5hcnBfYW5ub3VuY2UgPSAyXG5uZXQuaXB2NC5jb25mLmxvLmFycF9pZ25vcmUgPSAxXG5uZXQuaXB2NC5jb25mLmxvLmFycF9hbm5vdW5jZSA9IDJcbiIsIm1vZGUiOjQyMCwib3duZXIiOiJyb290IiwiZ3JvdXAiOiJyb290Iiwic2VjcmV0IjpmYWxzZX1dLCJzeXNjdGxzIjpbeyJrZXkiOiJuZXQuaXB2NC5jb25mLmFsbC5hcnBfaWdub3JlIiwidmFsdWUiOiIxIn0seyJrZXkiOiJuZXQuaXB2NC5jb25mLmFsbC5hcnBfYW5ub3VuY2UiLCJ2YWx1ZSI6IjIifSx7ImtleSI6Im5ldC5pcHY0LmNvbmYubG8uYXJwX2lnbm9yZSIsInZhbHVlIjoiMSJ9LHsia2V5IjoibmV0LmlwdjQuY29uZi5sby5hcnBfYW5ub3VuY2UiLCJ2YWx1ZSI6IjIifV0sImFkZHJlc3NlcyI6W3siaXAiOiIxMC43Ny4wLjEwMCIsInByZWZpeCI6MzIsImRldiI6ImxvIiwibGFiZWwiOiJsbzowIn1dLCJyb3V0ZXMiOltdLCJuYXRfY2hhaW5zIjpbXSwic2VydmljZXMiOltdfQ=='
step write
candidate '/etc/sysconfig/network-scripts/ifcfg-lo:0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIpOiBWSVAgb2YgYW4gTFZTLURSIHJlYWwgc2VydmVyIChuZXZlciBhbnN3ZXJzIEFSUCBmb3IgaXQpCkRFVklDRT1sbzowCkJPT1RQUk9UTz1ub25lCklQQUREUj0xMC43Ny4wLjEwMApORVRNQVNLPTI1NS4yNTUuMjU1LjI1NQpPTkJPT1Q9eWVzCk5BTUU9bG9vcGJhY2sK'
candidate '/etc/sysctl.d/90-lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIsIGhvc3Qgd2ViMSwgcmVhbCBzZXJ2ZXIpLgojIExvYWRlZCBhdCBib290IGJ5IHN5c3RlbWQtc3lzY3RsIC8gYHN5c2N0bCAtLXN5c3RlbWA7IGx2c2N0bCBhbHNvIHNldHMgdGhlIHJ1bnRpbWUgdmFsdWVzLgojIGFuc3dlciBBUlAgb25seSBmb3IgYWRkcmVzc2VzIG9mIHRoZSByZWNlaXZpbmcgaW50ZXJmYWNlIChuZXZlciB0aGUgVklQKQpuZXQuaXB2NC5jb25mLmFsbC5hcnBfaWdub3JlID0gMQojIG5ldmVyIGFubm91bmNlIHRoZSBWSVAgYXMgYW4gQVJQIHNvdXJjZQpuZXQuaXB2NC5jb25mLmFsbC5hcnBfYW5ub3VuY2UgPSAyCm5ldC5pcHY0LmNvbmYubG8uYXJwX2lnbm9yZSA9IDEKbmV0LmlwdjQuY29uZi5sby5hcnBfYW5ub3VuY2UgPSAyCg=='
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
finish_generation '{"cluster":"web","files":["/etc/sysconfig/network-scripts/ifcfg-lo:0","/etc/sysctl.d/90-lvsctl.conf"],"sysctls":["net.ipv4.conf.all.arp_ignore","net.ipv4.conf.all.arp_announce","net.ipv4.conf.lo.arp_ignore","net.ipv4.conf.lo.arp_announce"],"addresses":[{"ip":"10.77.0.100","prefix":32,"dev":"lo","label":"lo:0"}],"routes":[],"nat_chains":[]}' '/etc/sysconfig/network-scripts/ifcfg-lo:0
/etc/sysctl.d/90-lvsctl.conf
'
}
