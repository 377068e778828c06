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
absent_file '/etc/sysconfig/network-scripts/ifcfg-eth1:0'
absent_file '/etc/sysctl.d/90-lvsctl.conf'
same_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects' ''
same_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects' ''
same_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects' ''
same_sysctl '/proc/sys/net/ipv4/conf/eth1/send_redirects' ''
same_sysctl '/proc/sys/net/ipv4/ip_forward' ''
check_done
begin_generation
backup '/etc/sysconfig/ipvsadm'
backup '/etc/sysconfig/network-scripts/ifcfg-eth0:0'
backup '/etc/sysconfig/network-scripts/ifcfg-eth1:0'
backup '/etc/sysctl.d/90-lvsctl.conf'
save_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects'
save_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects'
save_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects'
save_sysctl '/proc/sys/net/ipv4/conf/eth1/send_redirects'
save_sysctl '/proc/sys/net/ipv4/ip_forward'
store_record 'eyJjbHVzdGVyIjoibmF0IiwiaG9zdCI6Imx2czEiLCJyb2xlcyI6WyJtYXN0ZXJfZGlyZWN0b3IiXSwiZmlsZXMiOlt7InBhdGgiOiIvZXRjL3N5c2NvbmZpZy9pcHZzYWRtIiwia2luZCI6ImlwdnNhZG1fcnVsZXMiLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQsIGhvc3QgbHZzMSkuXG4jIGlwdnNhZG0tc2F2ZSBmb3JtYXQ6IGxvYWQgd2l0aCBgaXB2c2FkbS1yZXN0b3JlIDwgL2V0Yy9zeXNjb25maWcvaXB2c2FkbWAuXG4tQSAtdCAxMC43Ny4wLjEwMDo4MCAtcyByclxuLWEgLXQgMTAuNzcuMC4xMDA6ODAgLXIgMTAuNzcuMS4yMTo4MDgwIC1tIC13IDFcbi1hIC10IDEwLjc3LjAuMTAwOjgwIC1yIDEwLjc3LjEuMjI6ODA4MCAtbSAtdyAxXG4iLCJtb2RlIjozODQsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9LHsicGF0aCI6Ii9ldGMvc3lzY29uZmlnL25ldHdvcmstc2NyaXB0cy9pZmNmZy1ldGgwOjAiLCJraW5kIjoiaWZjZmciLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQpOiB2aXJ0dWFsIElQIG9mIHRoZSBMVlMgZGlyZWN0b3JcbkRFVklDRT1ldGgwOjBcbkJPT1RQUk9UTz1ub25lXG5JUEFERFI9MTAuNzcuMC4xMDBcbk5FVE1BU0s9MjU1LjI1NS4yNTUuMjU1XG5PTkJPT1Q9eWVzXG4iLCJtb2RlIjo0MjAsIm93bmVyIjoicm9vdCIsImdyb3VwIjoicm9vdCIsInNlY3JldCI6ZmFsc2V9LHsicGF0aCI6Ii9ldGMvc3lzY29uZmlnL25ldHdvcmstc2NyaXB0cy9pZmNmZy1ldGgxOjAiLCJraW5kIjoiaWZjZmciLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQpOiBnYXRld2F5IG9mIHRoZSBOQVQgcmVhbCBzZXJ2ZXJzXG5ERVZJQ0U9ZXRoMTowXG5CT09UUFJPVE89bm9uZVxuSVBBRERSPTEwLjc3LjEuMjU0XG5ORVRNQVNLPTI1NS4yNTUuMjU1LjBcbk9OQk9PVD15ZXNcbiIsIm1vZGUiOjQyMCwib3duZXIiOiJyb290IiwiZ3JvdXAiOiJyb290Iiwic2VjcmV0IjpmYWxzZX0seyJwYXRoIjoiL2V0Yy9zeXNjdGwuZC85MC1sdnNjdGwuY29uZiIsImtpbmQiOiJzeXNjdGwiLCJjb250ZW50IjoiIyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQsIGhvc3QgbHZzMSwgbWFzdGVyIGRpcmVjdG9yKS5cbiMgTG9hZGVkIGF0IGJvb3QgYnkgc3lzdGVtZC1zeXNjdGwgLyBgc3lzY3RsIC0tc3lzdGVtYDsgbHZzY3RsIGFsc28gc2V0cyB0aGUgcnVudGltZSB2YWx1ZXMuXG4jIGRpcmVjdG9ycyBtdXN0IG5vdCBzZW5kIElDTVAgcmVkaXJlY3RzXG5uZXQuaXB2NC5jb25mLmFsbC5zZW5kX3JlZGlyZWN0cyA9IDBcbm5ldC5pcHY0LmNvbmYuZGVmYXVsdC5zZW5kX3JlZGlyZWN0cyA9IDBcbm5ldC5pcHY0LmNvbmYuZXRoMC5zZW5kX3JlZGlyZWN0cyA9IDBcbm5ldC5pcHY0LmNvbmYuZXRoMS5zZW5kX3JlZGlyZWN0cyA9IDBcbiMgTkFUIGRpcmVjdG9ycyByb3V0ZSByZXBsaWVzIGJhY2sgdG8gY2xpZW50c1xubmV0LmlwdjQuaXBfZm9yd2FyZCA9IDFcbiIsIm1vZGUiOjQyMCwib3duZXIiOiJyb290IiwiZ3JvdXAiOiJyb290Iiwic2VjcmV0IjpmYWxzZX1dLCJzeXNjdGxzIjpbeyJrZXkiOiJuZXQuaXB2NC5jb25mLmFsbC5zZW5kX3JlZGlyZWN0cyIsInZhbHVlIjoiMCJ9LHsia2V5IjoibmV0LmlwdjQuY29uZi5kZWZhdWx0LnNlbmRfcmVkaXJlY3RzIiwidmFsdWUiOiIwIn0seyJrZXkiOiJuZXQuaXB2NC5jb25mLmV0aDAuc2VuZF9yZWRpcmVjdHMiLCJ2YWx1ZSI6IjAifSx7ImtleSI6Im5ldC5pcHY0LmNvbmYuZXRoMS5zZW5kX3JlZGlyZWN0cyIsInZhbHVlIjoiMCJ9LHsia2V5IjoibmV0LmlwdjQuaXBfZm9yd2FyZCIsInZhbHVlIjoiMSJ9XSwiYWRkcmVzc2VzIjpbeyJpcCI6IjEwLjc3LjAuMTAwIiwicHJlZml4IjozMiwiZGV2IjoiZXRoMCIsImxhYmVsIjoiZXRoMDowIn0seyJpcCI6IjEwLjc3LjEuMjU0IiwicHJlZml4IjoyNCwiZGV2IjoiZXRoMSIsImxhYmVsIjoiZXRoMTowIn1dLCJyb3V0ZXMiOltdLCJuYXRfY2hhaW5zIjpbXSwic2VydmljZXMiOlt7Im5hbWUiOiJpcHZzYWRtIiwicmVsb2FkX29uIjpbIi9ldGMvc3lzY29uZmlnL2lwdnNhZG0iXSwicnVsZXNfZmlsZSI6Ii9ldGMvc3lzY29uZmlnL2lwdnNhZG0ifV19'
step write
candidate '/etc/sysconfig/ipvsadm' 600 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQsIGhvc3QgbHZzMSkuCiMgaXB2c2FkbS1zYXZlIGZvcm1hdDogbG9hZCB3aXRoIGBpcHZzYWRtLXJlc3RvcmUgPCAvZXRjL3N5c2NvbmZpZy9pcHZzYWRtYC4KLUEgLXQgMTAuNzcuMC4xMDA6ODAgLXMgcnIKLWEgLXQgMTAuNzcuMC4xMDA6ODAgLXIgMTAuNzcuMS4yMTo4MDgwIC1tIC13IDEKLWEgLXQgMTAuNzcuMC4xMDA6ODAgLXIgMTAuNzcuMS4yMjo4MDgwIC1tIC13IDEK'
candidate '/etc/sysconfig/network-scripts/ifcfg-eth0:0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQpOiB2aXJ0dWFsIElQIG9mIHRoZSBMVlMgZGlyZWN0b3IKREVWSUNFPWV0aDA6MApCT09UUFJPVE89bm9uZQpJUEFERFI9MTAuNzcuMC4xMDAKTkVUTUFTSz0yNTUuMjU1LjI1NS4yNTUKT05CT09UPXllcwo='
candidate '/etc/sysconfig/network-scripts/ifcfg-eth1:0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQpOiBnYXRld2F5IG9mIHRoZSBOQVQgcmVhbCBzZXJ2ZXJzCkRFVklDRT1ldGgxOjAKQk9PVFBST1RPPW5vbmUKSVBBRERSPTEwLjc3LjEuMjU0Ck5FVE1BU0s9MjU1LjI1NS4yNTUuMApPTkJPT1Q9eWVzCg=='
candidate '/etc/sysctl.d/90-lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQsIGhvc3QgbHZzMSwgbWFzdGVyIGRpcmVjdG9yKS4KIyBMb2FkZWQgYXQgYm9vdCBieSBzeXN0ZW1kLXN5c2N0bCAvIGBzeXNjdGwgLS1zeXN0ZW1gOyBsdnNjdGwgYWxzbyBzZXRzIHRoZSBydW50aW1lIHZhbHVlcy4KIyBkaXJlY3RvcnMgbXVzdCBub3Qgc2VuZCBJQ01QIHJlZGlyZWN0cwpuZXQuaXB2NC5jb25mLmFsbC5zZW5kX3JlZGlyZWN0cyA9IDAKbmV0LmlwdjQuY29uZi5kZWZhdWx0LnNlbmRfcmVkaXJlY3RzID0gMApuZXQuaXB2NC5jb25mLmV0aDAuc2VuZF9yZWRpcmVjdHMgPSAwCm5ldC5pcHY0LmNvbmYuZXRoMS5zZW5kX3JlZGlyZWN0cyA9IDAKIyBOQVQgZGlyZWN0b3JzIHJvdXRlIHJlcGxpZXMgYmFjayB0byBjbGllbnRzCm5ldC5pcHY0LmlwX2ZvcndhcmQgPSAxCg=='
step validate
step install
install_candidate '/etc/sysconfig/ipvsadm'
install_candidate '/etc/sysconfig/network-scripts/ifcfg-eth0:0'
install_candidate '/etc/sysconfig/network-scripts/ifcfg-eth1:0'
install_candidate '/etc/sysctl.d/90-lvsctl.conf'
step activate
set_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects' '0'
set_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects' '0'
set_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects' '0'
set_sysctl '/proc/sys/net/ipv4/conf/eth1/send_redirects' '0'
set_sysctl '/proc/sys/net/ipv4/ip_forward' '1'
addr_add 10.77.0.100/32 'eth0' 'eth0:0'
addr_add 10.77.1.254/24 'eth1' 'eth1:0'
service_do 'ipvsadm' start '/etc/sysconfig/ipvsadm'
step verify
verify_sysctl '/proc/sys/net/ipv4/conf/all/send_redirects' '0'
verify_sysctl '/proc/sys/net/ipv4/conf/default/send_redirects' '0'
verify_sysctl '/proc/sys/net/ipv4/conf/eth0/send_redirects' '0'
verify_sysctl '/proc/sys/net/ipv4/conf/eth1/send_redirects' '0'
verify_sysctl '/proc/sys/net/ipv4/ip_forward' '1'
verify_addr '10.77.0.100/32' 'eth0'
verify_addr '10.77.1.254/24' 'eth1'
finish_generation '{"cluster":"nat","files":["/etc/sysconfig/ipvsadm","/etc/sysconfig/network-scripts/ifcfg-eth0:0","/etc/sysconfig/network-scripts/ifcfg-eth1:0","/etc/sysctl.d/90-lvsctl.conf"],"sysctls":["net.ipv4.conf.all.send_redirects","net.ipv4.conf.default.send_redirects","net.ipv4.conf.eth0.send_redirects","net.ipv4.conf.eth1.send_redirects","net.ipv4.ip_forward"],"addresses":[{"ip":"10.77.0.100","prefix":32,"dev":"eth0","label":"eth0:0"},{"ip":"10.77.1.254","prefix":24,"dev":"eth1","label":"eth1:0"}],"routes":[],"nat_chains":[]}' '/etc/sysconfig/ipvsadm
/etc/sysconfig/network-scripts/ifcfg-eth0:0
/etc/sysconfig/network-scripts/ifcfg-eth1:0
/etc/sysctl.d/90-lvsctl.conf
'
}
