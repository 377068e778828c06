# lvsctl facts probe, services: keepalived, and the processes of the plan's services
# (src/probe/services.rs calls and reads these).
# shellcheck shell=sh

# keepalived_facts installed|version: whether keepalived is installed and, asked for, the first line of
# `keepalived --version` (about 0.2 s on a slow host: only where keepalived is managed).
keepalived_facts() {
  command -v keepalived >/dev/null 2>&1 || return 0
  rec keepalived installed
  [ "$1" = version ] || return 0
  rec keepalived version "$(keepalived --version 2>&1 | head -n 1)"
}

# processes NAME...: every process whose name (its `comm`) is a NAME, with its parent's pid.
processes() {
  for name; do
    set -- "$@" -e "$name"
    shift
  done
  grep -l -x -F "$@" /proc/[0-9]*/comm 2>/dev/null | while IFS= read -r c; do
    d=${c%/comm}
    n=
    q=
    { read -r n <"$c"; while read -r k v; do [ "$k" = PPid: ] && q=$v && break; done <"$d/status"; } 2>/dev/null
    rec proc "${d#/proc/}" "$q" "$n"
  done
}

# pidfile PATH: the pid keepalived wrote there (its parent's), when there is one.
pidfile() {
  v=
  { read -r v <"$1"; } 2>/dev/null
  [ -z "$v" ] || rec pidfile "$v"
}
