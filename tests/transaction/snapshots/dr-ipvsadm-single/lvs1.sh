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
absent_file '/etc/sysconfig/ipvsadm'
absent_file '/etc/sysconfig/network-scripts/ifcfg-eth0:0'
absent_file '/etc/sysctl.d/90-lvsctl.conf'
same_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects' ''
same_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects' ''
same_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects' ''
check_done
begin_generation
backup '/etc/sysconfig/ipvsadm'
backup '/etc/sysconfig/network-scripts/ifcfg-eth0:0'
backup '/etc/sysctl.d/90-lvsctl.conf'
save_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects'
save_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects'
save_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects'
store_record 'eyJjbHVzdGVyIjoid2ViIiwiaG9zdCI6Imx2czEiLCJyb2xlcyI6WyJtYXN0ZXJfZGlyZWN0b3IiXSwiZmlsZXMiOlt7InBhdGgiOiIvZXRjL3N5c2NvbmZpZy9pcHZzYWRtIiwia2luZCI6ImlwdnNhZG1fcnVsZXMiLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIsIGhvc3QgbHZzMSkuXG4jIGlwdnNhZG0tc2F2ZSBmb3JtYXQ6IGxvYWQgd2l0aCBgaXB2c2FkbS1yZXN0b3JlIDwgL2V0Yy9zeXNjb25maWcvaXB2c2FkbWAuXG4tQSAtdCAxMC43Ny4wLjEwMDo4MCAtcyB3cnJcbi1hIC10IDEwLjc3LjAuMTAwOjgwIC1yIDEwLjc3LjAuMjE6ODAgLWcgLXcgMVxuLWEgLXQgMTAuNzcuMC4xMDA6ODAgLXIgMTAuNzcuMC4yMjo4MCAtZyAtdyAxXG4iLCJtb2RlIjozODQsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9LHsicGF0aCI6Ii9ldGMvc3lzY29uZmlnL25ldHdvcmstc2NyaXB0cy9pZmNmZy1ldGgwOjAiLCJraW5kIjoiaWZjZmciLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIpOiB2aXJ0dWFsIElQIG9mIHRoZSBMVlMgZGlyZWN0b3JcbkRFVklDRT1ldGgwOjBcbkJPT1RQUk9UTz1ub25lXG5JUEFERFI9MTAuNzcuMC4xMDBcbk5FVE1BU0s9MjU1LjI1NS4yNTUuMjU1XG5PTkJPT1Q9eWVzXG4iLCJtb2RlIjo0MjAsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9LHsicGF0aCI6Ii9ldGMvc3lzY3RsLmQvOTAtbHZzY3RsLmNvbmYiLCJraW5kIjoic3lzY3RsIiwiY29udGVudCI6IiMgTWFuYWdlZCBieSBsdnNjdGwgKGNsdXN0ZXIgd2ViLCBob3N0IGx2czEsIG1hc3RlciBkaXJlY3RvcikuXG4jIExvYWRlZCBhdCBib290IGJ5IHN5c3RlbWQtc3lzY3RsIC8gYHN5c2N0bCAtLXN5c3RlbWA7IGx2c2N0bCBhbHNvIHNldHMgdGhlIHJ1bnRpbWUgdmFsdWVzLlxuIyBkaXJlY3RvcnMgbXVzdCBub3Qgc2VuZCBJQ01QIHJlZGlyZWN0c1xubmV0LmlwdjQuY29uZi5hbGwuc2VuZF9yZWRpcmVjdHMgPSAwXG5uZXQuaXB2NC5jb25mLmRlZmF1bHQuc2VuZF9yZWRpcmVjdHMgPSAwXG5uZXQuaXB2NC5jb25mLmV0aDAuc2VuZF9yZWRpcmVjdHMgPSAwXG4iLCJtb2RlIjo0MjAsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9XSwic3lzY3RscyI6W3sia2V5IjoibmV0LmlwdjQuY29uZi5hbGwuc2VuZF9yZWRpcmVjdHMiLCJ2YWx1ZSI6IjAifSx7ImtleSI6Im5ldC5pcHY0LmNvbmYuZGVmYXVsdC5zZW5kX3JlZGlyZWN0cyIsInZhbHVlIjoiMCJ9LHsia2V5IjoibmV0LmlwdjQuY29uZi5ldGgwLnNlbmRfcmVkaXJlY3RzIiwidmFsdWUiOiIwIn1dLCJhZGRyZXNzZXMiOlt7ImlwIjoiMTAuNzcuMC4xMDAiLCJwcmVmaXgiOjMyLCJkZXYiOiJldGgwIiwibGFiZWwiOiJldGgwOjAifV0sInJvdXRlcyI6W10sIm5hdF9jaGFpbnMiOltdLCJzZXJ2aWNlcyI6W3sibmFtZSI6ImlwdnNhZG0iLCJyZWxvYWRfb24iOlsiL2V0Yy9zeXNjb25maWcvaXB2c2FkbSJdLCJydWxlc19maWxlIjoiL2V0Yy9zeXNjb25maWcvaXB2c2FkbSJ9XX0='
step write
candidate '/etc/sysconfig/ipvsadm' 600 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIsIGhvc3QgbHZzMSkuCiMgaXB2c2FkbS1zYXZlIGZvcm1hdDogbG9hZCB3aXRoIGBpcHZzYWRtLXJlc3RvcmUgPCAvZXRjL3N5c2NvbmZpZy9pcHZzYWRtYC4KLUEgLXQgMTAuNzcuMC4xMDA6ODAgLXMgd3JyCi1hIC10IDEwLjc3LjAuMTAwOjgwIC1yIDEwLjc3LjAuMjE6ODAgLWcgLXcgMQotYSAtdCAxMC43Ny4wLjEwMDo4MCAtciAxMC43Ny4wLjIyOjgwIC1nIC13IDEK'
candidate '/etc/sysconfig/network-scripts/ifcfg-eth0:0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIpOiB2aXJ0dWFsIElQIG9mIHRoZSBMVlMgZGlyZWN0b3IKREVWSUNFPWV0aDA6MApCT09UUFJPVE89bm9uZQpJUEFERFI9MTAuNzcuMC4xMDAKTkVUTUFTSz0yNTUuMjU1LjI1NS4yNTUKT05CT09UPXllcwo='
candidate '/etc/sysctl.d/90-lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciB3ZWIsIGhvc3QgbHZzMSwgbWFzdGVyIGRpcmVjdG9yKS4KIyBMb2FkZWQgYXQgYm9vdCBieSBzeXN0ZW1kLXN5c2N0bCAvIGBzeXNjdGwgLS1zeXN0ZW1gOyBsdnNjdGwgYWxzbyBzZXRzIHRoZSBydW50aW1lIHZhbHVlcy4KIyBkaXJlY3RvcnMgbXVzdCBub3Qgc2VuZCBJQ01QIHJlZGlyZWN0cwpuZXQuaXB2NC5jb25mLmFsbC5zZW5kX3JlZGlyZWN0cyA9IDAKbmV0LmlwdjQuY29uZi5kZWZhdWx0LnNlbmRfcmVkaXJlY3RzID0gMApuZXQuaXB2NC5jb25mLmV0aDAuc2VuZF9yZWRpcmVjdHMgPSAwCg=='
step validate
step install
install_candidate '/etc/sysconfig/ipvsadm'
install_candidate '/etc/sysconfig/network-scripts/ifcfg-eth0:0'
install_candidate '/etc/sysctl.d/90-lvsctl.conf'
step activate
set_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects' '0'
set_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects' '0'
set_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects' '0'
addr_add 10.77.0.100/32 'eth0' 'eth0:0'
service_do 'ipvsadm' start '/etc/sysconfig/ipvsadm'
step verify
verify_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects' '0'
verify_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects' '0'
verify_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects' '0'
verify_addr '10.77.0.100/32' 'eth0'
finish_generation '{"cluster":"web","files":["/etc/sysconfig/ipvsadm","/etc/sysconfig/network-scripts/ifcfg-eth0:0","/etc/sysctl.d/90-lvsctl.conf"],"sysctls":["net.ipv4.conf.all.send_redirects","net.ipv4.conf.default.send_redirects","net.ipv4.conf.eth0.send_redirects"],"addresses":[{"ip":"10.77.0.100","prefix":32,"dev":"eth0","label":"eth0:0"}],"routes":[],"nat_chains":[]}' '/etc/sysconfig/ipvsadm
/etc/sysconfig/network-scripts/ifcfg-eth0:0
/etc/sysctl.d/90-lvsctl.conf
'
}
