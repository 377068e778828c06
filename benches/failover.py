#!/usr/bin/env python3
"""Director failover with and without connection sync, under load, in the VM lab.

    sudo python3 benches/failover.py [--rounds 2] [--rate 40] [--hold 4]

On a fresh VM lab (tests/vmlab/vmlab.sh) with playbooks/dr-keepalived-router.yml plus a TCP
line-echo service on the VIP's port 7 (forwarded by the router too), applied once with
`vrrp.connection_sync: false` and once with `true`, --rounds times each:

    a request loop (--rate requests/s in all, 4 clients, a new connection per request, 8
    source addresses, 1 s timeout) and --hold long-lived connections (a line a second each,
    40 s for an echo to come back: TCP retransmits across the failover) run 5 s, then the
    MASTER VM loses power (its UML process killed); once the BACKUP holds the VIP, 5 s more;
    then the MASTER boots again and takes the VIP back (not measured).

Reported per mode: failed / sent new-connection requests and their outage (the VRRP gap:
3 x advert_int + skew, the same with or without sync); the long-lived connections that
survived, those broken (and how), and the longest stall of a survivor (from its last echo
before the power cut to its first after). The goal (issue "Changes without dropped traffic"):
with sync every long-lived connection survives; without it they break (the new MASTER has no
entry for them and its own TCP stack resets them).

Needs root and User-Mode Linux. Leaves the VM lab down. Prints a markdown table.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from vmlab_common import BIN, INVENTORY, ROUTER_PLAYBOOK, SOURCES, TRAFFIC, VMLAB, build_release, holds, wait

BASE = ROUTER_PLAYBOOK

ECHO = ("  - name: echo\n    vip: 10.77.0.100\n    port: 7\n    protocol: tcp\n    mode: dr\n    scheduler: rr\n"
        "    delay_loop: 6\n    check: { type: tcp, connect_timeout: 3, retry: 3, delay_before_retry: 3 }\n"
        "    real_servers:\n      - { host: web1 }\n      - { host: web2 }\nrouter:")


def topology(sync):
    text = open(BASE).read().replace("inventory: ../inventories/lab.yml", "inventory: %s" % INVENTORY)
    for need in ("router:", "forwards: [ { port: 80, service: http } ]", "  advert_int: 1\n"):
        if need not in text:
            sys.exit("failover.py: %s lacks %r" % (BASE, need))
    text = text.replace("router:", ECHO, 1)
    text = text.replace("forwards: [ { port: 80, service: http } ]", "forwards: [ { port: 80, service: http }, { port: 7, service: echo } ]")
    return text.replace("  advert_int: 1\n", "  advert_int: 1\n  connection_sync: %s\n" % ("true" if sync else "false"), 1)


def apply(text):
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(text)
    p = subprocess.run([BIN, "apply", f.name, "-i", INVENTORY, "--yes", "--no-drain"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.unlink(f.name)
    if p.returncode != 0:
        sys.exit("apply failed:\n" + p.stdout)


def power_cut(rate, hold):
    loop = subprocess.Popen(["ip", "netns", "exec", "vmlab-client", sys.executable, TRAFFIC, "--target", "10.77.9.2:80",
                             "--duration", "600", "--rate", str(rate), "--concurrency", "4", "--sources", SOURCES,
                             "--timeout", "1", "--hold", str(hold), "--hold-target", "10.77.9.2:7", "--hold-timeout", "40"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(5)
    crashed = time.time() * 1000
    subprocess.run(["bash", VMLAB, "crash", "lvs1"], check=True, stderr=subprocess.DEVNULL)
    moved = wait(lambda: holds("lvs2"), 30)
    time.sleep(5)
    loop.send_signal(signal.SIGTERM)
    out, _ = loop.communicate()
    res = json.loads(out)
    # The MASTER back, for the next round.
    subprocess.run(["bash", VMLAB, "boot", "lvs1"], check=True, stderr=subprocess.DEVNULL)
    if wait(lambda: holds("lvs1") and not holds("lvs2"), 90) is None:
        sys.exit("lvs1 did not take the VIP back after its boot")
    time.sleep(3)
    return res, moved, crashed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rate", type=float, default=40)
    ap.add_argument("--hold", type=int, default=4)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("failover.py needs root (the VM lab)")
    build_release()
    subprocess.run(["bash", VMLAB, "reset"], check=True, stderr=subprocess.DEVNULL)
    rows, ok = [], True
    for sync in (False, True):
        apply(topology(sync))
        if wait(lambda: holds("lvs1"), 30) is None:
            sys.exit("lvs1 does not hold the VIP after the apply")
        time.sleep(3)
        for n in range(a.rounds):
            res, moved, crashed = power_cut(a.rate, a.hold)
            h = res["held"]
            stalls = [g / 1000 for g in h.get("max_gap_ms", []) if g is not None]
            survived = h["survived"]
            broken = h["broken"]
            rows.append((sync, n + 1, res, moved, h, stalls, broken))
            if (sync and (broken or survived != a.hold)) or (not sync and survived):
                ok = False
    subprocess.run(["bash", VMLAB, "down"], stderr=subprocess.DEVNULL)

    print("Power cut of the MASTER VM under load through the router (%g req/s, 4 clients, %d long-lived "
          "connections; advert_int 1), %d round(s) per mode:\n" % (a.rate, a.hold, a.rounds))
    print("| connection sync | round | failed / sent | outage s | VIP moved after s | long-lived survived | broken (how) | longest stall of a survivor s |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for sync, n, res, moved, h, stalls, broken in rows:
        how = ", ".join(sorted(set(b["why"] for b in broken))) or "-"
        print("| %s | %d | %d / %d | %.1f | %s | %d of %d | %d (%s) | %s |" % (
            "on" if sync else "off", n, res["failed"], res["sent"], res["outage_s"], "%.1f" % moved if moved is not None else "never",
            h["survived"], h["opened"], len(broken), how, "%.1f" % max(stalls) if stalls and h["survived"] else "-"))
    print()
    print("%s: with connection sync every long-lived connection survived the failover, without it none did"
          % ("PASS" if ok else "FAIL"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
