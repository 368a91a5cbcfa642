#!/usr/bin/env bash
# Regenerates the seed corpus from real runs (root and BPF needed): small
# recordings (.mpt, the reader's input) and their records uncompressed
# (.records, which the target writes through the real writer). Run it after
# a change of MPT_ABI_VERSION or of the file format: the reader refuses
# recordings of another version, and tests/50-record.bats replays these.
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
m="${MPTRACE:-$top/build/mptrace}"
ex="$top/build/examples"
c="$top/tests/fuzz/corpus"
rm -f "$c"/*.mpt "$c"/*.records
rec() {	# rec NAME [OPTIONS] -- COMMAND...
	local name="$1"
	shift
	"$m" -q --record "$c/$name.mpt" "$@" >/dev/null 2>&1 || true
}
rec sh_sleep -- sh -c 'sleep 0.05 & wait'
rec ticket_demo -- "$ex/ticket_demo" --delay 20
rec zombie_demo -- "$ex/zombie_demo" --sleep 0.3
rec orphan_demo -- "$ex/orphan_demo" --sleep 0.1
rec leak_killed --kill-leaks=0.2 -- sh -c 'sleep 5 & exit 0'
rec signal -- sh -c 'sleep 5 & kill -TERM $!; wait'
python3 - "$c" <<'PYEOF'
import glob, struct, sys, zlib
for f in glob.glob(sys.argv[1] + "/*.mpt"):
    d = open(f, "rb").read()
    off, raw = struct.unpack_from("<I", d, 12)[0], b""
    while off + 24 <= len(d):
        n = struct.unpack_from("<I", d, off + 4)[0]
        raw += zlib.decompress(d[off + 24:off + 24 + n])
        off += 24 + n
    open(f[:-4] + ".records", "wb").write(raw)
PYEOF
ls -l "$c"
