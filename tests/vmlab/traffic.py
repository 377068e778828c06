#!/usr/bin/env python3
"""Client traffic for the VM lab: requests to a service, counted by the real server that answered.

Run from the lab's client (outside the cluster):
    ip netns exec vmlab-client python3 tests/vmlab/traffic.py --target 10.77.9.2:80 --count 200
An IPv6 target is written [fd77::100]:80 (fd77::100:80 works too: the port is after the last
colon); --sources must then be IPv6 addresses as well.

Every request is a new connection (TCP: `GET /` over HTTP/1.0, the lab web servers answer with
their host name; UDP: one datagram, the lab echo answers "<host> <payload>"), from the source
addresses given round-robin (persistence and source hashing see several clients). A request
fails on refusal, reset, timeout, a non-200 status or an empty answer: nothing is retried.

Prints one JSON object: counts per real server and per source, failures by kind, latency
percentiles, and the longest outage (from the first failed request of a run of failures to the
next success). --hold N --hold-target IP:PORT also keeps N long-lived connections to a line echo
(the lab's TCP echo on port 7), one line a second on each; a connection is broken by a reset,
an EOF or an echo not back within --hold-timeout (default --timeout: a long one lets TCP
retransmit across a director failover), and counted with the real server it was on. --log FILE writes one line per request ("EPOCH_MS ok SERVER" / "EPOCH_MS fail
KIND") so a test can count what failed after a given moment. Stdlib only; bounded by --count or
--duration, never endless; SIGTERM or SIGINT ends it early and it still prints its counts.
"""
import argparse
import json
import signal
import socket
import threading
import time


