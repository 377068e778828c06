#!/usr/bin/env bash
# Benchmark of the offline compiler: generated topologies of 5,000 / 10,000 / 50,000
# real-server entries (headline: 500 services x 20 real servers over 1,000 hosts), each run
# through `lvsctl validate`, `lvsctl render --out DIR` (fresh dir on tmpfs) and
# `lvsctl plan --offline --json`. Prints a markdown table of median wall time and peak RSS,
# and PASS/FAIL against the targets (headline render < 300 ms and < 200 MB; linear growth).
# Every size runs in two YAML forms: `{ host: rsNNNN, weight: 1 }` (representative) and
# compact `{ host: rsNNNN }` (same output, fewer YAML nodes); 50,000 entries also over 5,000
# hosts (compact).
#
# Usage: benches/compile.sh [-n RUNS] [--no-build] [--quick] [--strict] [--sizes LIST]
#   -n RUNS      timed runs per command and size (default 5; the median is reported)
#   --no-build   use the existing target/release/lvsctl
#   --quick      only the 5,000 and 10,000 entry sizes
#   --strict     exit 1 when a target is missed or a command fails (default: report only)
#   --sizes LIST comma-separated SERVICES:RS_PER_SERVICE:HOSTS[:c], e.g. 500:20:1000,500:20:1000:c
# Runs from any directory; needs bash, cargo and python3 (stdlib only). Timing and RSS come
# from benches/measure.py (perf_counter + os.wait4 rusage of each child): finer than GNU
# time's 10 ms, and no dependency on /usr/bin/time being installed.
set -euo pipefail

runs=5
build=1
strict=()
sizes="250:20:1000,500:20:1000,2500:20:1000,250:20:1000:c,500:20:1000:c,2500:20:1000:c,2500:20:5000:c"
while [[ $# -gt 0 ]]; do
    case "$1" in
        -n|--runs) runs="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --quick) sizes="250:20:1000,500:20:1000,250:20:1000:c,500:20:1000:c"; shift ;;
        --strict) strict=(--strict); shift ;;
        --sizes) sizes="$2"; shift 2 ;;
        -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
        *) echo "compile.sh: unknown argument: $1 (see --help)" >&2; exit 1 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

if [[ $build == 1 ]]; then
    cargo build --release --quiet
fi
bin="$PWD/target/release/lvsctl"
[[ -x $bin ]] || { echo "compile.sh: $bin not found (build first, or drop --no-build)" >&2; exit 1; }

# Scratch on tmpfs so render measures the compiler, not the disk.
if [[ -d /dev/shm && -w /dev/shm ]]; then base=/dev/shm; else base="${TMPDIR:-/tmp}"; fi
work="$(mktemp -d "$base/lvsctl-bench.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT INT TERM

rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain -- src templates Cargo.toml Cargo.lock 2>/dev/null)" ]]; then rev="$rev+dirty"; fi
echo "## lvsctl offline compiler benchmark"
echo
echo "lvsctl $("$bin" --version | awk '{print $2}') (commit $rev), $(nproc) CPU(s), $(uname -m), python $(python3 -c 'import platform; print(platform.python_version())')"
echo
python3 "$here/measure.py" --bin "$bin" --work "$work" --runs "$runs" --sizes "$sizes" "${strict[@]}"
