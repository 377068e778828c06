#!/usr/bin/env python3
"""lvsctl against the VM lab (real kernels with IPVS): SSH cost against its floor, and failover.

    sudo python3 benches/vmlab.py [--runs N] [--failovers N] [--skip-failover]

On a fresh VM lab (tests/vmlab/vmlab.sh: gw, lvs1, lvs2, web1, web2 as User-Mode Linux VMs)
with the DR pair behind the router (playbooks/dr-keepalived-router.yml) applied:

1. SSH cost, median of --runs after a warm-up, alternating:
   floor:  OpenSSH `ssh HOST true` to every host at once (connect + key exchange + auth + one
           exec: the least any tool can do per host);
   plan:   `lvsctl plan` (release build), every host, converged cluster;
   apply:  `lvsctl apply --yes` with nothing to change (probe + diff, nothing touched).
   Target (issue "A lab of VMs with real IPVS"): plan and no-op apply within 0.5x-1.0x of the floor.
2. Failover under traffic (4 clients, 40 requests/s in all, new connection per request,
   through the router), --failovers times each:
   - kill -9 of the MASTER's keepalived, then keepalived started again (failback);
   - power cut of the MASTER VM, then the VM booted again (keepalived starts at boot, failback).
   For each: failed requests of sent, and the outage (first failure of a run to the next
   success) in seconds. VRRP's own floor is 3 x advert_int (+ skew) for the power cut.

Needs root and User-Mode Linux. Leaves the VM lab down.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

from vmlab_common import BIN, INVENTORY, REPO, ROUTER_PLAYBOOK, SOURCES, TRAFFIC, VMLAB, build_release, holds, vm, wait

PLAYBOOK = ROUTER_PLAYBOOK
HOSTS = {"gw": "10.77.0.2", "lvs1": "10.77.0.11", "lvs2": "10.77.0.12", "web1": "10.77.0.21", "web2": "10.77.0.22"}


def sh(*argv, **kw):
    return subprocess.run(list(argv), check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw).stdout


def timed(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    ms = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(argv), p.stderr.decode()))
    return ms


def floor():
    key = os.path.join(REPO, ".lab", "id_ed25519")
    kh = os.path.join(REPO, ".lab", "known_hosts")
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["ssh", "-F", "/dev/null", "-i", key, "-o", "UserKnownHostsFile=" + kh, "-o", "BatchMode=yes",
                               "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR", "root@" + ip, "true"],
                              stdin=subprocess.DEVNULL) for ip in HOSTS.values()]
    codes = [p.wait() for p in procs]
    if any(codes):
        sys.exit("ssh floor failed: %s" % codes)
    return (time.perf_counter() - t0) * 1000


class Loop:
    def __init__(self):
        self.p = subprocess.Popen(["ip", "netns", "exec", "vmlab-client", sys.executable, TRAFFIC, "--target", "10.77.9.2:80",
                                   "--duration", "600", "--rate", "40", "--concurrency", "4", "--sources", SOURCES,
                                   "--timeout", "1"], stdout=subprocess.PIPE, text=True)
        time.sleep(2)

    def stop(self):
        time.sleep(3)
        self.p.send_signal(signal.SIGTERM)
        out, _ = self.p.communicate()
        return json.loads(out)


def failover_round():
    rows = {}
    lp = Loop()
    vm("lvs1", "pkill -9 -x keepalived; true")
    took = wait(lambda: holds("lvs2"), 20)
    rows["kill -9 keepalived on the MASTER"] = (lp.stop(), took)
    lp = Loop()
    vm("lvs1", "systemctl start keepalived")
    took = wait(lambda: holds("lvs1") and not holds("lvs2"), 30)
    rows["failback: keepalived started again"] = (lp.stop(), took)
    lp = Loop()
    subprocess.run(["bash", VMLAB, "crash", "lvs1"], check=True, stderr=subprocess.DEVNULL)
    took = wait(lambda: holds("lvs2"), 20)
    rows["power cut of the MASTER VM"] = (lp.stop(), took)
    lp = Loop()
    t0 = time.time()
    subprocess.run(["bash", VMLAB, "boot", "lvs1"], check=True, stderr=subprocess.DEVNULL)
    took = wait(lambda: holds("lvs1") and not holds("lvs2"), 90)
    rows["failback: the MASTER VM booted again"] = (lp.stop(), None if took is None else time.time() - t0)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--failovers", type=int, default=3)
    ap.add_argument("--skip-failover", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("vmlab.py needs root (the VM lab)")
    build_release()
    t0 = time.time()
    subprocess.run(["bash", VMLAB, "reset"], check=True, stderr=subprocess.DEVNULL)
    up_s = time.time() - t0
    changed_ms = timed([BIN, "apply", PLAYBOOK, "-i", INVENTORY, "--yes"])
    wait(lambda: holds("lvs1"), 20)

    plan = [BIN, "plan", PLAYBOOK, "-i", INVENTORY]
    noop = [BIN, "apply", PLAYBOOK, "-i", INVENTORY, "--yes"]
    floor(), timed(plan), timed(noop)  # warm-up
    fl, pl, ap_ = [], [], []
    for _ in range(a.runs):
        fl.append(floor())
        pl.append(timed(plan))
        ap_.append(timed(noop))
    f, p, n = statistics.median(fl), statistics.median(pl), statistics.median(ap_)

    print("VM lab: 5 User-Mode Linux VMs (systemd, sshd, keepalived full mode) on this machine; "
          "fresh lab up in %.0f s; apply to the fresh lab (DR pair + router) %.1f s.\n" % (up_s, changed_ms / 1000))
    print("Median of %d runs after a warm-up:\n" % a.runs)
    print("| parallel `ssh HOST true` (floor) | `lvsctl plan` | no-op `lvsctl apply` | plan / floor | no-op apply / floor |")
    print("|---:|---:|---:|---:|---:|")
    print("| %.0f ms (%.0f..%.0f) | %.0f ms (%.0f..%.0f) | %.0f ms (%.0f..%.0f) | %.2fx | %.2fx |"
          % (f, min(fl), max(fl), p, min(pl), max(pl), n, min(ap_), max(ap_), p / f, n / f))
    print()
    for name, v in (("plan", p), ("no-op apply", n)):
        print("- %s: %s/floor = %.2fx (target 0.5x-1.0x)" % ("PASS" if v <= f else "FAIL", name, v / f))

    if not a.skip_failover:
        results = {}
        for _ in range(a.failovers):
            for k, v in failover_round().items():
                results.setdefault(k, []).append(v)
        print("\nFailover under traffic through the router (4 clients, 40 req/s, a new connection per request), "
              "%d rounds; advert_int 1:\n" % a.failovers)
        print("| event | failed / sent (each round) | outage s (each round) | VIP moved after s (median) |")
        print("|---|---|---|---:|")
        for k, runs in results.items():
            failed = ", ".join("%d/%d" % (r["failed"], r["sent"]) for r, _ in runs)
            outage = ", ".join("%.1f" % r["outage_s"] for r, _ in runs)
            moved = [t for _, t in runs if t is not None]
            print("| %s | %s | %s | %s |" % (k, failed, outage, "%.1f" % statistics.median(moved) if moved else "never"))
    subprocess.run(["bash", VMLAB, "down"], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
