# lvsctl facts probe, OS: which distribution (src/probe/os.rs calls and reads this).
# shellcheck shell=sh

# os_release: the ID and ID_LIKE lines of os-release.
os_release() {
  for o in "$ROOT/etc/os-release" "$ROOT/usr/lib/os-release"; do
    [ -r "$o" ] || continue
    while IFS= read -r l || [ -n "$l" ]; do
      case $l in ID=*|ID_LIKE=*) rec os "$l" ;; esac
    done <"$o"
    break
  done
}
