#!/bin/sh
# PID 1 of a VM lab host before systemd (tests/vmlab/vmlab.sh passes it as init=).
#
# The VM's kernel is User-Mode Linux; its root is the runner's own `/`, read-only through hostfs.
# This script gives the VM a private writable root and its identity, then execs systemd:
#   1. an overlay: lower = hostfs `/`, upper/work on the VM's own ext4 disk (ubd0), so all the VM
#      writes lands on its disk and survives a reboot or a power cut (ext4 journal);
#   2. on the first boot of a disk: the runner's identity removed from the overlay (ssh host keys,
#      machine-id, /.dockerenv, /root/.ssh, any lvsctl or keepalived state), the seed that
#      vmlab.sh prepared for this VM copied in (hostname, host key, authorized_keys, units), the
#      units that cannot work or only cost boot time masked, iptables switched to the legacy
#      backend (the UML kernel has no nf_tables for IPv4);
#   3. every boot: the ipv6 module loaded, NICs renamed vecK -> ethK and addressed from
#      /etc/vmlab/net.conf (no udev in the VM), then pivot_root into the overlay and exec systemd.
# It runs from the read-only host root before anything else: POSIX sh, no writes outside the
# tmpfs on /run and the VM's disk. A failure drops to a shell on the console log and halts.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "vmlab-init: $*" >&2; sleep 2; echo o > /proc/sysrq-trigger; exit 1; }

mount -t proc proc /proc
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run

SEED=
for w in $(cat /proc/cmdline); do
  case $w in vmlab.seed=*) SEED=${w#*=} ;; esac
done
[ -d "$SEED" ] || fail "no seed directory (vmlab.seed=$SEED)"
KVER=$(uname -r)
MODS=/usr/lib/uml/modules/$KVER

grep -qw overlay /proc/filesystems || insmod "$MODS/kernel/fs/overlayfs/overlay.ko" || grep -qw overlay /proc/filesystems \
  || fail "cannot load overlayfs from $MODS"
D=/run/vmlab/disk R=/run/vmlab/root
mkdir -p $D $R
mount -t ext4 /dev/ubda $D || fail "cannot mount the VM disk"
mkdir -p $D/upper $D/work
mount -t overlay overlay -o lowerdir=/,upperdir=$D/upper,workdir=$D/work $R || fail "overlay mount failed"

if [ ! -e $D/firstboot-done ]; then
  rm -f $R/etc/ssh/ssh_host_* $R/etc/machine-id $R/.dockerenv
  rm -rf $R/root/.ssh $R/etc/keepalived/keepalived.conf $R/etc/lvsctl $R/var/lib/lvsctl \
         $R/etc/sysconfig $R/etc/sysctl.d/90-lvsctl.conf $R/etc/modules-load.d/lvsctl.conf
  cp -a "$SEED/." $R/ || fail "cannot copy the seed"
  chmod 700 $R/root/.ssh
  mkdir -p $R/etc/systemd/system $R/etc/systemd/system-generators
  while read -r unit; do
    case $unit in ''|'#'*) continue ;; esac
    ln -sf /dev/null "$R/etc/systemd/system/$unit"
  done < $R/etc/vmlab/masked-units
  for g in systemd-gpt-auto-generator systemd-cryptsetup-generator systemd-hibernate-resume-generator \
           systemd-integritysetup-generator systemd-veritysetup-generator systemd-system-update-generator \
           systemd-getty-generator systemd-debug-generator postgresql-generator; do
    ln -sf /dev/null "$R/etc/systemd/system-generators/$g"
  done
  mkdir -p $R/usr/lib/modules
  ln -sfn "$MODS" "$R/usr/lib/modules/$KVER"
  chroot $R update-alternatives --quiet --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1
  chroot $R update-alternatives --quiet --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1
  sync
  touch $D/firstboot-done
fi

# IPv6 is a module in UML (CONFIG_IPV6=m; ip_vs needs it too, but only directors load ip_vs):
# loaded here, deps first as modules.dep lists them, so the NICs get their fd77:: addresses.
# A lab without its IPv6 addresses would fail IPv6 tests in obscure ways: halt loudly instead.
if [ ! -d /proc/sys/net/ipv6 ]; then
  for m in $(sed -n 's|^kernel/net/ipv6/ipv6\.ko:||p' "$MODS/modules.dep") kernel/net/ipv6/ipv6.ko; do
    insmod "$MODS/$m" || fail "cannot load $m (IPv6) from $MODS"
  done
fi
# No router on the lab's bridges: router solicitations (one every few seconds, backing off)
# would only be noise in the tests' captures. Set on every NIC that exists now and on
# `default` for those made later (tunl0, dummies). DAD stays as on any host (on for addresses
# added without nodad).
for c in /proc/sys/net/ipv6/conf/*/; do echo 0 > "${c}router_solicitations"; done

# NICs: vecK -> ethK, addresses and routes from net.conf ("addr IF CIDR" / "addr6 IF CIDR" /
# "route ARGS..." / "route6 ARGS..."). IPv6 addresses are added with nodad: usable at once, not
# tentative for ~1 s. route6 (the IPv6 default via gw) comes after the addresses its gateway
# needs; without it replies to the public client fd77:9::/64 would be unroutable: halt loudly.
ip link set lo up
for n in /sys/class/net/vec*; do
  [ -e "$n" ] || continue
  v=${n##*/}
  ip link set "$v" name "eth${v#vec}"
done
while read -r kind a b; do
  case $kind in
    addr)  ip addr add "$b" dev "$a"; ip link set "$a" up ;;
    addr6) ip -6 addr add "$b" dev "$a" nodad || fail "cannot add $b to $a" ;;
    route) ip route add $a $b ;;
    route6) ip -6 route add $a $b || fail "cannot add IPv6 route $a $b" ;;
  esac
done < $R/etc/vmlab/net.conf

mount --move /dev $R/dev
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
cd $R || fail "no new root"
mkdir -p mnt
pivot_root . mnt || fail "pivot_root failed"
mount --move /mnt/run /run
umount /mnt/proc /mnt/sys 2>/dev/null
umount -l /mnt
exec /lib/systemd/systemd
