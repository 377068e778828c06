# lvsctl facts probe, files: the plan's, the ones lvsctl managed last time, and the manifest
# (src/probe/files.rs calls and reads these).
# shellcheck shell=sh

# f PATH: a file's mode, owner and group, then its content in base64 (wrapped by busybox).
f() {
  if [ -f "$1" ]; then
    if [ -r "$1" ] && stat -L -c '@@lvsctl file %a %U %G %n' -- "$1" 2>/dev/null; then
      base64 <"$1" || rec unreadable "$1"
      echo
    else
      rec unreadable "$1"
    fi
  elif [ -e "$1" ]; then
    rec notfile "$1"
  else
    rec nofile "$1"
  fi
}

# listed LIST PROBED...: each absolute path in LIST (apply's plain list of the files lvsctl
# managed last time, one a line), probed with `f` unless it is one of PROBED (done already).
listed() {
  list=$1
  shift
  if [ -r "$list" ]; then
    while IFS= read -r m || [ -n "$m" ]; do
      case $m in /*) ;; *) continue ;; esac
      rec listed "$m"
      seen=
      for p; do [ "$p" != "$m" ] || seen=1; done
      [ -n "$seen" ] || f "$m"
    done <"$list"
  else
    rec nolist
  fi
}

# manifest PATH: apply's manifest in base64, when there is one.
manifest() {
  if [ -f "$1" ]; then
    rec manifest
    base64 <"$1"
    echo
  else
    rec nomanifest
  fi
}
