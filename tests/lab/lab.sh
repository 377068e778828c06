#!/usr/bin/env bash
# tests/lab/lab.sh up|down|status|reset|purge -- a lab of SSH hosts for lvsctl, on one Linux machine.
#
# Design
#   Every lab host is a network namespace "lvslab-<host>" with one veth "eth0" on 10.77.0.0/24.
#   All eth0 peers are ports of a bridge br0 that lives in its own namespace "lvslab-sw" (never in
#   the root namespace). The runner (root namespace) gets one more veth, "lvslab0" = 10.77.0.1/24,
#   into that bridge, so `ssh root@10.77.0.11` and lvsctl work from here.
#     gw   10.77.0.2   router; eth1 10.77.9.2/24 = its public side (a veth leading nowhere)
#     lvs1 10.77.0.11  director; eth1 10.77.1.11/24 = NAT internal side (bridge br1 in lvslab-sw)
#     lvs2 10.77.0.12  director; eth1 10.77.1.12/24
#     webI 10.77.0.(20+I)  real servers, I = 1..LAB_REAL_SERVERS (default 2, max 200)
#   Every host except gw has a default route via gw (10.77.0.2); nothing in the lab routes to the
#   runner's real network.
#   Each host runs its own OpenSSH `sshd -D -e` as pid 1 of
#     ip netns exec lvslab-H unshare --mount --uts --ipc --pid --fork --mount-proc --propagation private
#   and this script's hidden `_boot` step prepares that mount namespace before exec'ing sshd:
#     overlays (lower = the runner's dir, upper on tmpfs) on /etc /root /var /usr/local /opt /srv
#     /home, so every file a host writes (/etc/keepalived, /var/lib/lvsctl, /var/log, ...) is private
#     to that host; tmpfs on /run /tmp /dev/shm; the rest of / read-only (a stray write fails loudly
#     instead of leaking into the runner and every other host); /proc/sys read-only except
#     /proc/sys/net; hostname = host name (uts namespace); own ed25519 host key; authorized_keys =
#     the lab client key.
#
# Files
#   <repo>/.lab/ (gitignored, kept by `down` so keys and known_hosts stay stable; `purge` deletes it)
#     id_ed25519[.pub]   client key, no passphrase       known_hosts  "10.77.0.X ssh-ed25519 ..."
#     hostkeys/<host>    per-host sshd host keys          inventory.yml  all hosts of the running lab
#                                                         (absolute paths; removed by `down`)
#   /run/lvslab/ (a tmpfs, unmounted by `down`)
#     hosts/<host>/<dir>.upper, .work  overlay upper dirs: a test can read what a host wrote,
#                                       e.g. /run/lvslab/hosts/lvs1/etc.upper/keepalived/...
#     hosts/<host>/sshd.log             sshd's stderr (-e)       hosts.list  "name ip" of the lab
#
# Traps (measured on Debian 12 / kernel 6.x, see also tests/lab/README.md)
#   * Bridge in the root namespace: with bridge-nf-call-iptables=1 bridged frames go through the
#     FORWARD chain of the namespace holding the bridge; a root FORWARD DROP policy (Docker) kills it.
#   * Overlay upper/work dirs must not sit on overlayfs (the runner's / may be overlay in a
#     container): they always live on a tmpfs mounted at /run/lvslab.
#   * The overlay's root dir takes the upper dir's owner/mode: upper dirs copy the lower's (/root 0700).
#   * kernel.* / vm.* sysctls are global: without the read-only /proc/sys a host could change the
#     runner's kernel. net.* is per network namespace and stays writable (sysctl -p FILE with net.*
#     keys works; sysctl --system exits 1 on kernel.* keys).
#   * `mount -o remount,ro /` (without bind) would remount the runner's root FILESYSTEM read-only;
#     only `remount,bind,ro` (per-mount flag, private mount namespace) is used here.
#   * Host mount namespaces inherit the /run/netns/* bind mounts; holding them keeps deleted
#     namespaces (and their veths) alive, so _boot detaches /run/netns first.
#   * A re-created host with a new random MAC is unreachable for ~40 s (stale neighbour entries):
#     lab NICs get fixed MACs derived from their address.
#   * Under set -e, a failed `x=$(<file)` exits the shell even with `|| ...`; use `read <file`.
#   * No CONFIG_DUMMY in this kernel ("Unknown device type"): eth1 is a veth, not a dummy.
#   * Interface names: "eth0" is created directly inside the host namespace (the root namespace has
#     its own eth0); bridge ports are "p-<host>" in lvslab-sw.
#   * Hosts must not inherit the caller's fds: the unshare parent would hold the lock fd forever
#     (the next `up` deadlocks) and keep a caller's output pipe open.
#   * sshd defaults MaxStartups 10:30:100 / MaxSessions 10 reset bursts of parallel connections.
#   * The runner's ~/.bashrc (pyenv init) costs ~90 ms per ssh command; hosts get Debian's stock
#     root .bashrc in their /root overlay instead.
#   * The kernel here has no IPVS (CONFIG_IP_VS not set): ipvsadm fails and keepalived must run with
#     -P (VRRP only). Everything else (VRRP, VIPs, ARP sysctls, iptables NAT, files) is real.
set -Eeuo pipefail
trap 'printf "lab: error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

