#!/usr/bin/env python3
"""`lvsctl apply` over the lab against an equivalent ansible-playbook and the SSH floor.

    sudo python3 benches/apply_lab.py [--runs N] [--real-servers 2,20] [--venv DIR] [--strict]

For each lab size (tests/lab/lab.sh with LAB_REAL_SERVERS=N: gw, lvs1, lvs2 and N real
servers) and one topology (a keepalived DR pair lvs1/lvs2 with VRRP, one DR service with every
real server of the lab, the edge router gw), all in one run, N runs per cell after a warm-up:

  floor            OpenSSH `ssh HOST true` to every host at once (one process per host, all
                   started together, wall time until the last exits): connect + key exchange
                   + auth + one exec, the least any tool can do per host.
  lvsctl changed   `lvsctl apply TOPO --yes --forks 50` (release build) on a freshly reset
                   lab: probe, plan, then the per-host transactions (backup, write, validate
                   on the host with keepalived -t / iptables-restore --test, install, set the
                   sysctls, bind the VIPs, load the NAT chains, start keepalived, verify,
                   record), rolled out in stages: real servers, BACKUP, MASTER, router.
  lvsctl unchanged the same apply on the converged lab: probe and plan, "Nothing to do".
  ansible changed / unchanged
                   ansible-playbook of PLAYBOOK below, the same work: the files are first
                   rendered by `lvsctl render --out DIR`, so ansible's `copy` writes the very
                   same bytes with the same modes; then the same runtime state: the sysctls
                   of the host's sysctl.d file (before the VIP), the VIP on lo (label lo:0)
                   of the real servers, keepalived started (reloaded when its config changed
                   and it was already running), lvsctl's NAT chains on the router
                   (iptables-restore --noflush). Every runtime task checks first and reports
                   "changed" only when it changed something, so an unchanged run is a no-op
                   like lvsctl's. Equivalence is checked both ways, outside the timed
                   region: after ansible's changed run `lvsctl plan --detailed-exitcode` must
                   find nothing to change (same files byte for byte, modes, sysctls,
                   addresses, chains, keepalived running), and on the lab lvsctl converged
                   ansible must report changed=0 on every host. Every ansible run's PLAY
                   RECAP must say changed>0 on every host (changed) or changed=0 (unchanged);
                   every lvsctl run must exit 0, saying "Nothing to do" exactly when unchanged.

Why this is fair to ansible, i.e. its best case: gather_facts: false, pipelining on (the
project's notes measured it ~25% faster), forks >= hosts, one play with the linear strategy
(no staged rollout, no validation, no backups: less work than lvsctl does), each runtime
check-and-set as ONE shell task (not a check task plus a `when:` task), OpenSSH connection
multiplexing within a run (ControlMaster/ControlPersist, ansible's default; `-C` compression
dropped as it only costs CPU on a local link). Masters are closed after each run, so every
timed run of every tool starts without a connection, like the floor. Host keys are checked
(StrictHostKeyChecking=yes against .lab/known_hosts) for all three.

Changed runs need a fresh lab each: the lab is reset before each one, outside the timed
region. The floor and the unchanged runs alternate on one converged lab.

ansible-core comes from PyPI into a venv (default .lab/bench-venv, gitignored; reused when
it already has ansible-playbook); the install time is printed. The lab is shared: every use
of it holds an exclusive flock on /tmp/lvsctl-lab.lock (the integration tests take the same
lock), and the lab is left down. Needs root (the lab).

Targets: unchanged apply within 1.5x of the floor, and at least 10x faster than ansible's
unchanged run.
"""

import argparse
import fcntl
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(REPO, "tests", "lab", "lab.sh")
BIN = os.path.join(REPO, "target", "release", "lvsctl")
INVENTORY = os.path.join(REPO, ".lab", "inventory.yml")
KEY = os.path.join(REPO, ".lab", "id_ed25519")
KNOWN_HOSTS = os.path.join(REPO, ".lab", "known_hosts")
LOCK = "/tmp/lvsctl-lab.lock"
VIP = "10.77.0.100"
FORKS = 50

