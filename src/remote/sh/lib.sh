# lvsctl remote library: what every remote script shares (embedded by src/remote/mod.rs).
# The caller has set ROOT (empty on a real host), PATH and S (the state directory).
# shellcheck shell=sh

# rec KIND ARGS...: one record of the protocol (src/remote/protocol.rs).
rec() { printf '@@lvsctl %s\n' "$*"; }
