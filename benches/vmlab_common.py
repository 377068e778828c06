"""What the VM-lab benchmarks share (benches/vmlab.py, changes.py, failover.py): where the lab,
the traffic tool and the release binary are, the lab's addresses, and small helpers to ask a
VM something and wait for it."""

import os
import shutil
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VMLAB = os.path.join(REPO, "tests", "vmlab", "vmlab.sh")
TRAFFIC = os.path.join(REPO, "tests", "vmlab", "traffic.py")
BIN = os.path.join(REPO, "target", "release", "lvsctl")
# sudo's PATH may lack rustup's directory.
CARGO = shutil.which("cargo") or os.path.join(os.path.expanduser("~" + os.environ.get("SUDO_USER", "")), ".cargo", "bin", "cargo")
ROUTER_PLAYBOOK = os.path.join(REPO, "playbooks", "dr-keepalived-router.yml")
INVENTORY = os.path.join(REPO, "inventories", "vmlab.yml")
VIP = "10.77.0.100"
# The client's source addresses (persistence and source hashing see several clients).
SOURCES = ",".join("10.77.9.%d" % i for i in range(100, 108))


def build_release():
    subprocess.run([CARGO, "build", "--release", "--quiet"], cwd=REPO, check=True)


def vm(host, cmd):
    """(exit code, stdout) of `cmd` on the VM `host`."""
    p = subprocess.run(["bash", VMLAB, "ssh", host, cmd], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.returncode, p.stdout


def holds(host, vip=VIP):
    rc, out = vm(host, "ip -o -4 addr show")
    return rc == 0 and (" inet %s/" % vip) in out


def wait(pred, limit):
    """Seconds until `pred()` held, or None after `limit` seconds."""
    t0 = time.time()
    while time.time() - t0 < limit:
        if pred():
            return time.time() - t0
        time.sleep(0.2)
    return None