# The files each role gets from this topology (checked against the render, so the playbook
# cannot silently drift from what lvsctl writes).
SYSCTL_FILE = "/etc/sysctl.d/90-lvsctl.conf"
ROLE_FILES = {
    "directors": [SYSCTL_FILE, "/etc/keepalived/keepalived.conf"],
    "real_servers": [SYSCTL_FILE, "/etc/sysconfig/network-scripts/ifcfg-lo:0"],
    "routers": [SYSCTL_FILE, "/etc/lvsctl/router-nat.rules"],
}

# The ansible equivalent of `lvsctl apply` for this topology. `rendered` is
# `lvsctl render --out DIR`, so the files are byte-identical to lvsctl's (mode: preserve keeps
# the rendered modes: keepalived.conf and the NAT rules 0640, the rest 0644).
PLAYBOOK = r"""# Same end state as `lvsctl apply` of the benchmark topology (benches/apply_lab.py).
- name: LVS cluster
  hosts: all
  gather_facts: false
  vars:
    rendered: "{{ render_dir }}/{{ inventory_hostname }}"
  tasks:
    - name: sysctl.d file (every host)
      ansible.builtin.copy: { src: "{{ rendered }}/etc/sysctl.d/90-lvsctl.conf", dest: /etc/sysctl.d/90-lvsctl.conf, mode: preserve, owner: root, group: root }

    - name: parent directories Debian lacks (real servers, router)
      when: "'directors' not in group_names"
      ansible.builtin.file: { path: "{{ '/etc/lvsctl' if 'routers' in group_names else '/etc/sysconfig/network-scripts' }}", state: directory }

    - name: keepalived.conf (directors)
      when: "'directors' in group_names"
      ansible.builtin.copy: { src: "{{ rendered }}/etc/keepalived/keepalived.conf", dest: /etc/keepalived/keepalived.conf, mode: preserve, owner: root, group: root }
      notify: reload keepalived

    - name: ifcfg-lo:0 (real servers)
      when: "'real_servers' in group_names"
      ansible.builtin.copy: { src: "{{ rendered }}/etc/sysconfig/network-scripts/ifcfg-lo:0", dest: "/etc/sysconfig/network-scripts/ifcfg-lo:0", mode: preserve, owner: root, group: root }

    - name: NAT rules file (router)
      when: "'routers' in group_names"
      ansible.builtin.copy: { src: "{{ rendered }}/etc/lvsctl/router-nat.rules", dest: /etc/lvsctl/router-nat.rules, mode: preserve, owner: root, group: root }
      register: nat_rules

    # Runtime values of the sysctl file, set only where they differ (ARP sysctls before the VIP).
    - name: sysctls
      ansible.builtin.shell: |
        c=
        while IFS='=' read -r k v; do
          k=$(echo $k); v=$(echo $v)
          case $k in ''|'#'*) continue ;; esac
          [ "$(sysctl -n "$k")" = "$v" ] || { sysctl -q -w "$k=$v" || exit 1; c=1; }
        done < /etc/sysctl.d/90-lvsctl.conf
        [ -z "$c" ] || echo CHANGED
      register: sysctls
      changed_when: "'CHANGED' in sysctls.stdout"

    - name: VIP on lo (real servers)
      when: "'real_servers' in group_names"
      ansible.builtin.shell: ip -o -4 addr show dev lo | grep -q ' inet {{ vip }}/32 ' || { ip addr replace {{ vip }}/32 dev lo label lo:0 && echo CHANGED; }
      register: vip_addr
      changed_when: "'CHANGED' in vip_addr.stdout"

    - name: keepalived running (directors)
      when: "'directors' in group_names"
      ansible.builtin.shell: pidof keepalived >/dev/null || { service keepalived start </dev/null >/dev/null 2>&1 && echo CHANGED; }
      register: ka_start
      changed_when: "'CHANGED' in ka_start.stdout"

    - name: lvsctl's NAT chains loaded (router)
      when: "'routers' in group_names"
      ansible.builtin.shell: |
        if [ "{{ nat_rules.changed }}" = True ] || ! { iptables -t nat -C PREROUTING -j LVSCTL-PREROUTING && iptables -t nat -C POSTROUTING -j LVSCTL-POSTROUTING; } 2>/dev/null; then
          for c in LVSCTL-PREROUTING LVSCTL-POSTROUTING; do
            for p in PREROUTING POSTROUTING; do while iptables -t nat -D $p -j $c 2>/dev/null; do :; done; done
          done
          iptables-restore --noflush /etc/lvsctl/router-nat.rules && echo CHANGED
        fi
      register: nat_load
      changed_when: "'CHANGED' in nat_load.stdout"

  handlers:
    - name: reload keepalived
      when: not ka_start.changed
      ansible.builtin.shell: service keepalived reload </dev/null >/dev/null 2>&1
"""


