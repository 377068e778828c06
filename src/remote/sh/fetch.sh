# lvsctl rollback: the record of generation $N, read-only (src/apply/history.rs reads it).
# shellcheck shell=sh
# shellcheck disable=SC2154 # N is set by the generated part before this library
f="$S/generations/$N/record.json"
if [ -r "$f" ]; then
  rec record "$N"
  base64 "$f"
else
  rec norecord "$N"
fi
rec end
