#!/usr/bin/env python3
"""Benchmark runner for benches/compile.sh (python3 stdlib only).

    measure.py --bin target/release/lvsctl --work TMPDIR [--runs N] [--sizes S:R:H[:c],...]

A size is services:real-servers-per-service:hosts, with `:c` for the compact YAML form
(gen_topology.py --compact: `weight: 1` omitted, same rendered output). For each size it generates a topology with benches/gen_topology.py under TMPDIR, then runs
`lvsctl validate`, `lvsctl render --out <fresh dir>` and `lvsctl plan --offline --json`
N times each (after one untimed warm-up), measuring every child process on its own:
wall time with time.perf_counter() around spawn..reap, peak RSS from os.wait4()'s rusage
(ru_maxrss, KiB on Linux) for exactly that child. Medians are reported as a markdown table.
A command that fails is reported in the table (with its first error line) and the run goes on.
Exit status: 0; with --strict, 1 when a target is missed or a command failed.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# services:real servers per service:hosts[:c]. The headline is 500 x 20 over 1,000 hosts in
# the explicit form; linearity is judged on the compact rows (one YAML form for all sizes).
DEFAULT_SIZES = ("250:20:1000,500:20:1000,2500:20:1000,"
                 "250:20:1000:c,500:20:1000:c,2500:20:1000:c,2500:20:5000:c")
HEADLINE = (500, 20, 1000)
TARGET_MS = 300.0
TARGET_MB = 200.0
# "Linear": per-entry cost at the largest size at most this many times the cost at the
# smallest (fixed start-up cost makes small sizes look *more* expensive per entry, not less).
LINEAR_SLACK = 1.5


def run_once(argv, stdout_path, stderr_path):
    """Run argv; return (wall_ms, maxrss_kib, exit_code)."""
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped above; keep Popen consistent
    return (t1 - t0) * 1000.0, ru.ru_maxrss, p.returncode


def first_error(stdout_path, stderr_path):
    for path in (stderr_path, stdout_path):
        if path == os.devnull:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if "error" in line:
                    # Drop the scratch path prefix: keep `topology.yml:LINE:COL: error: ...`.
                    return line.strip().split("/")[-1]
    return "failed"


def bench_size(binary, work, runs, s, r, h, compact):
    tag = f"s{s}_r{r}_h{h}{'_c' if compact else ''}"
    gen_dir = os.path.join(work, tag)
    subprocess.run(
        [sys.executable, os.path.join(HERE, "gen_topology.py"), gen_dir,
         "--services", str(s), "--real-servers-per-service", str(r), "--hosts", str(h)]
        + (["--compact"] if compact else []),
        check=True, stderr=subprocess.DEVNULL)
    topo = os.path.join(gen_dir, "topology.yml")
    inv = os.path.join(gen_dir, "inventory.yml")
    out_file = os.path.join(work, f"{tag}.stdout")
    err_file = os.path.join(work, f"{tag}.stderr")
    devnull = os.devnull

    res = {"entries": s * r, "hosts": h, "files": None, "errors": {}}
    for cmd in ("validate", "render", "plan"):
        times, rss = [], []
        res[cmd + "_ms"] = None
        for i in range(runs + 1):  # run 0 is the warm-up, not counted
            stdout_path = out_file
            if cmd == "validate":
                argv = [binary, "validate", topo, "-i", inv]
            elif cmd == "render":
                out_dir = os.path.join(work, f"{tag}.render{i}")
                shutil.rmtree(out_dir, ignore_errors=True)
                argv = [binary, "render", topo, "-i", inv, "--out", out_dir]
            else:
                argv = [binary, "plan", topo, "-i", inv, "--offline", "--json"]
                stdout_path = devnull
            ms, kib, code = run_once(argv, stdout_path, err_file)
            if code != 0:
                res["errors"][cmd] = f"exit {code}: {first_error(stdout_path, err_file)}"
                sys.stderr.write(f"measure: {cmd} failed ({res['errors'][cmd]})\n")
                if cmd == "render":
                    shutil.rmtree(out_dir, ignore_errors=True)
                break
            if cmd == "render":
                if res["files"] is None:
                    with open(out_file, encoding="utf-8", errors="replace") as f:
                        words = f.read().split()
                    res["files"] = int(words[1]) if len(words) > 1 and words[0] == "wrote" else -1
                shutil.rmtree(out_dir, ignore_errors=True)  # outside the timed region
            if i > 0:
                times.append(ms)
                rss.append(kib)
        if cmd in res["errors"]:
            continue
        res[cmd + "_ms"] = statistics.median(times)
        res[cmd + "_ms_min"] = min(times)
        res[cmd + "_ms_max"] = max(times)
        res[cmd + "_mb"] = max(rss) / 1024.0  # peak over the runs (they barely differ)
    shutil.rmtree(gen_dir, ignore_errors=True)
    for path in (out_file, err_file):
        if os.path.exists(path):
            os.remove(path)
    return res


def per_k(ms, entries):
    return ms / (entries / 1000.0)


def errors_text(x):
    """Failed commands grouped by message: `validate, render, plan: exit 1: ...`."""
    by_msg = {}
    for cmd, err in x["errors"].items():
        by_msg.setdefault(err, []).append(cmd)
    return "; ".join(f"{', '.join(cmds)}: {err}" for err, cmds in by_msg.items())


def fmt(x, cmd, what):
    v = x.get(f"{cmd}_{what}")
    if v is None:
        return "error" if cmd in x["errors"] else "-"
    return f"{v:.0f}" if what in ("ms", "mb") else f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, help="scratch directory (tmpfs); left for the caller to remove")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help=f"S:R:H[:c],... (default {DEFAULT_SIZES})")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed or a command fails")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be >= 1")
    sizes = []
    for part in a.sizes.split(","):
        fields = part.strip().split(":")
        if len(fields) not in (3, 4) or (len(fields) == 4 and fields[3] != "c"):
            ap.error(f"bad size `{part}`: write SERVICES:RS_PER_SERVICE:HOSTS[:c]")
        sizes.append((int(fields[0]), int(fields[1]), int(fields[2]), len(fields) == 4))

    results = []
    for s, r, h, c in sizes:
        sys.stderr.write(f"measure: {s} x {r} over {h} hosts{' (compact)' if c else ''}, "
                         f"{a.runs} run(s) + 1 warm-up per command ...\n")
        results.append(((s, r, h, c), bench_size(a.bin, a.work, a.runs, s, r, h, c)))

    print(f"Median of {a.runs} run(s) per cell (1 warm-up discarded); peak RSS = max ru_maxrss over the runs; "
          f"render writes into a fresh directory on {fs_of(a.work)}.")
    print("YAML form: `weight: 1` = every real server written `{ host: rsNNNN, weight: 1 }` (5 YAML nodes); "
          "compact = `{ host: rsNNNN }` (3 nodes, renders identically).")
    print()
    print("| size (services x RS) | YAML form | RS entries | hosts | files written | validate ms | render ms | plan ms "
          "| peak MB (validate / render / plan) | ms per 1k entries (validate / render / plan) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for (s, r, h, c), x in results:
        e = x["entries"]
        for cmd in ("validate", "render", "plan"):
            if x[cmd + "_ms"] is not None:
                x[cmd + "_perk"] = per_k(x[cmd + "_ms"], e)
        head = " (headline)" if (s, r, h) == HEADLINE and not c else ""
        files = f"{x['files']:,}" if x["files"] is not None else "-"
        print(f"| {s:,} x {r}{head} | {'compact' if c else 'weight: 1'} | {e:,} | {h:,} | {files} "
              f"| {fmt(x, 'validate', 'ms')} | {fmt(x, 'render', 'ms')} | {fmt(x, 'plan', 'ms')} "
              f"| {fmt(x, 'validate', 'mb')} / {fmt(x, 'render', 'mb')} / {fmt(x, 'plan', 'mb')} "
              f"| {fmt(x, 'validate', 'perk')} / {fmt(x, 'render', 'perk')} / {fmt(x, 'plan', 'perk')} |")
        if x["errors"]:
            notes.append(f"{s:,} x {r} over {h:,} hosts ({'compact' if c else 'weight: 1'}): {errors_text(x)}")
    print()
    if notes:
        print("Errors:")
        for n in notes:
            print(f"- {n}")
        print()
    spread = []
    for (s, r, h, c), x in results:
        parts = [f"{cmd} {x[cmd + '_ms_min']:.0f}..{x[cmd + '_ms_max']:.0f}"
                 for cmd in ("validate", "render", "plan") if x[cmd + "_ms"] is not None]
        if parts:
            spread.append(f"{s}x{r}/{h}h{'/c' if c else ''}: " + ", ".join(parts))
    print("Spread (min..max ms): " + "; ".join(spread))
    print()

    verdicts = []  # (name, ok or None, detail, counts toward --strict)
    by_key = dict(results)
    head = by_key.get(HEADLINE + (False,))
    if head is None or head["render_ms"] is None:
        verdicts.append(("headline render (500 x 20 over 1,000 hosts)", False if head else None,
                         "failed" if head else "not measured (not in --sizes)", bool(head)))
    else:
        ms, mb = head["render_ms"], head["render_mb"]
        verdicts.append(("headline render time", ms < TARGET_MS, f"{ms:.0f} ms vs < {TARGET_MS:.0f} ms", True))
        verdicts.append(("headline render peak RSS", mb < TARGET_MB, f"{mb:.0f} MB vs < {TARGET_MB:.0f} MB", True))
        for cmd in ("validate", "plan"):
            if head[cmd + "_ms"] is None:
                continue
            ok = head[cmd + "_ms"] < TARGET_MS and head[cmd + "_mb"] < TARGET_MB
            verdicts.append((f"headline {cmd} (same targets, informational)", ok,
                             f"{head[cmd + '_ms']:.0f} ms, {head[cmd + '_mb']:.0f} MB", False))
    for (s, r, h, c), x in results:
        if x["errors"]:
            verdicts.append((f"{s * r:,} entries over {h:,} hosts ({'compact' if c else 'weight: 1'}) compiles", False,
                             errors_text(x), True))
    # Linearity: same YAML form and host count, smallest vs largest entry count; prefer the
    # compact rows (the only form that reaches 50,000 entries under the parser budget).
    for compact in (True, False):
        group = [(k, x) for k, x in results if k[3] == compact and k[2] == HEADLINE[2]
                 and all(x[cmd + "_ms"] is not None for cmd in ("validate", "render", "plan"))]
        if len(group) < 2:
            continue
        (k0, x0) = min(group, key=lambda t: t[1]["entries"])
        (k1, x1) = max(group, key=lambda t: t[1]["entries"])
        form = "compact" if compact else "weight: 1"
        for cmd in ("validate", "render", "plan"):
            c0, c1 = x0[cmd + "_perk"], x1[cmd + "_perk"]
            verdicts.append((f"linear {cmd} time, {x0['entries']:,} -> {x1['entries']:,} entries ({form})",
                             c1 <= LINEAR_SLACK * c0,
                             f"{c0:.1f} -> {c1:.1f} ms per 1k entries (x{c1 / c0:.2f}, limit x{LINEAR_SLACK})", True))
        for cmd in ("render", "plan"):
            m0, m1 = x0[cmd + "_mb"] / x0["entries"] * 1000, x1[cmd + "_mb"] / x1["entries"] * 1000
            verdicts.append((f"linear {cmd} memory, {x0['entries']:,} -> {x1['entries']:,} entries ({form})",
                             m1 <= LINEAR_SLACK * m0,
                             f"{m0:.2f} -> {m1:.2f} MB per 1k entries (x{m1 / m0:.2f}, limit x{LINEAR_SLACK})", True))
        break
    missed = False
    for name, ok, detail, counts in verdicts:
        mark = "n/a" if ok is None else ("PASS" if ok else "FAIL")
        print(f"- {mark}: {name}: {detail}")
        if ok is False and counts:
            missed = True
    return 1 if (a.strict and missed) else 0


def fs_of(path):
    """The filesystem type holding path, from /proc/mounts (longest matching mount point)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and (path == parts[1] or path.startswith(parts[1].rstrip("/") + "/")) and len(parts[1]) > len(best):
                    best, kind = parts[1], parts[2]
    except OSError:
        pass
    return f"{kind} ({best or path})"


if __name__ == "__main__":
    sys.exit(main())
