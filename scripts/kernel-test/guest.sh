#!/bin/bash
# Runs inside the kernel-test guest (see run.sh), as root, chrooted into the
# host's root: TAP lines naming the guest's kernel, to the console and to
# /run/results/tap.
repo=$1
kv=$(uname -r)
tap=/run/results/tap
n=0
: > "$tap"
emit() { printf '%s\n' "$*" | tee -a "$tap"; }
ok() { n=$((n + 1)); emit "ok $n - $kv: $*"; }
notok() { n=$((n + 1)); emit "not ok $n - $kv: $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

cd "$repo" || exit 1
M=$repo/build/mptrace
EX=$repo/build/examples
check "btf present" test -r /sys/kernel/btf/vmlinux
t() {
	timeout 120 "$M" -q --json /tmp/r.json -- sh -c 'sleep 0.1 & wait; exit 3'
	[ $? = 3 ] && [ "$(jq '.processes | length' /tmp/r.json)" = 2 ]
}
check "mptrace traces sh with a child" t
emit "# guest done: $n tests"
