# lvsctl drain: real servers the new configuration removes get weight 0 first, so IPVS sends
# them no new connection while those they have end; then the transaction removes them.
# (src/apply/script.rs calls these before a director's transaction.)
# shellcheck shell=sh

DRAINED=
# drain FLAG VIP RS FORWARD SERVICE: RS's weight in the service to 0 (with its forwarding
# method: an edit without one would make it DR); SERVICE as `ipvsadm -Ln` prints it.
drain() {
  if ipvsadm -e "$1" "$2" -r "$3" "$4" -w 0 2>/dev/null; then
    DRAINED="$DRAINED$5 $3;"
  else
    rec warn "drain: could not set $3 of $5 to weight 0 (gone already?)"
  fi
}

# drain_active: the active connections of the drained real servers, summed.
drain_active() {
  ipvsadm -Ln 2>/dev/null | awk -v want="$DRAINED" '
    BEGIN { n = split(want, w, ";"); for (i = 1; i <= n; i++) if (w[i] != "") k[w[i]] = 1 }
    $1 == "TCP" || $1 == "UDP" || $1 == "FWM" { svc = $1 " " $2; next }
    $1 == "->" && ((svc " " $2) in k) { sum += $5 }
    END { print sum + 0 }'
}

# drain_wait SECONDS: until no drained real server has an active connection, or SECONDS.
drain_wait() {
  [ -n "$DRAINED" ] || return 0
  left=$1
  while :; do
    a=$(drain_active)
    rec draining "$a"
    [ "$a" -gt 0 ] || return 0
    if [ "$left" -le 0 ]; then
      rec warn "drain: $a active connection(s) still open after $1 s: removed anyway"
      return 0
    fi
    sleep 1
    left=$((left - 1))
  done
}

# undrain FLAG VIP RS FORWARD WEIGHT: its weight back.
undrain() { ipvsadm -e "$1" "$2" -r "$3" "$4" -w "$5" 2>/dev/null || rec warn "undrain: could not give $3 of $2 its weight $5 back"; }
