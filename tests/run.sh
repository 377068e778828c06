#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what the tests need, then run them all.
# This is the README's test command, and exactly what CI runs (.ci/run).
#
# Tests that need root (network namespaces, real keepalived -t, iptables-restore) skip with
# a loud message when run as a normal user; under CI (CI set) they fail instead of skipping.
#
# Two phases: everything but the VM lab first (fast, parallel), then tests/vm_lab.rs on its
# own (User-Mode Linux VMs with real IPVS, CPU-bound on a small machine: two labs side by side,
# each case taking one exclusively). Extra arguments go to one single run instead (e.g.
# `bash tests/run.sh --test offline cli::`).
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
need=()
for pair in keepalived:keepalived iptables-restore:iptables ip:iproute2 arping:iputils-arping \
            sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client busybox:busybox \
            ipvsadm:ipvsadm linux.uml:user-mode-linux uml_mconsole:uml-utilities insmod:kmod \
            mkfs.ext4:e2fsprogs /usr/bin/python3:python3 /lib/systemd/systemd:systemd \
            shellcheck:shellcheck sudo:sudo dnsmasq:dnsmasq-base ndisc6:ndisc6; do
    cmd=${pair%%:*} pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "$cmd" ]; then
        [[ " ${need[*]-} " == *" $pkg "* ]] || need+=("$pkg")
    fi
done
# Debian's python3 creates venvs (the ansible-inventory comparison test) only with python3-venv.
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s python3-venv >/dev/null 2>&1; then need+=(python3-venv); fi
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
# The lab tests bring the labs up (tests/lab/lab.sh, tests/vmlab/vmlab.sh); leave nothing behind.
if [ "$(id -u)" = 0 ]; then
    trap 'bash tests/lab/lab.sh down >/dev/null 2>&1 || true; bash tests/vmlab/vmlab.sh down >/dev/null 2>&1 || true; VMLAB_SLOT=1 bash tests/vmlab/vmlab.sh down >/dev/null 2>&1 || true' EXIT
fi
unset RUST_BACKTRACE

if ! cargo nextest --version >/dev/null 2>&1; then
    exec cargo test --no-fail-fast "$@"
fi
if [ "$#" -gt 0 ]; then
    exec cargo nextest run --no-fail-fast "$@"
fi
status=0
t0=$SECONDS
out=$(mktemp)
cargo nextest run --no-fail-fast -E 'not binary(vm_lab)' 2>&1 | tee "$out" || status=1
t1=$SECONDS
echo "tests/run.sh: everything but the VM lab took $((t1 - t0)) s; now the VM lab (tests/vm_lab.rs)"
# A VM-lab case that fails is run once more on a fresh lab (UML on 2 busy cores is timing-
# sensitive); nextest prints such a case as FLAKY with both attempts, so it never hides.
# Every case's output is kept (--success-output final): its `vmlab-figure` lines are the
# traffic figures the README reports.
# Two labs side by side (VMLAB_SLOTS, tests/common/vmlab.rs): a case waits on keepalived's and
# VRRP's clocks about half its time, which the other lab's case uses.
VMLAB_SLOTS=2 cargo nextest run --no-fail-fast --test-threads 2 --retries 1 --success-output final -E 'binary(vm_lab)' 2>&1 | tee -a "$out" || status=1
echo "tests/run.sh: the VM lab took $((SECONDS - t1)) s; the whole run $((SECONDS - t0)) s"
# One closing line for both phases, from nextest's two summaries.
awk '/Summary \[/ { for (i = 1; i <= NF; i++) { w = $i; sub(/,$/, "", w)
       if (w == "passed") p += $(i-1); if (w == "failed") f += $(i-1); if (w == "skipped") k += $(i-1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, k }' "$out"
rm -f "$out"
exit "$status"
