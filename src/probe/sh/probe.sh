# lvsctl facts probe: reads this host's state and writes nothing. src/probe/mod.rs sends this,
# then each section's library (sh/*.sh next to this one) with its calls, and reads the records.
# The caller has set ROOT, PATH and S (src/remote/mod.rs) and defined `rec` (remote sh/lib.sh).
# shellcheck shell=sh
export LC_ALL=C

# need TOOL...: a `missing` record for each TOOL that is not on the PATH.
need() {
  for t; do
    command -v "$t" >/dev/null 2>&1 || rec missing "$t"
  done
}
