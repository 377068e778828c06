#!/usr/bin/env python3
"""Changes under load: each kind of planned change applied with `lvsctl apply` while clients
send requests through the router to the keepalived DR pair (the VM lab), and what they saw.

    sudo python3 benches/changes.py [--rate 60] [--concurrency 4] [--settle 8]

On a fresh VM lab (tests/vmlab/vmlab.sh) with playbooks/dr-keepalived-router.yml applied, one
change after the other, each from the state the previous one left:

    remove a real server, add it back, change weights, change the scheduler, add a service,
    remove it, change the health check (delay_loop, timeouts), change the VRRP advert
    interval and priorities; then, without a topology edit, `lvsctl drain --real-server
    web2` and `lvsctl undrain` (the drained server's long-lived connections must go on).

For each: a request loop (--rate requests/s in all, --concurrency clients, a new TCP connection
per request, 8 source addresses, 1 s timeout) runs `--settle` seconds before the apply, during
it, and `--settle` seconds after it returned, while --hold long-lived connections (a line a
second to the lab's TCP echo, service `echo` on port 7, forwarded by the router too) stay
open; reported: failed / sent, the failures that came after apply returned, the longest
outage, p99 latency of that run vs a run without a change, and the long-lived connections
broken. The goal (issue "Changes without dropped traffic") is 0 failed for every change and 0
long-lived connections broken, except those on a real server the change removes: they are cut
once its drain (`drain_timeout: 10` here) ends.

Needs root and User-Mode Linux. Leaves the VM lab down. Prints a markdown table.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from vmlab_common import BIN, INVENTORY, ROUTER_PLAYBOOK, SOURCES, TRAFFIC, VMLAB, build_release

BASE = ROUTER_PLAYBOOK


# The long-lived connections' service: the lab's TCP echo on port 7, forwarded by the router.
ECHO = ("  - name: echo\n    vip: 10.77.0.100\n    port: 7\n    protocol: tcp\n    mode: dr\n    scheduler: wlc\n"
        "    drain_timeout: 10\n    delay_loop: 6\n    check: { type: tcp, connect_timeout: 3, retry: 3, delay_before_retry: 3 }\n"
        "    real_servers:\n      - { host: web1, weight: 1 }\n      - { host: web2, weight: 1 }\nrouter:")


def base_topology():
    text = open(BASE).read().replace("inventory: ../inventories/lab.yml", "inventory: %s" % INVENTORY)
    text = text.replace("    persistence_timeout: 60\n", "    persistence_timeout: 60\n    drain_timeout: 10\n", 1)
    text = text.replace("router:", ECHO, 1)
    return text.replace("forwards: [ { port: 80, service: http } ]", "forwards: [ { port: 80, service: http }, { port: 7, service: echo } ]")


def edits():
    """(name, function from the previous topology text to the next)."""
    def sub(old, new, count=1):
        def f(t):
            if old not in t:
                sys.exit("changes.py: the topology lacks %r" % old)
            return t.replace(old, new, count)
        return f

    service_8080 = ("  - name: alt\n    vip: 10.77.0.101\n    port: 8080\n    protocol: tcp\n    mode: dr\n"
                    "    scheduler: rr\n    delay_loop: 6\n    check: { type: tcp, connect_timeout: 3, retry: 3, delay_before_retry: 3 }\n"
                    "    real_servers:\n      - { host: web1 }\n      - { host: web2 }\nrouter:")
    return [
        ("remove a real server (web2, from both services)", sub("      - { host: web2, weight: 1 }\n", "", 2)),
        ("add it back", sub("      - { host: web1, weight: 1 }\n", "      - { host: web1, weight: 1 }\n      - { host: web2, weight: 1 }\n", 2)),
        ("change weights (1:1 -> 3:1)", sub("      - { host: web1, weight: 1 }", "      - { host: web1, weight: 3 }")),
        ("change the scheduler (wlc -> wrr)", sub("    scheduler: wlc", "    scheduler: wrr")),
        ("add a service (VIP 10.77.0.101:8080)", sub("router:", service_8080)),
        ("remove that service", lambda t: t.replace(service_8080, "router:")),
        ("change the health check (delay_loop 6 -> 3, connect_timeout 3 -> 2)",
         lambda t: t.replace("    delay_loop: 6\n    check: { type: tcp, connect_timeout: 3", "    delay_loop: 3\n    check: { type: tcp, connect_timeout: 2", 1)),
        ("change VRRP advert_int (1 -> 2) and priorities (150/100 -> 200/100)",
         lambda t: t.replace("  advert_int: 1", "  advert_int: 2").replace("{ lvs1: 150, lvs2: 100 }", "{ lvs1: 200, lvs2: 100 }")),
    ]


class Loop:
    def __init__(self, rate, concurrency, hold):
        self.log = tempfile.mktemp(prefix="lvsctl-changes-", suffix=".log")
        self.p = subprocess.Popen(["ip", "netns", "exec", "vmlab-client", sys.executable, TRAFFIC, "--target", "10.77.9.2:80",
                                   "--duration", "600", "--rate", str(rate), "--concurrency", str(concurrency),
                                   "--sources", SOURCES, "--timeout", "1", "--log", self.log,
                                   "--hold", str(hold), "--hold-target", "10.77.9.2:7"], stdout=subprocess.PIPE, text=True)

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        out, _ = self.p.communicate()
        res = json.loads(out)
        reqs = []
        try:
            with open(self.log) as f:
                for line in f:
                    t, ok, what = line.split(" ", 2)
                    reqs.append((int(t), ok == "ok", what.strip()))
            os.unlink(self.log)
        except OSError:
            pass
        return res, reqs


def held(res):
    h = res.get("held")
    if not h:
        return "-"
    broken = h["broken"]
    if not broken:
        return "0 of %d" % h["opened"]
    return "%d of %d (%s)" % (len(broken), h["opened"], ", ".join("%s: %s" % (b["server"], b["why"]) for b in broken))


def lvsctl(*argv):
    """`lvsctl ARGV --yes`: (start, end, its plan summary line)."""
    t0 = time.time()
    p = subprocess.run([BIN, *argv, "-i", INVENTORY, "--yes", "--connect-timeout", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("lvsctl %s failed:\n%s%s" % (" ".join(argv), p.stdout, p.stderr))
    summary = re.findall(r"Plan: .*", p.stdout)
    return t0, time.time(), (summary[0] if summary else "")


def apply(topology):
    return lvsctl("apply", topology)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=60)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--settle", type=float, default=8.0)
    ap.add_argument("--hold", type=int, default=4, help="long-lived connections")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("changes.py needs root (the VM lab)")
    build_release()
    subprocess.run(["bash", VMLAB, "reset"], check=True, stderr=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="lvsctl-changes-")
    text = base_topology()
    path = os.path.join(work, "web.yml")
    open(path, "w").write(text)
    apply(path)
    time.sleep(a.settle)

    # A run without a change: the latency to compare with.
    lp = Loop(a.rate, a.concurrency, a.hold)
    time.sleep(2 * a.settle + 5)
    base, _ = lp.stop()
    rows = []
    # Each edit applied, then maintenance without a topology edit: drain web2, undrain it.
    steps = [(name, edit) for name, edit in edits()] + [
        ("drain a real server (`lvsctl drain --real-server web2`)", "drain"),
        ("undrain it (`lvsctl undrain --real-server web2`)", "undrain"),
    ]
    for name, edit in steps:
        if isinstance(edit, str):
            run = lambda: lvsctl(edit, path, "--real-server", "web2")
        else:
            text = edit(text)
            open(path, "w").write(text)
            run = lambda: apply(path)
        lp = Loop(a.rate, a.concurrency, a.hold)
        time.sleep(a.settle)
        t0, t1, plan = run()
        time.sleep(a.settle)
        res, reqs = lp.stop()
        late = sum(1 for t, ok, _ in reqs if not ok and t >= t1 * 1000)
        rows.append((name, res, late, t1 - t0, plan))
        print("%s: %d/%d failed (%d after apply returned), outage %.2f s, p99 %.0f ms, long-lived %s; %s"
              % (name, res["failed"], res["sent"], late, res["outage_s"], res["p99_ms"], held(res), plan), file=sys.stderr)
    print("Load: %d req/s from %d clients through the router (new TCP connection per request, 1 s timeout) and %d long-lived "
          "connections; p99 without a change: %.0f ms (%d requests, %d failed; long-lived %s).\n"
          % (a.rate, a.concurrency, a.hold, base["p99_ms"], base["sent"], base["failed"], held(base)))
    print("| change (`lvsctl apply`, or `drain`/`undrain`) | failed / sent | failed after lvsctl returned | longest outage s | p99 ms (no change: %.0f) | long-lived broken | lvsctl s |" % base["p99_ms"])
    print("|---|---:|---:|---:|---:|---|---:|")
    for name, res, late, took, _ in rows:
        print("| %s | %d / %d | %d | %.2f | %.0f | %s | %.1f |" % (name, res["failed"], res["sent"], late, res["outage_s"], res["p99_ms"], held(res), took))
    total = sum(r[1]["failed"] for r in rows)
    # Only a change that removes a real server may cut long-lived connections, and only those on it.
    cut = sum(len([b for b in r[1].get("held", {}).get("broken", []) if not (r[0].startswith("remove a real server") and b["server"] == "web2")]) for r in rows)
    ok = total == 0 and cut == 0
    print("\n%s: %d failed request(s) and %d long-lived connection(s) broken that should not be, over %d changes (goal: 0 and 0)"
          % ("PASS" if ok else "FAIL", total, cut, len(rows)))
    subprocess.run(["bash", VMLAB, "down"], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