def endpoint(text):
    """`IP:PORT`, `[IPV6]:PORT` or `IPV6:PORT` -> (ip, port)."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError("expected [IPV6]:PORT, got %r" % text)
    else:
        host, _, port = text.rpartition(":")
    return host, int(port)


def family(target):
    """The socket family of an (ip, port) target: IPv6 literals have colons."""
    return socket.AF_INET6 if ":" in target[0] else socket.AF_INET


def one_tcp(target, source, timeout):
    s = socket.socket(family(target), socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect(target)
        s.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise ValueError("status " + status.decode(errors="replace"))
    name = body.decode(errors="replace").strip()
    if not name:
        raise ValueError("empty answer")
    return name


def one_udp(target, source, timeout, seq):
    s = socket.socket(family(target), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect(target)
        payload = b"lvsctl-%d" % seq
        s.send(payload)
        data = s.recv(2048)
    finally:
        s.close()
    name, _, echoed = data.partition(b" ")
    if echoed != payload:
        raise ValueError("bad echo")
    return name.decode(errors="replace")


def hold(target, source, timeout, stop, result):
    """One long-lived connection: a line a second until `stop`; result: server, lines, broken."""
    s = socket.socket(family(target), socket.SOCK_STREAM)
    s.settimeout(timeout)
    n = 0
    try:
        if source:
            s.bind((source, 0))
        s.connect(target)
        f = s.makefile("rb")
        while not stop.is_set():
            line = b"held-%d\n" % n
            s.sendall(line)
            got = f.readline()
            if not got:
                raise ConnectionResetError("EOF")
            name, _, echoed = got.partition(b" ")
            if echoed != line:
                raise ValueError("bad echo")
            result["server"] = name.decode(errors="replace")
            n += 1
            result["lines"] = n
            now_ms = int(time.time() * 1000)
            if "last_at_ms" in result:
                result["max_gap_ms"] = max(result.get("max_gap_ms", 0), now_ms - result["last_at_ms"])
            result["last_at_ms"] = now_ms
            stop.wait(1.0)
    except Exception as e:
        result["broken"] = kind_of(e)
        result["broken_at_ms"] = int(time.time() * 1000)
    finally:
        s.close()


def kind_of(err):
    if isinstance(err, socket.timeout):
        return "timeout"
    if isinstance(err, ConnectionRefusedError):
        return "refused"
    if isinstance(err, ConnectionResetError):
        return "reset"
    if isinstance(err, OSError):
        return "oserror:%s" % (err.strerror or err.errno)
    return "bad:%s" % err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, help="IP:PORT or [IPV6]:PORT")
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--count", type=int, default=0, help="requests in all (or --duration)")
    ap.add_argument("--duration", type=float, default=0.0, help="seconds to run")
    ap.add_argument("--rate", type=float, default=0.0, help="requests per second in all (0 = as fast as possible)")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--sources", default="", help="comma-separated source addresses, used round-robin")
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--log", default="")
    ap.add_argument("--until", default="", help="stop early once this real server has answered")
    ap.add_argument("--hold", type=int, default=0, help="long-lived connections to keep open meanwhile")
    ap.add_argument("--hold-target", default="", help="IP:PORT or [IPV6]:PORT of a line echo for --hold")
    ap.add_argument("--hold-timeout", type=float, default=0.0,
                    help="seconds a long-lived connection waits for its echo (default --timeout); longer lets TCP retransmit across a failover")
    a = ap.parse_args()
    if not a.count and not a.duration:
        ap.error("give --count or --duration")
    target = endpoint(a.target)
    sources = [s for s in a.sources.split(",") if s] or [None]

    lock = threading.Lock()
    seq = [0]
    records = []  # (start_epoch_ms, latency_ms, source, server or None, failure kind or None)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    t0 = time.time()
    deadline = t0 + a.duration if a.duration else None
    interval = a.concurrency / a.rate if a.rate else 0.0

    def worker():
        nxt = time.time()
        while True:
            with lock:
                if a.count and seq[0] >= a.count:
                    return
                n = seq[0]
                seq[0] += 1
            now = time.time()
            if stop.is_set() or (deadline and now >= deadline):
                return
            src = sources[n % len(sources)]
            start = time.time()
            try:
                name = one_udp(target, src, a.timeout, n) if a.udp else one_tcp(target, src, a.timeout)
                rec = (start * 1000, (time.time() - start) * 1000, src, name, None)
            except Exception as e:  # every failure is counted, none is retried
                rec = (start * 1000, (time.time() - start) * 1000, src, None, kind_of(e))
            with lock:
                records.append(rec)
            if a.until and rec[3] == a.until:
                stop.set()
            if interval:
                nxt += interval
                pause = nxt - time.time()
                if pause > 0:
                    stop.wait(pause)
                else:
                    nxt = time.time()

    held = [dict(server=None, lines=0, broken=None) for _ in range(a.hold)]
    held_threads = []
    if a.hold:
        hold_target = endpoint(a.hold_target)
        for i, r in enumerate(held):
            t = threading.Thread(target=hold, args=(hold_target, sources[i % len(sources)], a.hold_timeout or a.timeout, stop, r))
            t.start()
            held_threads.append(t)
    threads = [threading.Thread(target=worker) for _ in range(max(1, a.concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    elapsed = time.time() - t0
    stop.set()
    for t in held_threads:
        t.join((a.hold_timeout or a.timeout) + 2)

    records.sort()
    by_server, by_source, errors = {}, {}, {}
    lat = []
    gap_ms, run_start, fail_runs = 0.0, None, 0
    for start, ms, src, name, fail in records:
        if fail is None:
            by_server[name] = by_server.get(name, 0) + 1
            per = by_source.setdefault(src or "-", {})
            per[name] = per.get(name, 0) + 1
            lat.append(ms)
            if run_start is not None:
                gap_ms = max(gap_ms, start - run_start)
                run_start = None
        else:
            errors[fail] = errors.get(fail, 0) + 1
            if run_start is None:
                run_start = start
                fail_runs += 1
    if run_start is not None and records:
        gap_ms = max(gap_ms, records[-1][0] + records[-1][1] - run_start)
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(len(lat) * p))], 1) if lat else None

    failed = sum(errors.values())
    out = {
        "target": a.target,
        "protocol": "udp" if a.udp else "tcp",
        "sent": len(records),
        "ok": len(records) - failed,
        "failed": failed,
        "errors": errors,
        "by_server": by_server,
        "by_source": by_source,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "duration_s": round(elapsed, 2),
        "rate": round(len(records) / elapsed, 1) if elapsed else 0,
        "outage_s": round(gap_ms / 1000, 2),
        "failure_runs": fail_runs,
    }
    if a.hold:
        out["held"] = {
            "opened": sum(1 for r in held if r["lines"] > 0),
            "survived": sum(1 for r in held if r["lines"] > 0 and r["broken"] is None),
            "broken": [dict(server=r["server"], why=r["broken"], at_ms=r.get("broken_at_ms")) for r in held if r["broken"] is not None],
            # Each connection's last echoed line: a survivor of an event must have one after it.
            "last_at_ms": [r.get("last_at_ms") for r in held],
            # Each connection's longest time between two echoed lines (1 s when nothing stalled).
            "max_gap_ms": [r.get("max_gap_ms") for r in held],
        }
    if a.log:
        with open(a.log, "w") as f:
            for start, ms, src, name, fail in records:
                f.write("%d %s %s\n" % (start, "ok" if fail is None else "fail", name or fail))
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
