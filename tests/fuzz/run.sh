#!/usr/bin/env bash
# Builds the libFuzzer target with clang (ASan + UBSan) into build/fuzz/ and
# runs it for SECS seconds (default 60) over the seed corpus in
# tests/fuzz/corpus/ (read only: new inputs go to build/fuzz/corpus/).
# A crash leaves its input in build/fuzz/ and makes this script fail.
set -euo pipefail
secs="${1:-60}"
top="$(cd "$(dirname "$0")/../.." && pwd)"
out="$top/build/fuzz"
cc="${CLANG:-clang}"
mkdir -p "$out/corpus"
# The pure modules the target drives, as `mptrace report` does; a module
# the model starts to use joins by name here.
mods="record event ptree analyze forget deadlock out_json out_text out_svg out_perfetto timeline util"
srcs=""
for m in $mods; do
	[ -f "$top/user/$m.c" ] && srcs="$srcs $top/user/$m.c"
done
version="$(cat "$top/VERSION" 2>/dev/null || echo 0.1.0)"
echo "  FUZZ-CC  $out/fuzz_record"
# shellcheck disable=SC2086
"$cc" -g -O1 -std=gnu11 -D_GNU_SOURCE -DMPTRACE_VERSION="\"$version\"" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$top/bpf" -I"$top/user" -I"$top/build" \
	"$top/tests/fuzz/fuzz_record.c" $srcs -o "$out/fuzz_record" -lz -lm
echo "  FUZZ     ${secs}s over $top/tests/fuzz/corpus"
cd "$out"
exec ./fuzz_record -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
	-print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" "$top/tests/fuzz/corpus"
