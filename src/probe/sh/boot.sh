# lvsctl facts probe, boot: how this host boots, for the persistence lvsctl chooses
# (src/probe/boot.rs calls and reads these). Files and directories only: no program runs.
# shellcheck shell=sh

# boot_facts UNIT...: the init system, the network stacks that are active, and whether each
# UNIT is enabled at boot.
boot_facts() {
  if [ -d "$ROOT/run/systemd/system" ]; then rec init systemd
  elif [ -e "$ROOT/run/openrc" ] || [ -x "$ROOT/sbin/openrc-run" ]; then rec init openrc
  else rec init sysvinit; fi
  # The legacy network service (RHEL/CentOS 6-8), enabled in some runlevel.
  if [ -x "$ROOT/etc/rc.d/init.d/network" ]; then
    for l in "$ROOT"/etc/rc.d/rc[2345].d/S*network; do
      [ -e "$l" ] && { rec netstack network-scripts; break; }
    done
  fi
  [ ! -d "$ROOT/run/NetworkManager" ] || rec netstack NetworkManager
  [ ! -e "$ROOT/run/systemd/netif/state" ] || rec netstack systemd-networkd
  for n in "$ROOT"/etc/netplan/*.yaml; do [ -e "$n" ] && { rec netstack netplan; break; }; done
  [ ! -e "$ROOT/run/network/ifstate" ] || rec netstack ifupdown
  for u; do
    rec enabled "$u" "$(unit_state "$u")"
  done
}

# unit_state UNIT: enabled (a wants link, or an rc S link for a SysV script), masked, or
# disabled. What `systemctl enable` and update-rc.d/chkconfig create, read without a process.
unit_state() {
  case $1 in *.*) su=$1 ;; *) su=$1.service ;; esac
  [ "$(readlink "$ROOT/etc/systemd/system/$su" 2>/dev/null)" != /dev/null ] || { echo masked; return; }
  for w in "$ROOT"/etc/systemd/system/*.wants/"$su"; do
    { [ -e "$w" ] || [ -L "$w" ]; } && { echo enabled; return; }
  done
  for l in "$ROOT"/etc/rc[2345].d/S*"${su%.service}" "$ROOT"/etc/rc.d/rc[2345].d/S*"${su%.service}" "$ROOT"/etc/runlevels/default/"${su%.service}"; do
    { [ -e "$l" ] || [ -L "$l" ]; } && { echo enabled; return; }
  done
  echo disabled
}
