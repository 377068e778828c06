#!/usr/bin/env bash
# tests/vmlab/vmlab.sh -- a lab of virtual machines with real IPVS for lvsctl, on one Linux machine.
#
#   up [HOST...] | reset [HOST...]   the lab on fresh disks; with HOSTs only those VMs start
#   down | status | purge
#   reboot HOST     clean reboot (systemctl reboot in the VM), wait until it answers ssh again
#   crash HOST      power cut: kill the VM's processes at once (its disk keeps what was synced)
#   boot HOST       start a stopped or crashed VM again with its disk, wait for ssh
#   stop HOST       clean poweroff (ctrl-alt-del through UML's management console)
#   ssh HOST [CMD]  OpenSSH into a VM with the lab key (multiplexed)
#   run CMD...      a command on the runner's side of the lab (for slot 0, the runner itself)
#
# VMLAB_SLOT=N (0-9, default 0) picks one of several labs that run side by side (the suite runs
# two: tests/run.sh). Slot 0 is the lab described below. Slot N has namespaces vmlabN-sw and
# vmlabN-client, state in .vmlabN/, and its runner side (vmlab0, 10.77.0.1) in a namespace of
# its own, vmlabN-run, so the same addresses live in each lab: reach its VMs through
# `VMLAB_SLOT=N vmlab.sh ssh|run ...` (lvsctl too: `VMLAB_SLOT=1 vmlab.sh run lvsctl plan ...`).
#
# Why VMs: the runner's kernel has no IPVS, so the netns lab (tests/lab/lab.sh) runs keepalived
# VRRP-only and no virtual server is ever programmed. Here every host is a User-Mode Linux VM: a
# real Linux 6.1 kernel run as an ordinary process (Debian's user-mode-linux package, no KVM),
# with its own IPVS table, sysctls, ARP cache, process table, disk and systemd as PID 1, so
# keepalived runs in full mode (VRRP + IPVS + health checkers) and client traffic is balanced.
#
# Shape (same names, addresses, keys and host keys as the netns lab, so inventories/lab.yml and
# inventories/nat.yml work unchanged; the two labs are exclusive: `up` stops the other one):
#   network namespace vmlab-sw holds three bridges and every VM NIC (a veth pair: UML attaches to
#   one end with a raw socket, the other end is a bridge port); no VM device is in the root netns.
#     br0 LAN     10.77.0.0/24  runner vmlab0 = 10.77.0.1 (ssh, lvsctl; the director-segment client)
#                 fd77::/64     runner vmlab0 = fd77::1; each VM's eth0 fd77::<its last octet>
#                               (gw fd77::2, lvs1 fd77::11, lvs2 fd77::12, webI fd77::2I)
#     br1 inside  10.77.1.0/24  NAT real servers' side, directors' eth1 (no IPv6)
#     br9 public  10.77.9.0/24  the router's outside and the client
#                 fd77:9::/64   gw eth1 fd77:9::2, client fd77:9::100-107
#   Every IPv6 address is added nodad; no router advertisements, no IPv6 names in /etc/hosts.
#   gw    eth0 10.77.0.2  fd77::2   eth1 10.77.9.2 fd77:9::2   router (forwards IPv4 only: the
#                                   lab's gateway; IPv6 forwarding is off until lvsctl sets it)
#   lvs1  eth0 10.77.0.11 fd77::11  eth1 10.77.1.11  director, default via gw (both families)
#   lvs2  eth0 10.77.0.12 fd77::12  eth1 10.77.1.12  director, default via gw (both families)
#   webI  eth0 10.77.0.2I fd77::2I  eth1 10.77.1.2I  real server, default via gw (both families);
#                                           busybox httpd on 80, 8080 and 53/tcp (IPv4 and IPv6)
#                                           answering its host name, UDP echo on 53, DNS
#                                           (dnsmasq) on 5353/udp: www.example.com only
#   client: network namespace vmlab-client, eth0 10.77.9.100-107/24 and fd77:9::100-107/64 on
#   br9, default via gw (10.77.9.2, fd77:9::2): sends traffic from outside the cluster
#   (`ip netns exec vmlab-client ...`; IPVS does not balance requests from a director itself).
#   Real servers: VMLAB_REAL_SERVERS (default 2, max 9).
#
# Each VM: linux.uml, mem=VMLAB_MEM (256M), root = the runner's `/` read-only (hostfs) under an
# overlay whose upper is the VM's own sparse ext4 disk (.vmlab/vms/H/disk.img), so every tool
# installed on the runner (sshd, keepalived, ipvsadm, iptables, busybox, python3) is there
# without an image; guest/init.sh builds the overlay and execs systemd. A VM is a process group
# (setsid); its pid is checked against its umid before any kill.
#
# Files: .lab/ (shared with the netns lab: client key id_ed25519, hostkeys/H, known_hosts)
#        .vmlab/vms/H/{disk.img,seed/,console.log,pid}  .vmlab/uml/ (UML's umid dirs)
#        .vmlab/ssh/ (OpenSSH control sockets). `down` removes .vmlab/ entirely.
#
# Costs measured on the 2-core runner: 5 VMs from nothing to all answering ssh ~30 s; ~90 MiB RAM
# per VM; ~1 s per fresh ssh connection into a VM (key exchange and fork are slow under UML).
# Traps: see tests/vmlab/README.md.
set -Eeuo pipefail
trap 'printf "vmlab: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

