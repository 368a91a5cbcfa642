#!/usr/bin/env bash
# Runs mptrace's kernel tests in QEMU guests: `make kernel-test`.
#
#   scripts/kernel-test/run.sh [KERNEL...]
#
# KERNEL is a Debian kernel series ("6.1", "6.12": the newest
# linux-image-<series>...-amd64 package) or an exact package name. Each
# package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`
# into build/kernels/ (the host's /boot is never touched). With
# KERNEL_IMAGE=vmlinuz and KERNEL_MODULES=.../lib/modules/<version> set, that
# kernel is run instead, from any source.
#
# The guest boots from a small initramfs (initramfs.sh), mounts the host's
# root read-only over virtio-9p and runs guest.sh as root against this
# repository's build. Results are TAP lines naming the kernel, then
# "N passed, N failed"; the exit status is 1 when anything failed.
#
# KT_ACCEL=tcg (default; KVM guests hang on the CI machines), KT_TIMEOUT
# seconds per kernel (default 1800), KT_MEM MiB (2048), KT_SMP (2).
# KT_CMD='build/mptrace -v -- true' runs that one command in the guest (as
# root, in the repository) instead of the tests, and prints what it printed:
# for a verifier log on a kernel the host does not run.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/scripts/kernel-test
kdir=$repo/build/kernels
accel=${KT_ACCEL:-tcg}
# Multi-threaded TCG (QEMU 7.2) runs a stale int3 after the guest kernel
# patches its own code on another vCPU: the guest oopses ("Oops: int3" in
# try_to_wake_up or __schedule) when a tracepoint's static key flips, which
# every mptrace attach and detach does. One host thread for all vCPUs keeps
# the guest's code coherent (KT_TCG_THREAD=multi to try the other).
if [ "$accel" = tcg ]; then
	accel_args=(-accel "tcg,thread=${KT_TCG_THREAD:-single}")
else
	accel_args=(-machine "accel=$accel")
fi
timeout_s=${KT_TIMEOUT:-1800}
total_pass=0
# the bats files run in each guest (KT_BATS, comma-separated, e.g. KT_BATS=10-cli.bats;
# none by default: 10-cli.bats once outran its 900 s limit in a 6.1 guest)
default_bats=
total_fail=0

say() { echo "kernel-test: $*" >&2; }

