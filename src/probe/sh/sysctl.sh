# lvsctl facts probe, sysctls: runtime values, and the files that may set them at boot
# (src/probe/sysctl.rs calls and reads these; which file wins is decided there).
# shellcheck shell=sh

# sv PATH...: the first line of every sysctl, as PATH:VALUE lines in $SV, read by one grep.
# Not with the `read` builtin: dash reads a byte at a time, and the kernel answers a read of an
# integer sysctl at a nonzero offset with end-of-file, so `read` sees "2" for 2048 (found on
# the router's nf_conntrack_max). One grep for all keys, not a subshell per key.
sv() {
  SV=$(grep -s -H -m 1 '' "$@")
}

# s KEY PATH: a sysctl's runtime value from $SV; no such entry (e.g. the interface is absent)
# is `nosysctl`.
s() {
  case "
$SV" in
    *"
$2:"*)
      v="
$SV"
      v=${v#*"
$2:"}
      rec sysctl "$1" "${v%%"
"*}" ;;
    *) rec nosysctl "$1" ;;
  esac
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
