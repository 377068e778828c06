# lvsctl history: the generations on this host, read-only (src/apply/history.rs reads it).
# shellcheck shell=sh
rec current "$(cat "$S/generation" 2>/dev/null || echo 0)"
for d in "$S"/generations/*; do
  [ -d "$d" ] || continue
  rec gen "${d##*/}" "$(cat "$d/status" 2>/dev/null || echo unknown)" "$(cat "$d/time" 2>/dev/null || echo -)" "$(cat "$d/holder" 2>/dev/null)"
done
rec end