export PATH=$PATH:/usr/sbin:/sbin
SELF=$(readlink -f "${BASH_SOURCE[0]}")
HERE=$(dirname "$SELF")
REPO=$(cd "$HERE/../.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/.lab}
SLOT=${VMLAB_SLOT:-0}
[[ $SLOT =~ ^[0-9]$ ]] || { echo "vmlab: error: VMLAB_SLOT must be 0..9 (got '$SLOT')" >&2; exit 1; }
if ((SLOT == 0)); then P=vmlab; RUN_NS=; else P=vmlab$SLOT; RUN_NS=$P-run; fi
VM_DIR=${VMLAB_DIR:-$REPO/.$P}
UML=${UML:-/usr/bin/linux.uml}
MEM=${VMLAB_MEM:-256M}
SW_NS=$P-sw
CLIENT_NS=$P-client
RUNNER_LINK=vmlab0
REAL_SERVERS=${VMLAB_REAL_SERVERS:-2}
BOOT_TIMEOUT=${VMLAB_BOOT_TIMEOUT:-120}
SSH_OPTS=(-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes
          -o UserKnownHostsFile="$LAB_DIR/known_hosts" -i "$LAB_DIR/id_ed25519"
          -o ConnectTimeout=5 -o LogLevel=ERROR -o ServerAliveInterval=5 -o ServerAliveCountMax=3
          -o ControlMaster=auto -o "ControlPath=$VM_DIR/ssh/%h" -o ControlPersist=120)

# The runner's side of the lab: the root namespace for slot 0, vmlabN-run for slot N.
on_runner() { if [[ -n $RUN_NS ]]; then ip netns exec "$RUN_NS" "$@"; else "$@"; fi; }
log() { printf 'vmlab: %s\n' "$*" >&2; }
die() { printf 'vmlab: error: %s\n' "$*" >&2; exit 1; }
now() { local t=${EPOCHREALTIME/[.,]/}; echo "${t:0:-3}"; }   # milliseconds

# ---------------------------------------------------------------- hosts
# HOSTS=(name ...); NICS[name]="bridge:cidr ..."; ROUTE[name]=default gateway or empty.
declare -a HOSTS=()
declare -A NICS=() ROUTE=()
plan_hosts() {
  [[ $REAL_SERVERS =~ ^[0-9]$ ]] || die "VMLAB_REAL_SERVERS must be 0..9 (got '$REAL_SERVERS')"
  HOSTS=(gw lvs1 lvs2)
  NICS=([gw]="br0:10.77.0.2/24 br9:10.77.9.2/24"
        [lvs1]="br0:10.77.0.11/24 br1:10.77.1.11/24"
        [lvs2]="br0:10.77.0.12/24 br1:10.77.1.12/24")
  ROUTE=([gw]="" [lvs1]=10.77.0.2 [lvs2]=10.77.0.2)
  local i
  for ((i = 1; i <= REAL_SERVERS; i++)); do
    HOSTS+=("web$i")
    NICS[web$i]="br0:10.77.0.$((20 + i))/24 br1:10.77.1.$((20 + i))/24"
    ROUTE[web$i]=10.77.0.2
  done
}
cidr_ip() { local n=${1#*:}; echo "${n%/*}"; }          # "br0:10.77.0.2/24" -> 10.77.0.2
host_ip() { cidr_ip "${NICS[$1]%% *}"; }
# A host's IPv6 address on br0: its br0 IPv4 address's last octet, same digits (10.77.0.21 ->
# fd77::21), so either address names the host at a glance.
host_ip6() { local ip; ip=$(host_ip "$1"); echo "fd77::${ip##*.}"; }
is_host() { local h; for h in "${HOSTS[@]}"; do [[ $h == "$1" ]] && return 0; done; return 1; }
# Hosts of the running lab (.vmlab/vms/*), else the configured ones.
load_hosts() {
  plan_hosts
  if [[ -d $VM_DIR/vms ]]; then
    local d extra=0
    for d in "$VM_DIR"/vms/web*; do [[ -d $d ]] && extra=$((extra + 1)); done
    REAL_SERVERS=$extra; plan_hosts
  fi
}
# Fixed MACs (derived from the address, as in the netns lab): ARP caches survive re-creation.
mac() { local IFS=. o; read -r -a o <<<"$2"; printf '02:1a:77:%02x:%02x:%02x\n' "$1" "${o[2]}" "${o[3]}"; }

# ---------------------------------------------------------------- preflight
preflight() {
  [[ $(uname -s) == Linux ]] || die "Linux only"
  (( EUID == 0 )) || die "must run as root (network namespaces, raw sockets for the VMs' NICs)"
  [[ -x $UML ]] || die "$UML missing: the VM lab needs User-Mode Linux; install it with: apt-get install -y user-mode-linux uml-utilities"
  local -A pkg=([uml_mconsole]=uml-utilities [mkfs.ext4]=e2fsprogs [nsenter]=util-linux
                [setsid]=util-linux [ssh]=openssh-client [ssh-keygen]=openssh-client
                [keepalived]=keepalived [ipvsadm]=ipvsadm [iptables-legacy]=iptables
                [busybox]=busybox [insmod]=kmod [sshd]=openssh-server [python3]=python3 [arping]=iputils-arping
                [dnsmasq]=dnsmasq-base [ndisc6]=ndisc6)
  local b missing=()
  for b in "${!pkg[@]}"; do command -v "$b" >/dev/null || missing+=("${pkg[$b]}"); done
  ((${#missing[@]} == 0)) \
    || die "missing commands (the VMs run the runner's own binaries); install them with: apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | xargs)"
  [[ -x /lib/systemd/systemd ]] || die "/lib/systemd/systemd missing: apt-get install -y systemd"
  [[ -x /usr/bin/python3 ]] || die "/usr/bin/python3 missing: apt-get install -y python3"
  local kver; kver=$(ls /usr/lib/uml/modules 2>/dev/null | head -n1)
  [[ -n $kver ]] || die "/usr/lib/uml/modules is empty: apt-get install --reinstall user-mode-linux"
}

# ---------------------------------------------------------------- network
net_up() {
  ip netns add "$SW_NS"
  ip -n "$SW_NS" link set lo up
  local br
  for br in br0 br1 br9; do
    ip -n "$SW_NS" link add "$br" type bridge stp_state 0 mcast_snooping 0
    ip -n "$SW_NS" link set "$br" up
  done
  # The runner's leg on the LAN (slot N: in a namespace of its own, see the top).
  local rip=(ip)
  if [[ -n $RUN_NS ]]; then
    ip netns add "$RUN_NS"
    rip=(ip -n "$RUN_NS")
    "${rip[@]}" link set lo up
  fi
  "${rip[@]}" link add "$RUNNER_LINK" address 02:1a:77:ff:00:01 type veth peer name p-runner netns "$SW_NS"
  ip -n "$SW_NS" link set p-runner master br0 up
  "${rip[@]}" addr add 10.77.0.1/24 dev "$RUNNER_LINK"
  # nodad: usable at once (duplicate address detection would hold it tentative for ~1 s).
  "${rip[@]}" addr add fd77::1/64 dev "$RUNNER_LINK" nodad
  # No segmentation offload towards the VMs: the runner's TCP would hand the veth 64 KiB
  # super-frames, which a VM's raw-socket NIC cannot take whole; TCP then crawled through
  # losses and retransmits at ~20 KB/s (1 MB over ssh: 49 s; a 60 KB lvsctl transaction
  # script: 5-7 s before its first line). With MTU-sized segments: 1 MB in 0.8 s.
  "${rip[@]}" link set "$RUNNER_LINK" gso_max_size 1500
  "${rip[@]}" link set "$RUNNER_LINK" up
  # The client: outside the cluster, on the router's public side.
  ip netns add "$CLIENT_NS"
  ip -n "$CLIENT_NS" link set lo up
  ip -n "$CLIENT_NS" link add eth0 address 02:1a:77:ff:09:64 type veth peer name p-client netns "$SW_NS"
  ip -n "$SW_NS" link set p-client master br9 up
  local i
  for i in 0 1 2 3 4 5 6 7; do
    ip -n "$CLIENT_NS" addr add "10.77.9.$((100 + i))/24" dev eth0
    ip -n "$CLIENT_NS" addr add "fd77:9::$((100 + i))/64" dev eth0 nodad   # nodad: as vmlab0's
  done
  ip -n "$CLIENT_NS" link set eth0 gso_max_size 1500   # as the runner's link, above
  ip -n "$CLIENT_NS" link set eth0 up
  ip -n "$CLIENT_NS" route add default via 10.77.9.2
  # IPv6 too goes out through gw's public address (gw forwards it only once lvsctl enables it).
  ip -n "$CLIENT_NS" -6 route add default via fd77:9::2
}

vm_nics_up() {   # host: one veth pair per NIC, UML side u-H-K, bridge side p-H-K
  local h=$1 k=0 nic
  for nic in ${NICS[$h]}; do
    ip -n "$SW_NS" link add "u-$h-$k" type veth peer name "p-$h-$k"
    ip -n "$SW_NS" link set "p-$h-$k" master "${nic%%:*}" up
    ip -n "$SW_NS" link set "u-$h-$k" up
    k=$((k + 1))
  done
}

# ---------------------------------------------------------------- seed and disk
write_seed() {   # host
  local h=$1 s=$VM_DIR/vms/$1/seed nic ip k=0 g=$HERE/guest
  rm -rf "$s"; mkdir -p "$s"/{etc/ssh/sshd_config.d,etc/vmlab,etc/systemd/system/multi-user.target.wants}
  mkdir -p "$s"/{etc/systemd/system/sysinit.target.wants,etc/systemd/journald.conf.d,root/.ssh,var/lib/systemd/linger}
  echo "$h" >"$s/etc/hostname"
  {
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$h"
    local o; for o in "${HOSTS[@]}"; do printf '%s\t%s\n' "$(host_ip "$o")" "$o"; done
  } >"$s/etc/hosts"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$s/etc/machine-id"; echo >>"$s/etc/machine-id"
  install -m 600 "$LAB_DIR/hostkeys/$h" "$s/etc/ssh/ssh_host_ed25519_key"
  install -m 644 "$LAB_DIR/hostkeys/$h.pub" "$s/etc/ssh/ssh_host_ed25519_key.pub"
  install -m 644 "$g/sshd.conf" "$s/etc/ssh/sshd_config.d/vmlab.conf"
  install -m 600 "$LAB_DIR/id_ed25519.pub" "$s/root/.ssh/authorized_keys"
  # Debian's stock root dotfiles: the runner's (pyenv init) cost seconds per ssh command in a VM.
  install -m 644 /etc/skel/.bashrc "$s/root/.bashrc"
  install -m 644 /etc/skel/.profile "$s/root/.profile"
  : >"$s/var/lib/systemd/linger/root"
  install -m 644 "$g/journald.conf" "$s/etc/systemd/journald.conf.d/vmlab.conf"
  install -m 644 "$g/masked-units" "$s/etc/vmlab/masked-units"
  printf 'tmpfs /tmp tmpfs mode=1777,size=64m 0 0\n' >"$s/etc/fstab"
  ln -s /lib/systemd/system/poweroff.target "$s/etc/systemd/system/ctrl-alt-del.target"
  install -m 755 "$g/ubd-kick.sh" "$s/etc/vmlab/ubd-kick.sh"
  install -m 644 "$g/vmlab-ubd-kick.service" "$s/etc/systemd/system/"
  ln -s ../vmlab-ubd-kick.service "$s/etc/systemd/system/sysinit.target.wants/vmlab-ubd-kick.service"
  : >"$s/etc/vmlab/net.conf"
  for nic in ${NICS[$h]}; do
    echo "addr eth$k ${nic#*:}" >>"$s/etc/vmlab/net.conf"
    case ${nic%%:*} in   # IPv6 on br0 and on the public br9 (only gw's eth1 is there), not br1
      br0) echo "addr6 eth$k $(host_ip6 "$h")/64" >>"$s/etc/vmlab/net.conf" ;;
      br9) ip=$(cidr_ip "$nic"); echo "addr6 eth$k fd77:9::${ip##*.}/64" >>"$s/etc/vmlab/net.conf" ;;
    esac
    k=$((k + 1))
  done
  # The IPv6 default route mirrors the IPv4 one: the gateway's br0 address, same digits
  # (10.77.0.2 -> fd77::2), so replies to the public client fd77:9::/64 go back through gw.
  [[ -z ${ROUTE[$h]} ]] || printf 'route default via %s\nroute6 default via fd77::%s\n' \
    "${ROUTE[$h]}" "${ROUTE[$h]##*.}" >>"$s/etc/vmlab/net.conf"
  case $h in
    gw)
      # IPv4 only: IPv6 forwarding stays off (the kernel's default) because lvsctl turns on
      # net.ipv6.conf.all.forwarding itself when it configures IPv6 forwards, and the tests
      # must see that it does.
      mkdir -p "$s/etc/sysctl.d"
      printf '# vmlab: gw is the lab gateway between the public side and the LAN\nnet.ipv4.ip_forward = 1\n' \
        >"$s/etc/sysctl.d/10-vmlab-gateway.conf" ;;
    web*)
      mkdir -p "$s/srv/www"
      echo "$h" >"$s/srv/www/index.html"
      echo "ok $h" >"$s/srv/www/healthz"
      install -m 644 "$g/vmlab-web@.service" "$g/vmlab-udp-echo.service" "$g/vmlab-tcp-echo.service" "$g/vmlab-dns.service" "$s/etc/systemd/system/"
      install -m 644 "$g/udp-echo.py" "$g/tcp-echo.py" "$s/etc/vmlab/"
      local port
      for port in 80 8080 53; do
        ln -s ../vmlab-web@.service "$s/etc/systemd/system/multi-user.target.wants/vmlab-web@$port.service"
      done
      ln -s ../vmlab-udp-echo.service "$s/etc/systemd/system/multi-user.target.wants/vmlab-udp-echo.service"
      ln -s ../vmlab-tcp-echo.service "$s/etc/systemd/system/multi-user.target.wants/vmlab-tcp-echo.service"
      ln -s ../vmlab-dns.service "$s/etc/systemd/system/multi-user.target.wants/vmlab-dns.service" ;;
  esac
}

create_vm() {   # host: fresh disk and seed (the next boot is a first boot)
  local h=$1 d=$VM_DIR/vms/$1
  mkdir -p "$d"
  rm -f "$d/disk.img"
  truncate -s 2G "$d/disk.img"
  mkfs.ext4 -q -F -L "$h" "$d/disk.img"
  write_seed "$h"
}

# ---------------------------------------------------------------- VM processes
vm_pid() {   # host: pid of the running VM (its process group), empty if none
  local f=$VM_DIR/vms/$1/pid p st
  [[ -f $f ]] || return 0
  read -r p <"$f" || return 0
  [[ -r /proc/$p/cmdline ]] || return 0
  # Zombies count as dead (this container's pid 1 reaps late); the umid guards against pid reuse.
  st=$(awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
  [[ $st != Z ]] || return 0
  tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "umid=$P-$1 " && echo "$p"
  return 0
}

start_vm() {   # host
  local h=$1 d=$VM_DIR/vms/$1 k=0 nic args=()
  [[ -z $(vm_pid "$h") ]] || { log "$h is already running"; return 0; }
  for nic in ${NICS[$h]}; do
    args+=("vec$k:transport=raw,ifname=u-$h-$k,mac=$(mac "$k" "$(cidr_ip "$nic")")")
    k=$((k + 1))
  done
  mkdir -p "$VM_DIR/uml"
  rm -rf "$VM_DIR/uml/$P-$h"
  # hostfs keeps one host fd per cached guest inode (~450 after a systemd boot).
  ulimit -n 65536 2>/dev/null || true
  setsid nsenter --net="/run/netns/$SW_NS" -- "$UML" \
    "umid=$P-$h" "uml_dir=$VM_DIR/uml" "mem=$MEM" \
    root=/dev/root rootfstype=hostfs rootflags=/ ro \
    "init=$HERE/guest/init.sh" "vmlab.seed=$d/seed" \
    "ubd0=$d/disk.img" "${args[@]}" \
    con0=fd:0,fd:1 con=null ssl=null </dev/null >>"$d/console.log" 2>&1 &
  echo $! >"$d/pid"
  # Until the forked shell has exec'd, its command line is this script's, so `vm_pid` would
  # call the VM not running (seen once: `up` on a cold runner died 0.5 s in, "lvs1 is not
  # running", while lvs1 booted). Up to 5 s; a VM that died by then is its caller's to report.
  local i
  for ((i = 0; i < 50; i++)); do [[ -n $(vm_pid "$h") ]] && break; sleep 0.1; done
}

# Whether any process of a process group still runs (zombies do not count: they hold no files).
group_alive() {   # pgid
  local q st
  for q in $(pgrep -g "$1" 2>/dev/null); do
    st=$(awk '/^State:/ { print $2 }' "/proc/$q/status" 2>/dev/null || true)
    [[ -n $st && $st != Z ]] && return 0
  done
  return 1
}

kill_vm() {   # host: power cut
  local h=$1 p
  p=$(vm_pid "$h")
  if [[ -n $p ]]; then
    kill -9 -- "-$p" 2>/dev/null || true
    # Every process of the VM, not only its main one: a survivor still holds the disk image
    # (UML locks it), and a VM booted again on it at once dies (seen in CI).
    local i
    for ((i = 0; i < 200; i++)); do group_alive "$p" || break; sleep 0.05; done
  fi
  ssh_close "$h"
  rm -rf "$VM_DIR/uml/$P-$h"
  rm -f "$VM_DIR/vms/$h/pid"
}

stop_vm() {   # host: clean poweroff (ctrl-alt-del -> poweroff.target), power cut after 60 s
  local h=$1 sock=$VM_DIR/uml/$P-$1/mconsole i
  [[ -n $(vm_pid "$h") ]] || return 0
  [[ -S $sock ]] && timeout 5 uml_mconsole "$sock" cad >/dev/null 2>&1 || true
  for ((i = 0; i < 600; i++)); do [[ -z $(vm_pid "$h") ]] && break; sleep 0.1; done
  [[ -z $(vm_pid "$h") ]] || log "$h did not power off within 60 s: cutting power"
  kill_vm "$h"
}

ssh_close() { [[ -S $VM_DIR/ssh/$(host_ip "$1") ]] && on_runner ssh "${SSH_OPTS[@]}" -O exit "root@$(host_ip "$1")" >/dev/null 2>&1 || true; }

vm_ssh() {   # host cmd...
  local h=$1; shift
  mkdir -p "$VM_DIR/ssh"
  on_runner ssh "${SSH_OPTS[@]}" "root@$(host_ip "$h")" "$@"
}

# Wait until every named VM answers `ssh true` (and is not still booting to a stale boot id).
wait_ssh() {   # hosts...
  local t0 h pending=("$@") left
  t0=$(now)
  while ((${#pending[@]})); do
    left=()
    for h in "${pending[@]}"; do
      if [[ -z $(vm_pid "$h") ]]; then
        tail -n 15 "$VM_DIR/vms/$h/console.log" >&2 || true
        die "$h is not running (console above: $VM_DIR/vms/$h/console.log)"
      fi
      if on_runner timeout 10 bash -c "exec 3<>/dev/tcp/$(host_ip "$h")/22 && head -c 4 <&3 | grep -q SSH" 2>/dev/null \
         && on_runner timeout 20 ssh "${SSH_OPTS[@]}" -o ControlMaster=no -o ControlPath=none "root@$(host_ip "$h")" true 2>/dev/null; then
        log "$h answers ssh after $(( ($(now) - t0) / 1000 )) s"
      else
        left+=("$h")
      fi
    done
    pending=("${left[@]}")
    ((${#pending[@]})) || break
    (( $(now) - t0 < BOOT_TIMEOUT * 1000 )) \
      || die "no ssh from ${pending[*]} after $BOOT_TIMEOUT s (consoles: $VM_DIR/vms/*/console.log)"
    sleep 1
  done
}

# Start a stopped or crashed VM on its disk and wait for ssh. A VM that dies within its first
# seconds (its console says why) is started once more before giving up.
boot_vm() {   # host
  local h=$1 try
  for try in 1 2; do
    start_vm "$h"
    sleep 2
    [[ -n $(vm_pid "$h") ]] && break
    log "$h died at start (try $try); its console ends with:"
    tail -n 5 "$VM_DIR/vms/$h/console.log" >&2 || true
    kill_vm "$h"
  done
  wait_ssh "$h"
}

boot_id() { vm_ssh "$1" cat /proc/sys/kernel/random/boot_id 2>/dev/null || true; }

# ---------------------------------------------------------------- commands
cmd_up() {
  preflight
  plan_hosts
  if ((SLOT == 0)) && ip link show lvslab0 >/dev/null 2>&1; then
    log "the netns lab is up on the same addresses: stopping it"
    bash "$REPO/tests/lab/lab.sh" down
  fi
  [[ ! -e /run/netns/$SW_NS ]] || die "the VM lab is already up (vmlab.sh down first, or reset)"
  local t0 h; t0=$(now)
  # One writer of the shared keys and known_hosts at a time (labs of two slots start together).
  mkdir -p "$LAB_DIR"
  LAB_REAL_SERVERS=$REAL_SERVERS flock "$LAB_DIR/keys.lock" bash "$REPO/tests/lab/lab.sh" keys
  mkdir -p "$VM_DIR/vms" "$VM_DIR/ssh"
  net_up
  for h in "${HOSTS[@]}"; do vm_nics_up "$h"; create_vm "$h"; done
  # Only the named hosts start (a test that needs no second director spares its boot: the
  # boots are CPU-bound on the runner); the others wait, stopped, on fresh disks (`boot H`).
  local start=("${HOSTS[@]}")
  if (($#)); then
    for h in "$@"; do is_host "$h" || die "unknown host '$h' (hosts: ${HOSTS[*]})"; done
    start=("$@")
  fi
  for h in "${start[@]}"; do start_vm "$h"; done
  wait_ssh "${start[@]}"
  log "up: ${#start[@]} of ${#HOSTS[@]} VMs answering ssh in $(( ($(now) - t0) / 1000 )) s (client: ip netns exec $CLIENT_NS ...)"
}

cmd_down() {
  load_hosts
  local t0 h n=0; t0=$(now)
  if [[ -d $VM_DIR/vms ]]; then
    for h in "$VM_DIR"/vms/*/; do
      h=$(basename "$h")
      [[ -n $(vm_pid "$h") ]] && n=$((n + 1))
      kill_vm "$h"
    done
  fi
  # Stray VMs whose state dir is gone (an interrupted run): found by their umid.
  local p
  for p in $(pgrep -f "umid=$P-" || true); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "^$UML " && kill -9 -- "-$p" 2>/dev/null || true
  done
  ip netns del "$CLIENT_NS" 2>/dev/null || true
  ip netns del "$SW_NS" 2>/dev/null || true
  if [[ -n $RUN_NS ]]; then ip netns del "$RUN_NS" 2>/dev/null || true; else ip link del "$RUNNER_LINK" 2>/dev/null || true; fi
  rm -rf "$VM_DIR"
  log "down: stopped $n VMs in $(( ($(now) - t0) / 1000 )) s (keys kept in $LAB_DIR)"
}

cmd_status() {
  load_hosts
  [[ -e /run/netns/$SW_NS ]] || { echo "VM lab: down"; return 0; }
  local h p up
  printf '%-6s %-12s %-8s %s\n' HOST ADDRESS PID SSH
  for h in "${HOSTS[@]}"; do
    p=$(vm_pid "$h")
    up=no
    [[ -n $p ]] && on_runner timeout 20 ssh "${SSH_OPTS[@]}" "root@$(host_ip "$h")" true 2>/dev/null && up=yes
    printf '%-6s %-12s %-8s %s\n' "$h" "$(host_ip "$h")" "${p:--}" "$up"
  done
  echo "client: netns $CLIENT_NS, 10.77.9.100-107, fd77:9::100-107 (default via gw 10.77.9.2, fd77:9::2)"
}

cmd_reboot() {   # host: clean reboot from inside, wait for a new boot id
  local h=$1 before after t0; t0=$(now)
  before=$(boot_id "$h")
  vm_ssh "$h" 'systemctl reboot' >/dev/null 2>&1 || true
  ssh_close "$h"
  local con=$VM_DIR/vms/$h/console.log size=-1 since cycled=
  since=$(now)
  while (( $(now) - t0 < BOOT_TIMEOUT * 1000 )); do
    sleep 1
    # Trap 15: the guest shut down completely and UML's restart then hung, printing nothing
    # more; 30 s of that and the VM is power-cycled (its disk was synced and unmounted: the
    # boot is the one the reboot would have made), once, said on stderr. The same hang was
    # seen one step earlier (CI of 2026-12-04: systemd-shutdown had synced the disks and hung
    # remounting the overlay root read-only): power-cycled the same way.
    if [[ -z $cycled ]] && tail -c 300 "$con" 2>/dev/null \
        | grep -qE "reboot: Restarting system|systemd-shutdown\[1\]: (Unmounting file systems|Sending SIGKILL)|\(sd-remount\)"; then
      local sz; sz=$(stat -c %s "$con")
      [[ $sz == "$size" ]] || { size=$sz; since=$(now); }
      if (( $(now) - since >= 30000 )); then
        log "$h: hung at the end of a clean guest shutdown, after its disks were synced (trap 15): power-cycling it"
        kill_vm "$h"
        start_vm "$h"
        cycled=1
      fi
    fi
    after=$(on_runner timeout 15 ssh "${SSH_OPTS[@]}" -o ControlMaster=no -o ControlPath=none "root@$(host_ip "$h")" \
            cat /proc/sys/kernel/random/boot_id 2>/dev/null || true)
    [[ -n $after && $after != "$before" ]] && break
  done
  if [[ -z $after || $after == "$before" ]]; then
    # Where it stopped (a unit's stop or start job, the kernel, the disk): the console says.
    log "$h did not come back from reboot; the last lines of its console:"
    tail -n 40 "$VM_DIR/vms/$h/console.log" >&2 || true
    die "$h did not come back from reboot within $BOOT_TIMEOUT s"
  fi
  log "$h rebooted and answers ssh after $(( ($(now) - t0) / 1000 )) s"
}

usage() {
  sed -n '2,18p' "$SELF" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

need_host() { load_hosts; [[ -n ${1:-} ]] && is_host "$1" || die "unknown host '${1:-}' (hosts: ${HOSTS[*]})"; }

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) shift; cmd_down; cmd_up "$@" ;;
  purge) cmd_down; rm -rf "${LAB_DIR:?}" ;;
  reboot) need_host "${2:-}"; cmd_reboot "$2" ;;
  crash) need_host "${2:-}"; kill_vm "$2"; log "$2: power cut" ;;
  boot) need_host "${2:-}"; boot_vm "$2" ;;
  stop) need_host "${2:-}"; stop_vm "$2" ;;
  ssh) need_host "${2:-}"; h=$2; shift 2; vm_ssh "$h" "$@" ;;
  run) shift; (($#)) || usage; on_runner "$@" ;;
  -h|--help|help) usage 0 ;;
  *) usage ;;
esac
