#!/usr/bin/env bats
# Beyond one machine (docs/fleet.md): mptrace daemon, the Prometheus endpoint
# scraped by a real Prometheus server, --metrics-file, and --otlp decoded with
# OpenTelemetry's own protobuf definitions.

setup() {
	load helpers/common
	require_bpf
	require_examples
	BG=""
	D="$BATS_TEST_TMPDIR"
	NODE_DIR="${MPTRACE_NODE_DIR:-$TOP/build/node}"
}

teardown() {
	local p
	for p in $BG; do
		kill -CONT "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# A TCP port nobody listens on now (tests run in parallel with other suites).
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: until it answers (the daemon or Prometheus started), 60 s at most.
wait_http() {
	local i
	for i in $(seq 600); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "$1 never answered" >&2
	return 1
}

# start_daemon ARGS...: mptrace daemon in the background on $MPORT; $DPID
# is mptrace's own pid (the test stops it; teardown kills what is left).
start_daemon() {
	MPORT=$(free_port)
	"$MPTRACE" daemon --metrics "127.0.0.1:$MPORT" "$@" >"$D/daemon.out" 2>"$D/daemon.err" &
	DPID=$!
	BG="$BG $DPID"
	wait_http "http://127.0.0.1:$MPORT/metrics"
}

# stop_daemon: SIGTERM; it must end by itself (60 s at most) with exit 0.
stop_daemon() {
	local st=0 i
	kill -TERM "$DPID"
	for i in $(seq 600); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DPID" 2>/dev/null && { echo "the daemon did not end on SIGTERM" >&2; return 1; }
	wait "$DPID" || st=$?
	BG=${BG/ $DPID/}
	[ "$st" -eq 0 ] || { echo "daemon exit $st:" >&2; cat "$D/daemon.err" >&2; return 1; }
}

# start_prometheus: a real server on 127.0.0.1:$PPORT scraping the daemon every second.
start_prometheus() {
	PPORT=$(free_port)
	cat >"$D/prometheus.yml" <<-YML
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: mptrace
	    static_configs:
	      - targets: ['127.0.0.1:$MPORT']
	YML
	timeout -k 10 300 prometheus --config.file="$D/prometheus.yml" --storage.tsdb.path="$D/tsdb" \
		--web.listen-address="127.0.0.1:$PPORT" >"$D/prometheus.log" 2>&1 &
	BG="$BG $!"
	wait_http "http://127.0.0.1:$PPORT/-/ready"
}

# prom_until QUERY JQ-CONDITION: queries Prometheus's HTTP API until the
# result satisfies the condition (90 s at most); the last answer in $answer.
prom_until() {
	local i
	for i in $(seq 180); do
		answer=$(curl -sf --get "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" || true)
		if [ -n "$answer" ] && jq -e "$2" <<<"$answer" >/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	echo "Prometheus never answered '$1' with $2; last: $answer" >&2
	return 1
}

@test "daemon: SIGTERM ends it with exit 0; findings are JSON lines as they are found" {
	start_daemon --findings-jsonl "$D/findings.jsonl" --zombie-threshold 200ms
	"$EX/zombie_demo" -n 3 --sleep 1.5 >/dev/null 2>&1
	# the three zombies passed 200 ms while their parent slept: told then, once each
	for i in $(seq 100); do
		[ "$(grep -c '"kind":"zombie"' "$D/findings.jsonl" 2>/dev/null)" -ge 3 ] && break
		sleep 0.1
	done
	stop_daemon
	[ ! -s "$D/daemon.out" ]
	run jq -s -e 'map(select(.kind == "zombie" and .comm == "zombie_demo")) | length == 3' "$D/findings.jsonl"
	[ "$status" -eq 0 ]
	# every line is one object with a time and a message
	run jq -e 'has("time_unix_ms") and (.message | type == "string")' "$D/findings.jsonl"
	[ "$status" -eq 0 ]
	run ! grep -q 'end of the trace' "$D/findings.jsonl"
	run ! grep -qE 'AddressSanitizer|runtime error' "$D/daemon.err"
}

@test "daemon: takes no command, refuses a stream; a bound port is exit 1" {
	run_mptrace daemon -- true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"takes no command"* ]]
	run_mptrace daemon -o "$D/x"
	[ "$status" -eq 2 ]
	run_mptrace daemon --metrics nowhere
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"ADDR:PORT"* ]]
	start_daemon
	run_mptrace daemon --metrics "127.0.0.1:$MPORT"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot serve metrics on 127.0.0.1:$MPORT"* ]]
	stop_daemon
}

