#!/usr/bin/env python3
"""Live `lvsctl plan` over the lab against the floor: plain parallel `ssh HOST true`.

    benches/plan_lab.py [--runs N] [--real-servers 2,20]

For each lab size (tests/lab/lab.sh with LAB_REAL_SERVERS=N: gw, lvs1, lvs2 and N real
servers), it brings the lab up fresh, then alternates, N runs each after one warm-up:
  floor: OpenSSH `ssh -o BatchMode=yes HOST true` to every host at once (one process per
         host, all started together, wall time until the last exits): connect + key
         exchange + auth + one exec, the least any tool can do per host;
  plan:  `lvsctl plan` (release build) of a keepalived DR pair + router with every real
         server in the lab: connect + auth + the one-exec probe + diffs, all hosts.
Reports medians and the ratio plan/floor (target: within 1.5x). Needs root (the lab).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(REPO, "tests", "lab", "lab.sh")
BIN = os.path.join(REPO, "target", "release", "lvsctl")


def lab_up(n):
    env = dict(os.environ, LAB_REAL_SERVERS=str(n))
    subprocess.run(["bash", LAB, "reset"], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The lab lists its hosts as "name ip" lines.
    with open("/run/lvslab/hosts.list") as f:
        hosts = [tuple(line.split()[:2]) for line in f if line.strip()]
    return hosts


def playbook(dirname, hosts):
    rs = [h for h, _ in hosts if h.startswith("web")]
    path = os.path.join(dirname, "bench.yml")
    with open(path, "w") as f:
        f.write(f"""cluster: bench
inventory: {os.path.join(REPO, '.lab', 'inventory.yml')}
directors: {{ hosts: [lvs1, lvs2], interface: eth0 }}
vrrp: {{ virtual_router_id: 51, auth_pass: s3cret }}
services:
  - name: http
    vip: 10.77.0.100
    port: 80
    real_servers: [{', '.join('{ host: %s }' % h for h in rs)}]
router: {{ host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ {{ port: 80, service: http }} ] }}
""")
    return path


def floor(hosts):
    key = os.path.join(REPO, ".lab", "id_ed25519")
    kh = os.path.join(REPO, ".lab", "known_hosts")
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["ssh", "-i", key, "-o", f"UserKnownHostsFile={kh}", "-o", "BatchMode=yes",
                               "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR", f"root@{ip}", "true"],
                              stdin=subprocess.DEVNULL) for _, ip in hosts]
    codes = [p.wait() for p in procs]
    ms = (time.perf_counter() - t0) * 1000
    if any(codes):
        sys.exit(f"ssh floor failed: {codes}")
    return ms


def plan(pb):
    t0 = time.perf_counter()
    p = subprocess.run([BIN, "plan", pb, "--forks", "50"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        sys.exit(f"lvsctl plan failed: {p.stderr.decode()}")
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--real-servers", default="2,20")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("plan_lab.py needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in a.real_servers.split(",")]:
            hosts = lab_up(n)
            pb = playbook(tmp, hosts)
            floor(hosts), plan(pb)  # warm-up (page cache, ARP)
            fl, pl = [], []
            for _ in range(a.runs):
                fl.append(floor(hosts))
                pl.append(plan(pb))
            rows.append((n, len(hosts), statistics.median(fl), statistics.median(pl), min(fl), max(fl), min(pl), max(pl)))
    subprocess.run(["bash", LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"Median of {a.runs} runs after a warm-up; lab on this machine (network namespaces, loopback-speed links).\n")
    print("| real servers | hosts | parallel `ssh HOST true` (floor) ms | `lvsctl plan` ms | plan / floor |")
    print("|---:|---:|---:|---:|---:|")
    for n, h, f, p, fmin, fmax, pmin, pmax in rows:
        print(f"| {n} | {h} | {f:.0f} ({fmin:.0f}..{fmax:.0f}) | {p:.0f} ({pmin:.0f}..{pmax:.0f}) | {p / f:.2f}x |")
    print()
    for n, h, f, p, *_ in rows:
        verdict = "PASS" if p <= 1.5 * f else "FAIL"
        print(f"- {verdict}: {n} real servers ({h} hosts): plan {p:.0f} ms vs floor {f:.0f} ms = {p / f:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
