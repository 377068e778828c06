#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what the tests need, then run them all.
# This is the README's test command, and exactly what CI runs (.ci/run).
#
# Tests that need root (network namespaces, real keepalived -t, iptables-restore) skip with
# a loud message when run as a normal user; under CI (CI set) they fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
need=()
for pair in keepalived:keepalived iptables-restore:iptables ip:iproute2 arping:iputils-arping \
            sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client busybox:busybox; do
    cmd=${pair%%:*} pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
        [[ " ${need[*]-} " == *" $pkg "* ]] || need+=("$pkg")
    fi
done
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "tests/run.sh: installing ${need[*]}"
        # Packages must not start their daemons on the runner (no systemd here, and a stray
        # keepalived in the root namespace would join the lab's VRRP).
        own_policy=
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
            own_policy=1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
        [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
    else
        echo "tests/run.sh: WARNING: missing ${need[*]} (install them as root); tests needing them will fail" >&2
    fi
fi

if [ -n "${CI:-}" ]; then
    export LVSCTL_REQUIRE_ROOT=1
fi
# The lab tests bring the lab of SSH hosts up (tests/lab/lab.sh); leave nothing behind.
if [ "$(id -u)" = 0 ]; then
    trap 'bash tests/lab/lab.sh down >/dev/null 2>&1 || true' EXIT
fi
unset RUST_BACKTRACE

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --no-fail-fast "$@"
else
    cargo test --no-fail-fast "$@"
fi