@test "/metrics: every metric has HELP and TYPE; OpenMetrics on Accept ends with # EOF" {
	start_daemon --metrics-comms 3
	curl -sf -D "$D/h" "http://127.0.0.1:$MPORT/metrics" >"$D/m.txt"
	grep -qi '^content-type: text/plain; version=0.0.4' "$D/h"
	for m in mptrace_processes_started_total mptrace_process_exits_total mptrace_zombies \
		 mptrace_zombie_seconds mptrace_orphans_total mptrace_findings_total \
		 mptrace_lock_wait_seconds_total mptrace_deadlocks_total mptrace_events_lost_total \
		 mptrace_ring_buffer_bytes_used mptrace_tracked_processes mptrace_processes_gone_total \
		 process_resident_memory_bytes \
		 process_cpu_seconds_total process_start_time_seconds; do
		grep -q "^# HELP $m " "$D/m.txt" || { echo "no HELP for $m" >&2; return 1; }
		grep -q "^# TYPE $m " "$D/m.txt" || { echo "no TYPE for $m" >&2; return 1; }
		grep -q "^$m" "$D/m.txt"
		# and docs/fleet.md describes it
		grep -q "\`$m" "$TOP/docs/fleet.md" || { echo "$m is not in docs/fleet.md" >&2; return 1; }
	done
	# bounded labels: 3 comms and "other". A quiet machine forks little by
	# itself: forks by five programs (a child has its parent's name at fork)
	sh -c 'true & wait'
	timeout 5 true
	echo | xargs true
	"$PY" -c 'import os
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)'
	perl -e 'my $p = fork(); exit 0 if $p == 0; waitpid($p, 0)'
	for i in $(seq 100); do
		curl -sf "http://127.0.0.1:$MPORT/metrics" >"$D/m.txt"
		grep -q '^mptrace_processes_started_total{comm="other"}' "$D/m.txt" && break
		sleep 0.1
	done
	[ "$(grep -c '^mptrace_processes_started_total{' "$D/m.txt")" -eq 4 ]
	grep -q '^mptrace_processes_started_total{comm="other"}' "$D/m.txt"
	curl -sf -D "$D/h2" -H 'Accept: application/openmetrics-text; version=1.0.0' \
		"http://127.0.0.1:$MPORT/metrics" >"$D/m.om"
	grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$D/h2"
	[ "$(tail -n 1 "$D/m.om")" = "# EOF" ]
	grep -q '^# TYPE mptrace_processes_started counter' "$D/m.om"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nothing")" = 404 ]
	stop_daemon
}

@test "Prometheus scrapes the daemon: mptrace_zombies shows the zombies a test made" {
	command -v prometheus >/dev/null || { echo "prometheus is missing: scripts/install-deps.sh test" >&2; return 1; }
	start_daemon --metrics-comms 1000
	start_prometheus
	prom_until 'up{job="mptrace"}' '.data.result[0].value[1] == "1"'
	"$EX/zombie_demo" -n 4 --sleep 60 >/dev/null 2>&1 &
	ZPID=$!
	BG="$BG $ZPID"
	prom_until 'sum(mptrace_zombies{comm="zombie_demo"})' '(.data.result[0].value[1] // "0") | tonumber >= 4'
	# the reap is counted and the gauge falls back
	kill "$ZPID"
	wait "$ZPID" || true
	prom_until 'sum(mptrace_zombies{comm="zombie_demo"})' '.data.result[0].value[1] == "0"'
	stop_daemon
}

@test "Prometheus: mptrace_events_lost_total counts a forced ring-buffer overflow" {
	command -v prometheus >/dev/null || { echo "prometheus is missing: scripts/install-deps.sh test" >&2; return 1; }
	[ -x "$TOP/build/bench/forkstorm" ]
	start_daemon --ring-size 1 --no-locks
	start_prometheus
	prom_until 'mptrace_events_lost_total' '.data.result[0].value[1] == "0"'
	# the daemon stopped reading: 20,000 processes' events do not fit in 1 MiB
	kill -STOP "$DPID"
	"$TOP/build/bench/forkstorm" 20000
	kill -CONT "$DPID"
	prom_until 'mptrace_events_lost_total' '(.data.result[0].value[1] // "0") | tonumber > 0'
	stop_daemon
}

@test "--metrics-file: the run's metrics in textfile format, written by rename, not through a link" {
	echo keep >"$D/target"
	ln -s "$D/target" "$D/mptrace.prom"
	run_mptrace -q --metrics-file "$D/mptrace.prom" --zombie-threshold 100ms -- "$EX/zombie_demo" -n 2 --sleep 0.5
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[ "$(cat "$D/target")" = keep ]
	[ -f "$D/mptrace.prom" ] && [ ! -L "$D/mptrace.prom" ]
	# no temporary file left beside it
	[ "$(ls -A "$D" | grep -c '\.tmp$')" -eq 0 ]
	# the command itself was forked before tracing began: its 2 children
	grep -q '^mptrace_processes_started_total{comm="zombie_demo"} 2$' "$D/mptrace.prom"
	grep -q '^mptrace_process_exits_total{comm="zombie_demo",how="code"} 3$' "$D/mptrace.prom"
	grep -q '^mptrace_findings_total{kind="zombie"} 2$' "$D/mptrace.prom"
	grep -q '^mptrace_zombie_seconds_count 3$' "$D/mptrace.prom"
	# node_exporter has its own process_* metrics
	run ! grep -q '^process_' "$D/mptrace.prom"
}

@test "--otlp: OpenTelemetry's protobuf definitions decode it; a span per process, parents, attributes" {
	[ -f "$NODE_DIR/node_modules/@opentelemetry/otlp-transformer/package.json" ] ||
		{ echo "the npm package is missing in $NODE_DIR: scripts/install-deps.sh test" >&2; return 1; }
	run_mptrace -q --json "$D/r.json" --otlp "$D/o.json" --zombie-threshold 100ms -- \
		sh -c "sleep 0.1 & (sleep 0.05; exit 3) & $EX/zombie_demo -n 2 --sleep 0.3 >/dev/null; wait"
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[ "$(jq '.processes | length' "$D/r.json")" -ge 7 ]
	run node "$TOP/tests/helpers/otlp_check.js" "$NODE_DIR" "$D/o.json" "$D/r.json"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "ok "* ]]
	# the zombies' findings are span events with an error status
	[ "$(jq '[.resourceSpans[0].scopeSpans[0].spans[] | select(.events and .status.code == 2)] | length' "$D/o.json")" -eq 2 ]
}
