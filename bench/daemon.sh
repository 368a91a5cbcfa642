#!/usr/bin/env bash
# bench/daemon.sh: mptrace daemon under load with its metrics endpoint
# scraped every second. `make bench` runs it last (BENCH_DAEMON=0 skips it).
# Not a test: it measures.
#
# Starts `mptrace daemon --metrics 127.0.0.1:PORT`, a scraper that GETs
# /metrics every second (latency measured by the client, from connect to
# the last byte), then forks DAEMON_N short-lived processes (forkstorm, in
# chunks of 10,000) for at most DAEMON_SECS seconds. The daemon's RSS and CPU
# come from its own process_* metrics. Output: a Markdown table on stdout.
#
# Environment:
#   DAEMON_N=1000000   processes forked
#   DAEMON_SECS=600    at most this long (the count reached is reported)
#   MPTRACE=path       the mptrace to measure (default: build/mptrace)
set -euo pipefail

. "$(dirname -- "${BASH_SOURCE[0]}")/paths.sh"
N=${DAEMON_N:-1000000}
SECS=${DAEMON_SECS:-600}
CHUNK=10000

die() { printf 'bench/daemon: %s\n' "$*" >&2; exit 1; }
for v in N SECS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "DAEMON_$v must be a whole number, not '${!v}'"
done
((N >= CHUNK)) || die "DAEMON_N must be at least $CHUNK"
((EUID == 0)) || die "run it as root: mptrace loads BPF programs (sudo make bench)"
[[ -x $MPTRACE && -x $BIN/forkstorm ]] || die "build first (make bench does)"
command -v python3 >/dev/null || die "python3 is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mptrace-daemon.XXXXXX")
DPID= SPID=
cleanup() {
	[[ -n $SPID ]] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	[[ -n $DPID ]] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$MPTRACE" daemon --metrics "127.0.0.1:$port" 2>"$tmp/daemon.err" &
DPID=$!
for _ in $(seq 300); do
	python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/metrics', timeout=1)" \
		2>/dev/null && break
	sleep 0.1
done

# one line a second: seconds latency_ms rss_bytes cpu_s tracked lost
python3 - "$port" >"$tmp/scrapes" <<'PY' &
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/metrics"
want = ("process_resident_memory_bytes", "process_cpu_seconds_total",
        "mptrace_tracked_processes", "mptrace_events_lost_total")
t0 = time.monotonic()
while True:
    start = time.monotonic()
    try:
        body = urllib.request.urlopen(url, timeout=10).read().decode()
    except Exception as e:
        print(f"{start - t0:.1f} error {e}", flush=True)
        time.sleep(1)
        continue
    lat = (time.monotonic() - start) * 1000
    v = {}
    for line in body.splitlines():
        k, _, val = line.partition(" ")
        if k in want:
            v[k] = val
    print(f"{start - t0:.1f} {lat:.2f} " + " ".join(v.get(k, "nan") for k in want), flush=True)
    time.sleep(max(0, 1 - (time.monotonic() - start)))
PY
SPID=$!
sleep 3
first=$(tail -n 1 "$tmp/scrapes")
start=$SECONDS
done_n=0
while ((done_n < N && SECONDS - start < SECS)); do
	"$BIN/forkstorm" "$CHUNK"
	done_n=$((done_n + CHUNK))
done
took=$((SECONDS - start))
sleep 3
last=$(tail -n 1 "$tmp/scrapes")
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=
kill -TERM "$DPID"; st=0; wait "$DPID" || st=$?; DPID=

python3 - "$tmp/scrapes" "$first" "$last" "$done_n" "$took" "$st" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if " error " not in l]
errs = sum(1 for l in open(sys.argv[1]) if " error " in l)
lat = sorted(float(r[1]) for r in rows)
f, l = sys.argv[2].split(), sys.argv[3].split()
n, took, st = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
mb = lambda b: f"{float(b) / 1e6:.1f} MB"
cpu = float(l[3]) - float(f[3])
print("| processes forked | s | scrapes (failed) | scrape p50 | p99 | max | RSS before | RSS after |"
      " CPU during the storm | per 1,000 processes | tracked after | events lost | exit |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
print(f"| {n:,} | {took} | {len(lat)} ({errs}) | {statistics.median(lat):.1f} ms | {p(0.99):.1f} ms |"
      f" {lat[-1]:.1f} ms | {mb(f[2])} | {mb(l[2])} | {cpu:.1f} s ({cpu / max(1, took) * 100:.0f}% of a core) |"
      f" {cpu / max(1, n) * 1000 * 1000:.1f} ms | {l[4]} | {int(float(l[5])):,} | {st} |")
PY