# newest installable package of a series; a full package name as is
package_for() {
	local want=$1 re names
	case $want in
	linux-image-*) echo "$want"; return 0 ;;
	esac
	re="^linux-image-${want//./\\.}[.-][0-9][0-9a-z.+~-]*-amd64\$"
	names=$(apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" | grep -vE -- '-(rt|cloud|dbg|unsigned)-' )
	if [ -z "$names" ]; then
		apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
		names=$(apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$re" | grep -vE -- '-(rt|cloud|dbg|unsigned)-')
	fi
	[ -n "$names" ] || return 1
	echo "$names" | sort -V | tail -n 1
}

# fetch and unpack PACKAGE; prints "IMAGE MODULES_DIR"
unpack() {
	local pkg=$1 dir=$kdir/$1 img mods
	if [ ! -d "$dir/lib/modules" ]; then
		mkdir -p "$kdir/deb" || return 1
		(cd "$kdir/deb" && apt-get download "$pkg" >&2 2>/dev/null) ||
			(cd "$kdir/deb" && apt-get download "$pkg" >&2) || return 1
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" &&
			dpkg-deb -x "$kdir"/deb/"${pkg}"_*.deb "$dir.tmp" && mv "$dir.tmp" "$dir" || return 1
		rm -f "$kdir"/deb/"${pkg}"_*.deb
	fi
	img=$(ls "$dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	mods=$(ls -d "$dir"/lib/modules/* 2>/dev/null | head -n 1)
	[ -n "$img" ] && [ -n "$mods" ] || return 1
	echo "$img $mods"
}

# boot IMAGE MODULES_DIR: run the guest tests, print their TAP lines
boot() {
	local img=$1 mods=$2 ver run
	ver=$(basename "$mods")
	run=$kdir/run-$ver
	rm -rf "$run" && mkdir -p "$run/results" || return 1
	[ -z "${KT_CMD:-}" ] || printf '%s\n' "$KT_CMD" > "$run/results/cmd"
	if ! sh "$here/initramfs.sh" "$mods" "$run/initramfs.gz"; then
		echo "not ok 1 - $ver: build the guest's initramfs"
		return 1
	fi
	local attempt
	for attempt in 1 2; do
		guest "$img" "$run" "$ver" > "$run/lines"
		[ -z "${KT_CMD:-}" ] || break
		grep -q '^# guest done' "$run/results/tap" 2>/dev/null && break
		[ "$attempt" = 1 ] || break
		# A guest that ends before its tests are done: an emulated boot
		# that failed (CI: 6.12 ended 8.5 s in, before any test), or a
		# guest that stopped mid-run (CI: 6.12 after 20 of 23 tests, 133 s
		# in; 23 of 23 on the next run here). Its lines and its console's
		# end are shown (visible in .ci/run's log), and it boots once
		# more: the second boot's results are the ones counted.
		say "$ver: the guest ended before its tests were done ($(grep -cE '^(not )?ok ' "$run/lines") test lines); they were:"
		sed 's/^/# first boot| /' "$run/lines"
		say "$ver: its console's end:"
		tail -n 30 "$run/console.log" | sed 's/^/# console| /'
		say "$ver: booting it once more"
		mv "$run/console.log" "$run/console-1.log"
		rm -rf "$run/results" && mkdir -p "$run/results" || return 1
	done
	cat "$run/lines"
	if [ -n "${KT_CMD:-}" ]; then
		cat "$run/results/out" 2>/dev/null
		grep -q '^# guest done' "$run/results/out" 2>/dev/null
		return
	fi
	if ! grep -q '^# guest done' "$run/results/tap" 2>/dev/null; then
		echo "not ok 999 - $ver: the guest ran to the end (qemu status $guest_rc; see $run/console.log)"
		tail -n 30 "$run/console.log" | sed 's/^/# console| /'
	fi
	return 0
}

# guest IMAGE RUNDIR VERSION: one boot; its TAP lines on stdout, the
# console in RUNDIR/console.log, qemu's status in guest_rc
guest() {
	local img=$1 run=$2 ver=$3 start first=0 line
	say "booting $ver ($accel)"
	: > "$run/console.log"
	start=$(date +%s.%N)
	timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
		"${accel_args[@]}" -cpu max -m "${KT_MEM:-2048}" -smp "${KT_SMP:-2}" \
		-kernel "$img" -initrd "$run/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1 mpt.repo=$repo mpt.bats=${KT_BATS-$default_bats}" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on" \
		-virtfs "local,path=$run/results,mount_tag=results,security_model=none" \
		-display none -serial stdio -monitor none -no-reboot </dev/null 2>&1 |
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >> "$run/console.log"
		case $line in
		"ok "* | "not ok "*)
			if [ "$first" = 0 ]; then
				first=1
				say "$ver: boot to first test $(since "$start") s"
			fi
			printf '%s\n' "$line" ;;
		"# "*) printf '%s\n' "$line" ;;
		esac
	done
	guest_rc=${PIPESTATUS[0]}
	say "$ver: guest ended after $(since "$start") s (qemu status $guest_rc)"
}

since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

count() {
	local f=$1 p n
	p=$(grep -cE '^ok [0-9]+' "$f")
	n=$(grep -cE '^not ok [0-9]+' "$f")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + n))
	echo "# $2: $p passed, $n failed"
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	say "qemu-system-x86_64 is missing: install qemu-system-x86 (scripts/install-deps.sh kernel)"
	exit 1
fi
if [ ! -x "$repo/build/mptrace" ]; then
	say "build/mptrace is missing: run make first"
	exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ -n "${KERNEL_IMAGE:-}" ] || [ -n "${KERNEL_MODULES:-}" ]; then
	if [ ! -r "${KERNEL_IMAGE:-}" ] || [ ! -d "${KERNEL_MODULES:-}/kernel" ]; then
		say "KERNEL_IMAGE must be a kernel image and KERNEL_MODULES its lib/modules/<version> folder"
		exit 2
	fi
	boot "$KERNEL_IMAGE" "$KERNEL_MODULES" | tee "$out"
	count "$out" "$(basename "$KERNEL_MODULES")"
else
	[ $# -gt 0 ] || set -- 6.1 6.12
	for k in "$@"; do
		if ! pkg=$(package_for "$k"); then
			echo "not ok 1 - $k: find a Debian kernel package for it" | tee "$out"
		elif ! r=$(unpack "$pkg"); then
			echo "not ok 1 - $k: download and unpack $pkg" | tee "$out"
		else
			boot ${r% *} ${r#* } | tee "$out"
		fi
		count "$out" "$k"
	done
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