# --- the lab -------------------------------------------------------------------------------

def lab_reset(n):
    """A lab with no state from earlier runs; returns its [(name, ip)]."""
    env = dict(os.environ, LAB_REAL_SERVERS=str(n))
    p = subprocess.run(["bash", LAB, "reset"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise SystemExit(f"lab reset failed:\n{p.stdout.decode()}")
    # The lab lists its hosts as "name ip" lines.
    with open("/run/lvslab/hosts.list") as f:
        return [tuple(line.split()[:2]) for line in f if line.strip()]


def lab_down():
    subprocess.run(["bash", LAB, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def topology(dirname, hosts):
    rs = [h for h, _ in hosts if h.startswith("web")]
    path = os.path.join(dirname, "bench.yml")
    with open(path, "w") as f:
        f.write(f"""cluster: bench
inventory: {INVENTORY}
directors: {{ hosts: [lvs1, lvs2], interface: eth0 }}
vrrp: {{ virtual_router_id: 51, auth_pass: s3cret }}
services:
  - name: http
    vip: {VIP}
    port: 80
    real_servers: [{', '.join('{ host: %s }' % h for h in rs)}]
router: {{ host: gw, public_ip: 10.77.9.2, internal_network: 10.77.0.0/24, forwards: [ {{ port: 80, service: http }} ] }}
""")
    return path


def role_of(host):
    return "directors" if host.startswith("lvs") else "routers" if host == "gw" else "real_servers"


def render(topo, out, hosts):
    """`lvsctl render --out` (ansible copies these files); check they are the playbook's."""
    shutil.rmtree(out, ignore_errors=True)
    p = subprocess.run([BIN, "render", topo, "--out", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise SystemExit(f"lvsctl render failed:\n{p.stdout.decode()}")
    for h, _ in hosts:
        root = os.path.join(out, h)
        got = sorted("/" + os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
        if got != sorted(ROLE_FILES[role_of(h)]):
            raise SystemExit(f"render of {h} has {got}, the playbook copies {ROLE_FILES[role_of(h)]}")


# --- measurements --------------------------------------------------------------------------

def floor(hosts):
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["ssh", "-i", KEY, "-o", f"UserKnownHostsFile={KNOWN_HOSTS}", "-o", "BatchMode=yes",
                               "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR", f"root@{ip}", "true"],
                              stdin=subprocess.DEVNULL) for _, ip in hosts]
    codes = [p.wait() for p in procs]
    ms = (time.perf_counter() - t0) * 1000
    if any(codes):
        raise SystemExit(f"ssh floor failed: {codes}")
    return ms


def lvsctl_apply(topo, expect_changed):
    """One `lvsctl apply`; exit 0 required, and "Nothing to do" exactly when unchanged."""
    t0 = time.perf_counter()
    p = subprocess.run([BIN, "apply", topo, "--yes", "--forks", str(FORKS), "--color", "never"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000
    out = p.stdout.decode()
    nothing = "Nothing to do" in out
    if p.returncode != 0 or nothing == expect_changed:
        raise SystemExit(f"lvsctl apply ({'changed' if expect_changed else 'unchanged'}) failed: exit {p.returncode}\n"
                         f"--- stdout\n{out}--- stderr\n{p.stderr.decode()}")
    return ms


class Ansible:
    """ansible-playbook of PLAYBOOK from a venv, configured for its best case."""

    def __init__(self, venv, work, render_dir, nhosts):
        self.bin = os.path.join(venv, "bin", "ansible-playbook")
        self.work = work
        self.playbook = os.path.join(work, "lvs.yml")
        with open(self.playbook, "w") as f:
            f.write(PLAYBOOK)
        self.render_dir = render_dir
        self.cp = os.path.join(work, "cp")  # ControlPath dir, emptied after every run
        os.makedirs(self.cp, exist_ok=True)
        self.env = dict(
            os.environ,
            ANSIBLE_HOME=os.path.join(work, "ansible-home"),
            ANSIBLE_FORKS=str(max(FORKS, nhosts)),
            ANSIBLE_PIPELINING="True",
            ANSIBLE_HOST_KEY_CHECKING="True",
            ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s",
            ANSIBLE_SSH_COMMON_ARGS=f"-o UserKnownHostsFile={KNOWN_HOSTS} -o StrictHostKeyChecking=yes",
            ANSIBLE_SSH_CONTROL_PATH_DIR=self.cp,
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="False",
        )

    def version(self):
        p = subprocess.run([self.bin, "--version"], stdout=subprocess.PIPE, check=True)
        return p.stdout.decode().splitlines()[0]

    def close_masters(self):
        """Close the ControlPersist masters so the next run starts without a connection."""
        for sock in os.listdir(self.cp):
            subprocess.run(["ssh", "-o", f"ControlPath={os.path.join(self.cp, sock)}", "-O", "exit", "x"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run(self, hosts, expect_changed):
        log = os.path.join(self.work, "ansible.log")
        with open(log, "wb") as out:
            t0 = time.perf_counter()
            p = subprocess.run([self.bin, "-i", INVENTORY, self.playbook,
                                "-e", "ansible_python_interpreter=/usr/bin/python3",
                                "-e", f"render_dir={self.render_dir}", "-e", f"vip={VIP}"],
                               env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
            ms = (time.perf_counter() - t0) * 1000
        self.close_masters()
        with open(log) as f:
            text = f.read()
        recap = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", text, re.M)}
        ok = p.returncode == 0 and set(recap) == {h for h, _ in hosts} and \
            all((c > 0) == expect_changed for c in recap.values())
        if not ok:
            raise SystemExit(f"ansible-playbook ({'changed' if expect_changed else 'unchanged'}) failed: exit "
                             f"{p.returncode}, changed per host {recap}\n{text}")
        return ms


def lvsctl_plan_clean(topo):
    """After ansible's run: does lvsctl see the same end state as its own apply would make?"""
    p = subprocess.run([BIN, "plan", topo, "--forks", str(FORKS), "--detailed-exitcode", "--color", "never"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise SystemExit(f"ansible's end state differs from lvsctl's (plan exit {p.returncode}):\n{p.stdout.decode()}")


def venv_with_ansible(venv):
    """ansible-core in a venv; returns (how, seconds)."""
    if os.path.exists(os.path.join(venv, "bin", "ansible-playbook")):
        return "reused", 0.0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--quiet", "ansible-core"], check=True)
    return "installed", time.perf_counter() - t0


# --- one lab size --------------------------------------------------------------------------

def measure_size(n, runs, tmp, venv):
    work = os.path.join(tmp, f"rs{n}")
    os.makedirs(work)
    hosts = lab_reset(n)
    topo = topology(work, hosts)
    rendered = os.path.join(work, "rendered")
    render(topo, rendered, hosts)
    ans = Ansible(venv, work, rendered, len(hosts))
    cells = {k: [] for k in ("floor", "lvsctl_changed", "lvsctl_unchanged", "ansible_changed", "ansible_unchanged")}

    # Changed: a fresh lab before every run (untimed); one warm-up each; the two tools alternate.
    for i in range(runs + 1):
        lab_reset(n)
        ms = ans.run(hosts, expect_changed=True)
        if i:
            cells["ansible_changed"].append(ms)
        else:
            lvsctl_plan_clean(topo)  # ansible did the same as lvsctl's apply would
        lab_reset(n)
        ms = lvsctl_apply(topo, expect_changed=True)
        if i:
            cells["lvsctl_changed"].append(ms)

    # Unchanged: the lab lvsctl just converged. The warm-ups check it both ways (lvsctl: nothing
    # to do; ansible: changed=0 on every host), then floor / lvsctl / ansible alternate.
    floor(hosts), lvsctl_apply(topo, expect_changed=False), ans.run(hosts, expect_changed=False)
    for _ in range(runs):
        cells["floor"].append(floor(hosts))
        cells["lvsctl_unchanged"].append(lvsctl_apply(topo, expect_changed=False))
        cells["ansible_unchanged"].append(ans.run(hosts, expect_changed=False))
    return n, len(hosts), cells, ans.version()


def cell(xs):
    return f"{statistics.median(xs):,.0f} ({min(xs):,.0f}..{max(xs):,.0f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per cell (after one warm-up), default 5")
    ap.add_argument("--real-servers", default="2,20", help="lab sizes (LAB_REAL_SERVERS), default 2,20")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--venv", default=os.path.join(REPO, ".lab", "bench-venv"),
                    help="venv for ansible-core (created when missing), default .lab/bench-venv")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("apply_lab.py needs root (network namespaces)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    how, secs = venv_with_ansible(a.venv)
    print(f"ansible-core venv {a.venv}: {how}" + (f" (pip install ansible-core took {secs:.1f} s)" if how == "installed" else ""))

    rows, version = [], None
    lock = os.open(LOCK, os.O_WRONLY | os.O_CREAT, 0o666)
    print(f"waiting for the lab lock {LOCK} ...", flush=True)
    fcntl.flock(lock, fcntl.LOCK_EX)
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="apply-lab-") as tmp:
            for n in [int(x) for x in a.real_servers.split(",")]:
                print(f"measuring {n} real servers ...", flush=True)
                *row, version = measure_size(n, a.runs, tmp, a.venv)
                rows.append(row)
    finally:
        lab_down()
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    print(f"lab held for {time.perf_counter() - t0:.0f} s; lab is down\n")

    print(f"{version}; pipelining on, gather_facts: false, forks {FORKS}, one linear play.")
    print(f"Median of {a.runs} runs after a warm-up (min..max); lab on this machine (network namespaces, "
          "loopback-speed links); changed = applied to a freshly reset lab.\n")
    print("| real servers | hosts | floor ms | lvsctl apply changed ms | lvsctl apply unchanged ms "
          "| ansible changed ms | ansible unchanged ms | unchanged lvsctl/floor | ansible/lvsctl (unchanged) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    med = statistics.median
    for n, h, c in rows:
        fl, lu, au = med(c["floor"]), med(c["lvsctl_unchanged"]), med(c["ansible_unchanged"])
        print(f"| {n} | {h} | {cell(c['floor'])} | {cell(c['lvsctl_changed'])} | {cell(c['lvsctl_unchanged'])} "
              f"| {cell(c['ansible_changed'])} | {cell(c['ansible_unchanged'])} | {lu / fl:.2f}x | {au / lu:.1f}x |")
    print()
    failed = False
    for n, h, c in rows:
        fl, lu, au = med(c["floor"]), med(c["lvsctl_unchanged"]), med(c["ansible_unchanged"])
        for ok, text in ((lu <= 1.5 * fl, f"unchanged apply {lu:,.0f} ms vs floor {fl:,.0f} ms = {lu / fl:.2f}x (target <= 1.5x)"),
                         (au >= 10 * lu, f"ansible unchanged {au:,.0f} ms vs lvsctl {lu:,.0f} ms = {au / lu:.1f}x (target >= 10x)")):
            failed |= not ok
            print(f"- {'PASS' if ok else 'FAIL'}: {n} real servers ({h} hosts): {text}")
    sys.exit(1 if failed and a.strict else 0)


if __name__ == "__main__":
    main()
