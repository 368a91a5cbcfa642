# Shared by every bats file: `load helpers/common` in setup().
bats_require_minimum_version 1.5.0
# MPTRACE is the binary under test (make check passes the sanitized one).

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
MPTRACE="${MPTRACE:-$TOP/build/mptrace}"
EX="$TOP/build/examples"
SCHEMA="${MPTRACE_SCHEMA:-$TOP/docs/report.schema.json}"
PY=/usr/bin/python3
# Whatever the commands and demos make in $TMPDIR goes where bats removes it,
# even when mptrace kills them (tests/setup_suite.bash checks /tmp after a run).
export TMPDIR="$BATS_TEST_TMPDIR"
# ASan's leak checker cannot follow a forked child that execs; the rest of
# ASan/UBSan stays on, and a sanitizer report makes mptrace exit 99.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:exitcode=99:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}"

# BPF tests run for real as root. They may skip only when
# MPTRACE_REQUIRE_BPF is unset; .ci/run sets it, so a skip there fails.
require_bpf() {
	local why=""
	if [ "$(id -u)" != 0 ]; then
		why="not root"
	elif [ ! -r /sys/kernel/btf/vmlinux ]; then
		why="kernel without BTF"
	fi
	if [ -n "$why" ]; then
		if [ -n "${MPTRACE_REQUIRE_BPF:-}" ]; then
			echo "BPF is required (MPTRACE_REQUIRE_BPF=1) but unavailable: $why" >&2
			return 1
		fi
		skip "BPF unavailable: $why"
	fi
}

require_examples() {
	[ -x "$EX/ticket_demo" ] || { echo "build/examples missing: run make" >&2; return 1; }
}

# run_mptrace ARGS...: $status, $output (stdout) and $stderr, separately.
# A time limit (MPTRACE_TEST_TIMEOUT seconds, 180 unless set) turns a hang
# (a deadlock mptrace failed to break, a wait that never ends) into a
# failure, status 124, instead of a stalled run.
run_mptrace() {
	run --separate-stderr timeout -k 10 "${MPTRACE_TEST_TIMEOUT:-180}" "$MPTRACE" "$@"
}

# jqr FILE FILTER: jq -r over a report
jqr() {
	jq -r "$2" "$1"
}

validate_report() {
	"$PY" - "$SCHEMA" "$1" <<'PYEOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator(schema).validate(report)
PYEOF
}

# needs_kernel_feature NAME: the test needs the optional kernel feature NAME
# (the report's "features", docs/kernels.md). On a kernel without it the
# test fails saying so, not on an assertion that hides why.
needs_kernel_feature() {
	local f="$BATS_FILE_TMPDIR/features.json"

	[ -s "$f" ] || "$MPTRACE" -q --json "$f" -- true >/dev/null 2>&1
	if [ "$(jq -r ".features.$1" "$f" 2>/dev/null)" != true ]; then
		echo "this test needs the kernel feature $1 (docs/kernels.md), which $(uname -r) lacks" >&2
		return 1
	fi
}

# no_sanitizer_report: fail when ASan/UBSan printed anything
no_sanitizer_report() {
	if grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' <<<"${stderr:-}$output"; then
		echo "sanitizer report:" >&2
		echo "${stderr:-}" >&2
		return 1
	fi
}

# run_subreaped DELAY ARGS...: mptrace ARGS under tests/helpers/subreaper.py,
# which adopts and reaps (DELAY s after each look) what the command leaves;
# its pid is in $REAPER afterwards.
run_subreaped() {
	local delay=$1
	shift
	run --separate-stderr timeout -k 10 "${MPTRACE_TEST_TIMEOUT:-180}" \
		"$PY" "$TOP/tests/helpers/subreaper.py" \
		"$BATS_TEST_TMPDIR/reaper.pid" "$delay" -- "$MPTRACE" "$@"
	REAPER=$(cat "$BATS_TEST_TMPDIR/reaper.pid")
}

# bg_teardown: in teardown(), end the background processes a test started
# ($BG, pids) that a failed assertion left running; a -p test's children
# wait for $BATS_TEST_TMPDIR/go, which is created first.
bg_teardown() {
	local p

	touch "$BATS_TEST_TMPDIR/go"
	for p in ${BG:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}
