# lvsctl facts probe, OS: which distribution (src/probe/os.rs calls and reads this).
# shellcheck shell=sh

# os_release: the ID, ID_LIKE and VERSION_ID lines of os-release.
os_release() {
  for o in "$ROOT/etc/os-release" "$ROOT/usr/lib/os-release"; do
    [ -r "$o" ] || continue
    while IFS= read -r l || [ -n "$l" ]; do
      case $l in ID=*|ID_LIKE=*|VERSION_ID=*) rec os "$l" ;; esac
    done <"$o"
    break
  done
}
