# lvsctl facts probe, sysctls: runtime values, and the files that may set them at boot
# (src/probe/sysctl.rs calls and reads these; which file wins is decided there).
# shellcheck shell=sh

# s KEY PATH: a sysctl's runtime value, read from /proc/sys with the `read` builtin (no
# subshell per key); no such entry (e.g. the interface is absent) is `nosysctl`.
s() {
  v=
  if { read -r v <"$2"; } 2>/dev/null || [ -n "$v" ]; then
    rec sysctl "$1" "$v"
  else
    rec nosysctl "$1"
  fi
}

# sysctl_files WORD... -- FILE...: each FILE that exists (a pattern that matched nothing does
# not), as the host names it (without $ROOT), and where it links to; then every line of them
# that mentions a WORD (the last component of a managed key), with its file's name.
sysctl_files() {
  # Rebuild the arguments as grep's: `-e WORD`..., `--`, then the files that exist. `for`
  # walks the original list while each pass shifts one original off the front.
  files=
  found=
  for a; do
    shift
    if [ -z "$files" ]; then
      if [ "$a" = -- ]; then
        files=1
        set -- "$@" --
      else
        set -- "$@" -e "$a"
      fi
      continue
    fi
    if [ -L "$a" ]; then
      rec sysctlfile "${a#"$ROOT"}"
      rec sysctllink "$(readlink -- "$a")"
    elif [ -e "$a" ]; then
      rec sysctlfile "${a#"$ROOT"}"
    else
      continue
    fi
    set -- "$@" "$a"
    found=1
  done
  [ -n "$found" ] || return 0
  grep -H -F "$@" 2>/dev/null | while IFS= read -r l; do
    rec sysctlline "${l#"$ROOT"}"
  done
}