export PATH=$PATH:/usr/sbin:/sbin
SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)
LAB_DIR=${LAB_DIR:-$REPO/.lab}
RUN_DIR=/run/lvslab
PREFIX=lvslab-
SW_NS=${PREFIX}sw
RUNNER_LINK=lvslab0
SUBNET=10.77.0
RUNNER_IP=$SUBNET.1
GW_IP=$SUBNET.2
REAL_SERVERS=${LAB_REAL_SERVERS:-2}
# Directories that get a per-host overlay (only those that exist on the runner).
OVERLAY_DIRS=(/etc /root /var /usr/local /opt /srv /home)
SSH_OPTS=(-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes
          -o UserKnownHostsFile="$LAB_DIR/known_hosts" -i "$LAB_DIR/id_ed25519"
          -o ConnectTimeout=3 -o LogLevel=ERROR)

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
now() { local t=${EPOCHREALTIME/[.,]/}; echo "${t:0:-3}"; }   # milliseconds

# ---------------------------------------------------------------- hosts
# HOSTS=(name ...) and IP[name]=address for the configured lab.
declare -a HOSTS=()
declare -A IP=()
plan_hosts() {
  [[ $REAL_SERVERS =~ ^[0-9]+$ ]] && (( REAL_SERVERS <= 200 )) \
    || die "LAB_REAL_SERVERS must be a number 0..200 (got '$REAL_SERVERS')"
  HOSTS=(gw lvs1 lvs2); IP=([gw]=$GW_IP [lvs1]=$SUBNET.11 [lvs2]=$SUBNET.12)
  local i
  for ((i = 1; i <= REAL_SERVERS; i++)); do HOSTS+=("web$i"); IP[web$i]=$SUBNET.$((20 + i)); done
}

# Hosts of the running lab (hosts.list written by `up`), else the configured ones.
load_running_hosts() {
  if [[ -f $RUN_DIR/hosts.list ]]; then
    HOSTS=(); IP=()
    local n a
    while read -r n a; do HOSTS+=("$n"); IP[$n]=$a; done <"$RUN_DIR/hosts.list"
  else
    plan_hosts
  fi
}

lab_namespaces() { ip netns list 2>/dev/null | awk -v p="$PREFIX" 'index($1, p) == 1 { print $1 }'; }
ns_exists() { [[ -e /run/netns/$1 ]]; }

# pid (in the root pid namespace) of the host's pid 1, i.e. its sshd; empty if none.
host_init_pid() {
  local ns=$PREFIX$1 p
  ns_exists "$ns" || return 0
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    if [[ $(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null) == 1 ]]; then
      echo "$p"; return 0
    fi
  done
}

