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
absent_file '/etc/sysconfig/network-scripts/route-eth0'
absent_file '/etc/sysctl.d/90-lvsctl.conf'
check_done
begin_generation
backup '/etc/sysconfig/network-scripts/route-eth0'
backup '/etc/sysctl.d/90-lvsctl.conf'
store_record 'eyJjbHVzdGVyIjoibmF0IiwiaG9zdCI6IndlYjIiLCJyb2xlcyI6WyJyZWFsX3NlcnZlciJdLCJmaWxlcyI6W3sicGF0aCI6Ii9ldGMvc3lzY29uZmlnL25ldHdvcmstc2NyaXB0cy9yb3V0ZS1ldGgwIiwia2luZCI6InJvdXRlIiwiY29udGVudCI6IiMgTWFuYWdlZCBieSBsdnNjdGwgKGNsdXN0ZXIgbmF0KTogTkFUIHJlYWwgc2VydmVyLCByZXBsaWVzIGdvIGJhY2sgdGhyb3VnaCB0aGUgZGlyZWN0b3JzXG5kZWZhdWx0IHZpYSAxMC43Ny4xLjI1NCBkZXYgZXRoMFxuIiwibW9kZSI6NDIwLCJvd25lciI6InJvb3QiLCJncm91cCI6InJvb3QiLCJzZWNyZXQiOmZhbHNlfSx7InBhdGgiOiIvZXRjL3N5c2N0bC5kLzkwLWx2c2N0bC5jb25mIiwia2luZCI6InN5c2N0bCIsImNvbnRlbnQiOiIjIE1hbmFnZWQgYnkgbHZzY3RsIChjbHVzdGVyIG5hdCwgaG9zdCB3ZWIyLCByZWFsIHNlcnZlcikuXG4jIExvYWRlZCBhdCBib290IGJ5IHN5c3RlbWQtc3lzY3RsIC8gYHN5c2N0bCAtLXN5c3RlbWA7IGx2c2N0bCBhbHNvIHNldHMgdGhlIHJ1bnRpbWUgdmFsdWVzLlxuIiwibW9kZSI6NDIwLCJvd25lciI6InJvb3QiLCJncm91cCI6InJvb3QiLCJzZWNyZXQiOmZhbHNlfV0sInN5c2N0bHMiOltdLCJhZGRyZXNzZXMiOltdLCJyb3V0ZXMiOlt7ImRlc3RpbmF0aW9uIjoiZGVmYXVsdCIsInZpYSI6IjEwLjc3LjEuMjU0IiwiZGV2IjoiZXRoMCJ9XSwibmF0X2NoYWlucyI6W10sInNlcnZpY2VzIjpbXX0='
step write
candidate '/etc/sysconfig/network-scripts/route-eth0' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQpOiBOQVQgcmVhbCBzZXJ2ZXIsIHJlcGxpZXMgZ28gYmFjayB0aHJvdWdoIHRoZSBkaXJlY3RvcnMKZGVmYXVsdCB2aWEgMTAuNzcuMS4yNTQgZGV2IGV0aDAK'
candidate '/etc/sysctl.d/90-lvsctl.conf' 644 'root' 'root' 'IyBNYW5hZ2VkIGJ5IGx2c2N0bCAoY2x1c3RlciBuYXQsIGhvc3Qgd2ViMiwgcmVhbCBzZXJ2ZXIpLgojIExvYWRlZCBhdCBib290IGJ5IHN5c3RlbWQtc3lzY3RsIC8gYHN5c2N0bCAtLXN5c3RlbWA7IGx2c2N0bCBhbHNvIHNldHMgdGhlIHJ1bnRpbWUgdmFsdWVzLgo='
step validate
step install
install_candidate '/etc/sysconfig/network-scripts/route-eth0'
install_candidate '/etc/sysctl.d/90-lvsctl.conf'
step activate
route_replace 'default' 10.77.1.254 'eth0'
step verify
finish_generation '{"cluster":"nat","files":["/etc/sysconfig/network-scripts/route-eth0","/etc/sysctl.d/90-lvsctl.conf"],"sysctls":[],"addresses":[],"routes":[{"destination":"default","via":"10.77.1.254","dev":"eth0"}],"nat_chains":[]}' '/etc/sysconfig/network-scripts/route-eth0
/etc/sysctl.d/90-lvsctl.conf
'
}
