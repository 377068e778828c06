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
absent_file '/etc/modules-load.d/lvsctl.conf'
absent_file '/etc/sysconfig/network-scripts/ifcfg-tunl0'
absent_file '/etc/sysctl.d/90-lvsctl.conf'
same_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore' ''
same_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce' ''
same_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore' ''
same_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce' ''
same_sysctl '/proc/sys/net/ipv4/conf/all/rp_filter' ''
same_sysctl '/proc/sys/net/ipv4/conf/tunl0/rp_filter' ''
check_done
begin_generation
backup '/etc/modules-load.d/lvsctl.conf'
backup '/etc/sysconfig/network-scripts/ifcfg-tunl0'
backup '/etc/sysctl.d/90-lvsctl.conf'
save_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore'
save_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce'
save_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore'
save_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce'
save_sysctl '/proc/sys/net/ipv4/conf/all/rp_filter'
save_sysctl '/proc/sys/net/ipv4/conf/tunl0/rp_filter'
store_record 'eyJjbHVzdGVyIjoidHVuIiwiaG9zdCI6IndlYjIiLCJyb2xlcyI6WyJyZWFsX3NlcnZlciJdLCJmaWxlcyI6W3sicGF0aCI6Ii9ldGMvbW9kdWxlcy1sb2FkLmQvbHZzY3RsLmNvbmYiLCJraW5kIjoibW9kdWxlc19sb2FkIiwiY29udGVudCI6IiMgTWFuYWdlZCBieSBsdnNjdGwgKGNsdXN0ZXIgdHVuKTogTFZTLVRVTiBuZWVkcyBJUElQXG5pcGlwXG4iLCJtb2RlIjo0MjAsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9LHsicGF0aCI6Ii9ldGMvc3lzY29uZmlnL25ldHdvcmstc2NyaXB0cy9pZmNmZy10dW5sMCIsImtpbmQiOiJpZmNmZyIsImNvbnRlbnQiOiIjIE1hbmFnZWQgYnkgbHZzY3RsIChjbHVzdGVyIHR1bik6IFZJUHMgb2YgYW4gTFZTLVRVTiByZWFsIHNlcnZlclxuREVWSUNFPXR1bmwwXG5UWVBFPUlQSVBcbkJPT1RQUk9UTz1ub25lXG5JUEFERFI9MTAuNzcuMC41M1xuTkVUTUFTSz0yNTUuMjU1LjI1NS4yNTVcbk9OQk9PVD15ZXNcbiIsIm1vZGUiOjQyMCwib3duZXIiOiJyb290IiwiZ3JvdXAiOiJyb290Iiwic2VjcmV0IjpmYWxzZX0seyJwYXRoIjoiL2V0Yy9zeXNjdGwuZC85MC1sdnNjdGwuY29uZiIsImtpbmQiOiJzeXNjdGwiLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB0dW4sIGhvc3Qgd2ViMiwgcmVhbCBzZXJ2ZXIpLlxuIyBMb2FkZWQgYXQgYm9vdCBieSBzeXN0ZW1kLXN5c2N0bCAvIGBzeXNjdGwgLS1zeXN0ZW1gOyBsdnNjdGwgYWxzbyBzZXRzIHRoZSBydW50aW1lIHZhbHVlcy5cbiMgYW5zd2VyIEFSUCBvbmx5IGZvciBhZGRyZXNzZXMgb2YgdGhlIHJlY2VpdmluZyBpbnRlcmZhY2UgKG5ldmVyIHRoZSBWSVApXG5uZXQuaXB2NC5jb25mLmFsbC5hcnBfaWdub3JlID0gMVxuIyBuZXZlciBhbm5vdW5jZSB0aGUgVklQIGFzIGFuIEFSUCBzb3VyY2Vcbm5ldC5pcHY0LmNvbmYuYWxsLmFycF9hbm5vdW5jZSA9IDJcbm5ldC5pcHY0LmNvbmYubG8uYXJwX2lnbm9yZSA9IDFcbm5ldC5pcHY0LmNvbmYubG8uYXJwX2Fubm91bmNlID0gMlxuIyBhY2NlcHQgZGVjYXBzdWxhdGVkIHBhY2tldHMgYWRkcmVzc2VkIHRvIHRoZSBWSVBcbm5ldC5pcHY0LmNvbmYuYWxsLnJwX2ZpbHRlciA9IDBcbm5ldC5pcHY0LmNvbmYudHVubDAucnBfZmlsdGVyID0gMFxuIiwibW9kZSI6NDIwLCJvd25lciI6InJvb3QiLCJncm91cCI6InJvb3QiLCJzZWNyZXQiOmZhbHNlfV0sInN5c2N0bHMiOlt7ImtleSI6Im5ldC5pcHY0LmNvbmYuYWxsLmFycF9pZ25vcmUiLCJ2YWx1ZSI6IjEifSx7ImtleSI6Im5ldC5pcHY0LmNvbmYuYWxsLmFycF9hbm5vdW5jZSIsInZhbHVlIjoiMiJ9LHsia2V5IjoibmV0LmlwdjQuY29uZi5sby5hcnBfaWdub3JlIiwidmFsdWUiOiIxIn0seyJrZXkiOiJuZXQuaXB2NC5jb25mLmxvLmFycF9hbm5vdW5jZSIsInZhbHVlIjoiMiJ9LHsia2V5IjoibmV0LmlwdjQuY29uZi5hbGwucnBfZmlsdGVyIiwidmFsdWUiOiIwIn0seyJrZXkiOiJuZXQuaXB2NC5jb25mLnR1bmwwLnJwX2ZpbHRlciIsInZhbHVlIjoiMCJ9XSwiYWRkcmVzc2VzIjpbeyJpcCI6IjEwLjc3LjAuNTMiLCJwcmVmaXgiOjMyLCJkZXYiOiJ0dW5sMCIsImxhYmVsIjpudWxsfV0sInJvdXRlcyI6W10sIm5hdF9jaGFpbnMiOltdLCJzZXJ2aWNlcyI6W10sImtlcm5lbF9tb2R1bGVzIjpbImlwaXAiXX0='
step write
candidate '/etc/modules-load.d/lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB0dW4pOiBMVlMtVFVOIG5lZWRzIElQSVAKaXBpcAo='
candidate '/etc/sysconfig/network-scripts/ifcfg-tunl0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB0dW4pOiBWSVBzIG9mIGFuIExWUy1UVU4gcmVhbCBzZXJ2ZXIKREVWSUNFPXR1bmwwClRZUEU9SVBJUApCT09UUFJPVE89bm9uZQpJUEFERFI9MTAuNzcuMC41MwpORVRNQVNLPTI1NS4yNTUuMjU1LjI1NQpPTkJPT1Q9eWVzCg=='
candidate '/etc/sysctl.d/90-lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB0dW4sIGhvc3Qgd2ViMiwgcmVhbCBzZXJ2ZXIpLgojIExvYWRlZCBhdCBib290IGJ5IHN5c3RlbWQtc3lzY3RsIC8gYHN5c2N0bCAtLXN5c3RlbWA7IGx2c2N0bCBhbHNvIHNldHMgdGhlIHJ1bnRpbWUgdmFsdWVzLgojIGFuc3dlciBBUlAgb25seSBmb3IgYWRkcmVzc2VzIG9mIHRoZSByZWNlaXZpbmcgaW50ZXJmYWNlIChuZXZlciB0aGUgVklQKQpuZXQuaXB2NC5jb25mLmFsbC5hcnBfaWdub3JlID0gMQojIG5ldmVyIGFubm91bmNlIHRoZSBWSVAgYXMgYW4gQVJQIHNvdXJjZQpuZXQuaXB2NC5jb25mLmFsbC5hcnBfYW5ub3VuY2UgPSAyCm5ldC5pcHY0LmNvbmYubG8uYXJwX2lnbm9yZSA9IDEKbmV0LmlwdjQuY29uZi5sby5hcnBfYW5ub3VuY2UgPSAyCiMgYWNjZXB0IGRlY2Fwc3VsYXRlZCBwYWNrZXRzIGFkZHJlc3NlZCB0byB0aGUgVklQCm5ldC5pcHY0LmNvbmYuYWxsLnJwX2ZpbHRlciA9IDAKbmV0LmlwdjQuY29uZi50dW5sMC5ycF9maWx0ZXIgPSAwCg=='
step validate
step install
install_candidate '/etc/modules-load.d/lvsctl.conf'
install_candidate '/etc/sysconfig/network-scripts/ifcfg-tunl0'
install_candidate '/etc/sysctl.d/90-lvsctl.conf'
step activate
load_module 'ipip'
set_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore' '1'
set_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce' '2'
set_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore' '1'
set_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce' '2'
set_sysctl '/proc/sys/net/ipv4/conf/all/rp_filter' '0'
set_sysctl '/proc/sys/net/ipv4/conf/tunl0/rp_filter' '0'
addr_add 10.77.0.53/32 'tunl0'
step verify
verify_sysctl '/proc/sys/net/ipv4/conf/all/arp_ignore' '1'
verify_sysctl '/proc/sys/net/ipv4/conf/all/arp_announce' '2'
verify_sysctl '/proc/sys/net/ipv4/conf/lo/arp_ignore' '1'
verify_sysctl '/proc/sys/net/ipv4/conf/lo/arp_announce' '2'
verify_sysctl '/proc/sys/net/ipv4/conf/all/rp_filter' '0'
verify_sysctl '/proc/sys/net/ipv4/conf/tunl0/rp_filter' '0'
verify_addr '10.77.0.53/32' 'tunl0'
finish_generation '{"cluster":"tun","files":["/etc/modules-load.d/lvsctl.conf","/etc/sysconfig/network-scripts/ifcfg-tunl0","/etc/sysctl.d/90-lvsctl.conf"],"sysctls":["net.ipv4.conf.all.arp_ignore","net.ipv4.conf.all.arp_announce","net.ipv4.conf.lo.arp_ignore","net.ipv4.conf.lo.arp_announce","net.ipv4.conf.all.rp_filter","net.ipv4.conf.tunl0.rp_filter"],"addresses":[{"ip":"10.77.0.53","prefix":32,"dev":"tunl0","label":null}],"routes":[],"nat_chains":[]}' '/etc/modules-load.d/lvsctl.conf
/etc/sysconfig/network-scripts/ifcfg-tunl0
/etc/sysctl.d/90-lvsctl.conf
'
}