# ---------------------------------------------------------------- preflight
preflight() {
  [[ $(uname -s) == Linux ]] || die "Linux only"
  (( EUID == 0 )) || die "must run as root (network namespaces, mounts)"
  local -A pkg=([ip]=iproute2 [unshare]=util-linux [setsid]=util-linux [flock]=util-linux
                [mount]=mount [umount]=mount [sshd]=openssh-server [ssh]=openssh-client [sudo]=sudo
                [ssh-keygen]=openssh-client [timeout]=coreutils [hostname]=hostname
                [awk]=mawk [sysctl]=procps)
  local -A opt=([keepalived]=keepalived [iptables]=iptables [arping]=iputils-arping)
  local b missing=() optional=()
  for b in "${!pkg[@]}"; do
    command -v "$b" >/dev/null || missing+=("${pkg[$b]}")
  done
  for b in "${!opt[@]}"; do
    command -v "$b" >/dev/null || optional+=("${opt[$b]}")
  done
  if ((${#optional[@]})); then
    log "warning: lvsctl's lab tests also need: apt-get install -y $(printf '%s\n' "${optional[@]}" | sort -u | xargs)"
  fi
  if ((${#missing[@]})); then
    die "missing commands; install them with: apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | xargs)"
  fi
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null \
    || die "kernel lacks overlayfs (needed for per-host /etc, /root, /var)"
  [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd missing: apt-get install -y openssh-server"
}

# ---------------------------------------------------------------- keys
ensure_keys() {
  mkdir -p "$LAB_DIR/hostkeys"
  chmod 700 "$LAB_DIR"
  [[ -f $LAB_DIR/id_ed25519 ]] \
    || ssh-keygen -q -t ed25519 -N '' -C lvslab-client -f "$LAB_DIR/id_ed25519"
  local h tmp=$LAB_DIR/known_hosts.tmp
  : >"$tmp"
  for h in "${HOSTS[@]}"; do
    [[ -f $LAB_DIR/hostkeys/$h ]] \
      || ssh-keygen -q -t ed25519 -N '' -C "root@$h" -f "$LAB_DIR/hostkeys/$h"
    printf '%s %s\n' "${IP[$h]}" "$(cut -d' ' -f1-2 "$LAB_DIR/hostkeys/$h.pub")" >>"$tmp"
  done
  mv -f "$tmp" "$LAB_DIR/known_hosts"
}

# ---------------------------------------------------------------- runtime dir, switch, runner link
ensure_run_dir() {
  if ! mountpoint -q "$RUN_DIR"; then
    mkdir -p "$RUN_DIR"
    mount -t tmpfs -o mode=0700,size=512m lvslab "$RUN_DIR"
  fi
  mkdir -p "$RUN_DIR/hosts"
  {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    printf '%s\trunner\n' "$RUNNER_IP"
    local h
    for h in "${HOSTS[@]}"; do printf '%s\t%s\n' "${IP[$h]}" "$h"; done
  } >"$RUN_DIR/etc-hosts"
  for h in "${HOSTS[@]}"; do printf '%s %s\n' "$h" "${IP[$h]}"; done >"$RUN_DIR/hosts.list"
}

ensure_switch() {
  ns_exists "$SW_NS" && ip -n "$SW_NS" link show br1 >/dev/null 2>&1 && return 0
  ns_exists "$SW_NS" && ip netns del "$SW_NS"
  ip netns add "$SW_NS"
  ip -n "$SW_NS" -b - <<EOF
link set lo up
link add br0 type bridge stp_state 0 mcast_snooping 0 forward_delay 0
link set br0 up
link add br1 type bridge stp_state 0 mcast_snooping 0 forward_delay 0
link set br1 up
EOF
  # Bridged frames must not go through (per-namespace) iptables anywhere.
  if [[ -d /proc/sys/net/bridge ]]; then
    ip netns exec "$SW_NS" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
      net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
  fi
}

# Refuse to shadow a real network: nothing else in the root namespace may use 10.77.0.0/24.
check_subnet_free() {
  local other
  other=$(ip -4 -o addr show to "$SUBNET.0/24" | awk -v l="$RUNNER_LINK" '$2 != l')
  [[ -z $other ]] || die "$SUBNET.0/24 is already used on this machine: $other"
  other=$(ip -4 route show root "$SUBNET.0/24" | grep -v "dev $RUNNER_LINK" || true)
  [[ -z $other ]] || die "a route inside $SUBNET.0/24 exists already: $other"
  other=$(ip -4 route show match "$SUBNET.0/24" | grep -v -e '^default' -e "dev $RUNNER_LINK" || true)
  [[ -z $other ]] || log "warning: the lab route $SUBNET.0/24 shadows part of: $other"
}

ensure_runner_link() {
  if ip link show "$RUNNER_LINK" >/dev/null 2>&1 \
     && ip -4 -o addr show dev "$RUNNER_LINK" | grep -q " $RUNNER_IP/24 "; then
    return 0
  fi
  ip link del "$RUNNER_LINK" 2>/dev/null || true
  ip -n "$SW_NS" link del runner 2>/dev/null || true
  check_subnet_free
  ip link add "$RUNNER_LINK" address "$(mac 0 "$RUNNER_IP")" type veth peer name runner netns "$SW_NS"
  # No IPv6 (RS/MLD noise) from the runner into the lab.
  [[ -w /proc/sys/net/ipv6/conf/$RUNNER_LINK/disable_ipv6 ]] \
    && echo 1 >"/proc/sys/net/ipv6/conf/$RUNNER_LINK/disable_ipv6"
  ip addr add "$RUNNER_IP/24" dev "$RUNNER_LINK"
  ip link set "$RUNNER_LINK" up
  ip -n "$SW_NS" link set runner master br0 up
}

# ---------------------------------------------------------------- one host
# True if any of the pids still runs (zombies count as gone: whoever reaps them is not us).
any_alive() {
  local p st
  for p in "$@"; do
    # (not st=$(<file): under set -e a failed $(<file) exits the shell, `|| continue` or not)
    read -r st 2>/dev/null <"/proc/$p/stat" || continue
    st=${st##*) }                  # fields after "(comm)"; the first is the state
    [[ ${st%% *} == Z ]] || return 0
  done
  return 1
}

# Stops the hosts (all in parallel), deletes their namespaces and dirs. With --unlink it first
# deletes their NICs synchronously (~25 ms each): needed when the lab keeps running, because the
# kernel frees a deleted namespace asynchronously and its "p-<host>" bridge port would still
# exist when the host is re-created. `down` deletes the switch namespace instead.
destroy_hosts() {   # [--unlink] names...
  local unlink=0 h p pids=() t
  [[ ${1:-} != --unlink ]] || { unlink=1; shift; }
  for h in "$@"; do
    ns_exists "$PREFIX$h" || continue
    for p in $(ip netns pids "$PREFIX$h" 2>/dev/null); do pids+=("$p"); done
  done
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((t = 0; t < 60; t++)); do            # up to 3 s, then SIGKILL
      any_alive "${pids[@]}" || break
      sleep 0.05
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    while any_alive "${pids[@]}"; do sleep 0.02; done
  fi
  for h in "$@"; do
    if ns_exists "$PREFIX$h"; then
      if ((unlink)); then
        ip -n "$PREFIX$h" link del eth0 2>/dev/null || true
        ip -n "$PREFIX$h" link del eth1 2>/dev/null || true
      fi
      ip netns del "$PREFIX$h"
    fi
    rm -rf "${RUN_DIR:?}/hosts/$h"
  done
}

# Fixed MACs (02:1a:77:<nic>:<ip octets 3,4>): a re-created host keeps its MAC, so no neighbour
# cache (runner or other hosts) keeps sending to a dead one (that stalled connects for ~40 s).
mac() {   # nic-index ip
  local IFS=. o; read -r -a o <<<"$2"
  printf '02:1a:77:%02x:%02x:%02x\n' "$1" "${o[2]}" "${o[3]}"
}

create_host_net() {   # name
  local h=$1 ns=$PREFIX$1 ip=${IP[$1]}
  ip netns add "$ns"
  ip -n "$ns" link add eth0 address "$(mac 0 "$ip")" type veth peer name "p-$h" netns "$SW_NS"
  ip -n "$SW_NS" link set "p-$h" master br0 up
  # eth1 (no CONFIG_DUMMY in this kernel, so a veth): directors' eth1 share br1 (10.77.1.0/24,
  # the NAT internal side); gw's eth1 (10.77.9.2/24, its public side) leads nowhere.
  local eth1=
  case $h in
    gw)   eth1=10.77.9.2/24 ;;
    lvs*) eth1=10.77.1.$((10 + ${h#lvs}))/24 ;;
  esac
  if [[ -n $eth1 ]]; then
    ip -n "$ns" link add eth1 address "$(mac 1 "${eth1%/*}")" type veth peer name "q-$h" netns "$SW_NS"
    if [[ $h == gw ]]; then ip -n "$SW_NS" link set "q-$h" up; else ip -n "$SW_NS" link set "q-$h" master br1 up; fi
  fi
  {
    echo "link set lo up"
    echo "addr add $ip/24 dev eth0"
    echo "link set eth0 up"
    [[ -z $eth1 ]] || { echo "addr add $eth1 dev eth1"; echo "link set eth1 up"; }
    [[ $h == gw ]] || echo "route add default via $GW_IP dev eth0"
  } | ip -n "$ns" -b -
}

prepare_host_dir() {   # name
  local hdir=$RUN_DIR/hosts/$1 d key
  mkdir -p "$hdir"
  # What the host needs from .lab/, staged on /run: the repo may live under /tmp (a fresh CI
  # clone), which every host masks with its own tmpfs before it installs these.
  install -m 600 "$LAB_DIR/hostkeys/$1" "$hdir/ssh_host_ed25519_key"
  install -m 644 "$LAB_DIR/hostkeys/$1.pub" "$hdir/ssh_host_ed25519_key.pub"
  install -m 644 "$LAB_DIR/id_ed25519.pub" "$hdir/authorized_keys"
  for d in "${OVERLAY_DIRS[@]}"; do
    [[ -d $d ]] || continue
    key=${d#/}; key=${key//\//_}
    mkdir -p "$hdir/$key.upper" "$hdir/$key.work"
    # The overlay root takes the upper dir's owner and mode (/root must stay 0700).
    chown --reference="$d" "$hdir/$key.upper"
    chmod --reference="$d" "$hdir/$key.upper"
  done
}

launch_host() {   # name
  local h=$1 hdir=$RUN_DIR/hosts/$1
  (
    # Close every inherited fd but 0-2: the lock (fd 9) would stay held by the long-lived unshare
    # parent, and a caller's pipe would never see EOF (`out=$(lab.sh up)` would hang).
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"
    done
    export LAB_DIR
    exec setsid ip netns exec "$PREFIX$h" \
      unshare --mount --uts --ipc --pid --fork --mount-proc --propagation private \
      /bin/bash "$SELF" _boot "$h" "${IP[$h]}"
  ) </dev/null >"$hdir/sshd.log" 2>&1 &
}

# Runs as pid 1 inside the host's namespaces: build the host's filesystem view, exec sshd.
boot_host() {   # name ip
  local h=$1 ip=$2 hdir=$RUN_DIR/hosts/$1 d key
  # Do not hold the /run/netns bind mounts (they would keep deleted namespaces alive).
  umount -l /run/netns 2>/dev/null || true
  # Per-mount read-only flag on /, in this private mount namespace only (NOT remount,ro).
  mount -o remount,bind,ro /
  for d in "${OVERLAY_DIRS[@]}"; do
    [[ -d $d ]] || continue
    key=${d#/}; key=${key//\//_}
    mount -t overlay "lvslab-$h" -o "lowerdir=$d,upperdir=$hdir/$key.upper,workdir=$hdir/$key.work" "$d"
  done
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
  # kernel.*/vm.* are global: read-only; net.* is per namespace: writable.
  mount --bind /proc/sys /proc/sys
  mount -o remount,bind,ro /proc/sys
  mount --bind /proc/sys/net /proc/sys/net
  mount -o remount,bind,rw /proc/sys/net
  hostname "$h"

  echo "$h" >/etc/hostname
  # This kernel has no IPVS: keepalived's checker process would exit FATAL and take VRRP down
  # with it. Lab hosts run keepalived VRRP-only (-P) through the normal service script, so
  # VIP failover is real while virtual_server blocks are parsed but not programmed.
  if [[ -d /etc/default ]] && [[ ! -e /proc/net/ip_vs ]]; then
    printf '# lvslab: no IPVS in this kernel, VRRP only\nDAEMON_ARGS="-P"\n' >/etc/default/keepalived
  fi
  # Lab hosts present themselves as RHEL/CentOS network-scripts hosts (the seed documents'
  # world: a legacy `network` service enabled in runlevel 3), so lvsctl persists their VIPs
  # in ifcfg files and the lab tests exercise that persistence live. (No systemd here: the
  # systemd units are the VM lab's.) The script only exists; nothing runs it.
  mkdir -p /etc/rc.d/init.d /etc/rc.d/rc3.d
  printf '#!/bin/sh\n# lvslab: stands for the legacy network service of network-scripts hosts\nexit 0\n' >/etc/rc.d/init.d/network
  chmod 755 /etc/rc.d/init.d/network
  ln -sf ../init.d/network /etc/rc.d/rc3.d/S10network
  cp "$RUN_DIR/etc-hosts" /etc/hosts
  rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
  install -m 600 "$hdir/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key
  install -m 644 "$hdir/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub
  cat >/etc/ssh/sshd_config <<EOF
# lvslab host $h (written by tests/lab/lab.sh)
Port 22
ListenAddress $ip
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
MaxStartups 100:30:200
MaxSessions 50
UseDNS no
# Every exec is logged ("Starting session: command for ..."): tests count round trips here.
LogLevel VERBOSE
PrintMotd no
X11Forwarding no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  # An opaque /root/.ssh: none of the runner's own keys show through.
  rm -rf /root/.ssh
  mkdir -m 700 /root/.ssh
  install -m 600 "$hdir/authorized_keys" /root/.ssh/authorized_keys
  if [[ -f /usr/share/base-files/dot.bashrc ]]; then
    install -m 644 /usr/share/base-files/dot.bashrc /root/.bashrc
  else
    : >/root/.bashrc
  fi
  # Two operators who log in as themselves and become root with sudo, as Ansible users do:
  # `lvsops` may sudo without a password, `lvspass` must type one (lab-sudo-pw). Their
  # homes live in the /var overlay; both log in with the lab key.
  if command -v sudo >/dev/null && command -v useradd >/dev/null; then
    for u in lvsops lvspass; do
      id "$u" >/dev/null 2>&1 || useradd -M -d "/var/lib/$u" -s /bin/sh "$u"
      mkdir -p "/var/lib/$u/.ssh"
      install -m 600 "$hdir/authorized_keys" "/var/lib/$u/.ssh/authorized_keys"
      chown -R "$u:$u" "/var/lib/$u"
      chmod 700 "/var/lib/$u" "/var/lib/$u/.ssh"
    done
    usermod -p '*' lvsops   # no password, but not locked: sshd refuses a locked account's keys
    echo 'lvspass:lab-sudo-pw' | chpasswd
    printf 'Defaults lecture=never\nlvsops ALL=(ALL) NOPASSWD: ALL\nlvspass ALL=(ALL) ALL\n' >/etc/sudoers.d/lvslab
    chmod 440 /etc/sudoers.d/lvslab
  fi

  # Last: detach /run/lvslab (the overlays keep their upper dirs) and mount a private /run, so a
  # host sees neither the runner's nor the other hosts' files.
  umount -l "$RUN_DIR"
  mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
  mkdir -m 0755 /run/sshd
  mkdir -m 1777 /run/lock
  exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config
}

# ---------------------------------------------------------------- readiness
wait_tcp22() {   # names...; until every sshd accepts connections (10 s max)
  local h left=("$@") next t
  for ((t = 0; t < 200 && ${#left[@]}; t++)); do
    next=()
    for h in "${left[@]}"; do
      timeout 1 bash -c ">/dev/tcp/${IP[$h]}/22" 2>/dev/null || next+=("$h")
    done
    left=("${next[@]}")
    ((${#left[@]})) && sleep 0.05
  done
  if ((${#left[@]})); then
    for h in "${left[@]}"; do
      log "$h: sshd not listening on ${IP[$h]}:22; $RUN_DIR/hosts/$h/sshd.log:"
      tail -n 5 "$RUN_DIR/hosts/$h/sshd.log" >&2 || true
    done
    return 1
  fi
}

# Prints "name ip pid yes|no" per host (ssh probes in parallel); returns 1 if any host is down.
probe_hosts() {
  local h pids=() rc=0 i=0 pid
  for h in "${HOSTS[@]}"; do
    ssh "${SSH_OPTS[@]}" "root@${IP[$h]}" true </dev/null >/dev/null 2>&1 &
    pids+=($!)
  done
  for h in "${HOSTS[@]}"; do
    local ok=yes
    wait "${pids[i]}" || { ok=no; rc=1; }
    i=$((i + 1))
    pid=$(host_init_pid "$h")
    printf '%-8s %-12s sshd-pid %-8s reachable %s\n' "$h" "${IP[$h]}" "${pid:--}" "$ok"
  done
  return "$rc"
}

# ---------------------------------------------------------------- inventory
write_inventory() {
  local h f=$LAB_DIR/inventory.yml
  {
    echo "# The running lab (written by tests/lab/lab.sh up; removed by down)."
    echo "all:"
    echo "  vars: { ansible_user: root, ansible_ssh_private_key_file: $LAB_DIR/id_ed25519, ssh_known_hosts_file: $LAB_DIR/known_hosts }"
    echo "  children:"
    echo "    directors:    { hosts: { lvs1: { ansible_host: ${IP[lvs1]} }, lvs2: { ansible_host: ${IP[lvs2]} } } }"
    echo "    real_servers:"
    if ((REAL_SERVERS == 0)); then
      echo "      hosts: {}"
    else
      echo "      hosts:"
      for h in "${HOSTS[@]}"; do
        [[ $h == web* ]] && echo "        $h: { ansible_host: ${IP[$h]} }"
      done
    fi
    echo "    routers:      { hosts: { gw: { ansible_host: ${IP[gw]} } } }"
  } >"$f.tmp"
  mv -f "$f.tmp" "$f"
}

# ---------------------------------------------------------------- commands
lock() { mkdir -p "$LAB_DIR"; exec 9>"$LAB_DIR/lock"; flock 9; }

cmd_up() {
  local t0; t0=$(now)
  preflight; plan_hosts; lock
  if ip link show vmlab0 >/dev/null 2>&1; then
    log "the VM lab is up on the same addresses: stopping it"
    bash "$REPO/tests/vmlab/vmlab.sh" down
  fi
  [[ -e /proc/net/ip_vs ]] || log "note: kernel has no IPVS; virtual_server tables cannot be exercised here"
  # The hosts are namespaces of the runner's kernel: the router's connection-tracking table is
  # the runner's, and its size is read-only inside a namespace. Set it to what lvsctl gives a
  # router by default (router.conntrack_max), so the router's plan finds it in place.
  modprobe nf_conntrack 2>/dev/null || true
  if [[ -w /proc/sys/net/netfilter/nf_conntrack_max ]]; then
    echo 262144 >/proc/sys/net/netfilter/nf_conntrack_max
  fi
  ensure_keys
  ensure_run_dir
  ensure_switch
  ensure_runner_link

  # Hosts of an earlier lab that are not in this one (e.g. LAB_REAL_SERVERS went down).
  local ns h stray=() todo=()
  for ns in $(lab_namespaces); do
    h=${ns#"$PREFIX"}
    [[ $ns == "$SW_NS" || -n ${IP[$h]:-} ]] || stray+=("$h")
  done
  ((${#stray[@]} == 0)) || { log "removing hosts not in this lab: ${stray[*]}"; destroy_hosts --unlink "${stray[@]}"; }

  # Keep healthy hosts (and their state); (re)create the others.
  for h in "${HOSTS[@]}"; do
    [[ -n $(host_init_pid "$h") ]] && ip -n "$SW_NS" link show "p-$h" >/dev/null 2>&1 || todo+=("$h")
  done
  if ((${#todo[@]})); then
    destroy_hosts --unlink "${todo[@]}"
    for h in "${todo[@]}"; do create_host_net "$h"; prepare_host_dir "$h"; launch_host "$h"; done
  fi
  wait_tcp22 "${HOSTS[@]}" || die "some hosts did not start"
  # One real login proves keys, known_hosts and sshd_config (a full ssh round costs ~0.1 s of CPU
  # per host; `status` does it for every host).
  h=${todo[0]:-lvs1}
  ssh "${SSH_OPTS[@]}" "root@${IP[$h]}" true </dev/null \
    || die "ssh root@${IP[$h]} ($h) fails; see $RUN_DIR/hosts/$h/sshd.log"
  write_inventory
  log "up: ${#HOSTS[@]} hosts (${#todo[@]} started) in $(($(now) - t0)) ms; e.g."
  log "  ssh -i $LAB_DIR/id_ed25519 -o UserKnownHostsFile=$LAB_DIR/known_hosts root@${IP[lvs1]}"
}

cmd_down() {
  local t0; t0=$(now)
  [[ $(uname -s) == Linux ]] || die "Linux only"
  (( EUID == 0 )) || die "must run as root"
  lock
  local ns hosts=()
  for ns in $(lab_namespaces); do [[ $ns == "$SW_NS" ]] || hosts+=("${ns#"$PREFIX"}"); done
  ((${#hosts[@]} == 0)) || destroy_hosts "${hosts[@]}"
  ip link del "$RUNNER_LINK" 2>/dev/null || true
  ! ns_exists "$SW_NS" || ip netns del "$SW_NS"
  if mountpoint -q "$RUN_DIR"; then umount "$RUN_DIR" || umount -l "$RUN_DIR"; fi
  [[ ! -d $RUN_DIR ]] || rmdir "$RUN_DIR"
  rm -f "$LAB_DIR/inventory.yml"
  log "down: removed ${#hosts[@]} hosts in $(($(now) - t0)) ms (keys kept in $LAB_DIR)"
}

cmd_status() {
  load_running_hosts
  [[ -f $LAB_DIR/id_ed25519 ]] || { log "no lab keys in $LAB_DIR (lab never started)"; }
  local rc=0
  probe_hosts || rc=1
  local ns h
  for ns in $(lab_namespaces); do
    h=${ns#"$PREFIX"}
    [[ $ns == "$SW_NS" || -n ${IP[$h]:-} ]] || { echo "stray namespace $ns"; rc=1; }
  done
  exit "$rc"
}

usage() {
  cat >&2 <<EOF
usage: $0 up|down|status|reset|purge
  up      start (or repair) the lab; idempotent. LAB_REAL_SERVERS=N (default 2) real servers.
  down    stop everything (namespaces, processes, mounts, links); keeps keys in .lab/
  status  one line per host; exit 1 if any host is unreachable
  reset   down, then up (a lab with no state left from earlier tests)
  purge   down, then delete .lab/ (new keys next time)
  keys    create the client key and host keys in .lab/ (shared with tests/vmlab/vmlab.sh)
EOF
  exit 2
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_down; cmd_up ;;
  purge) cmd_down; rm -rf "${LAB_DIR:?}" ;;
  keys) plan_hosts; ensure_keys ;;
  _boot) shift; boot_host "$@" ;;
  *) usage ;;
esac
