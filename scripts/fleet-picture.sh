#!/bin/bash
# Makes docs/zombie_gauge.svg from a real scrape: mptrace daemon, a
# Prometheus server scraping it every second, zombie_demo leaving zombies
# (3, then 5 more, then all reaped), and Prometheus's own range query.
# As root, after `make all`: bash scripts/fleet-picture.sh [OUT.svg]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/docs/zombie_gauge.svg}
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
until_ok() { for _ in $(seq 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

mport=$(port)
"$top/build/mptrace" daemon --metrics "127.0.0.1:$mport" 2>"$tmp/daemon.err" &
pids+=($!)
until_ok "http://127.0.0.1:$mport/metrics"
pport=$(port)
printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: mptrace\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
	"$mport" >"$tmp/prometheus.yml"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
until_ok "http://127.0.0.1:$pport/-/ready"
start=$(date +%s)
sleep 5
"$top/build/examples/zombie_demo" -n 3 --sleep 20 >/dev/null &
pids+=($!)
sleep 8
"$top/build/examples/zombie_demo" -n 5 --sleep 8 >/dev/null &
pids+=($!)
sleep 20
end=$(date +%s)
curl -sf --get "http://127.0.0.1:$pport/api/v1/query_range" \
	--data-urlencode 'query=sum by (comm) (mptrace_zombies{comm="zombie_demo"})' \
	--data-urlencode "start=$start" --data-urlencode "end=$end" --data-urlencode step=1 >"$tmp/range.json"
python3 "$top/scripts/zombie_gauge_svg.py" "$tmp/range.json" "$out" \
	'mptrace_zombies{comm="zombie_demo"}: 3 zombies, 5 more, each group reaped by its parent'
echo "wrote $out"
