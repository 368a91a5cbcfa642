#!/bin/sh
# initramfs.sh MODULES_DIR OUT: a small initramfs that boots a Debian kernel
# far enough to mount the host's root over virtio-9p and run the guest tests.
# MODULES_DIR is the kernel's lib/modules/<version> (from its package, not
# the host's); the virtio and 9p modules and what they depend on are copied
# in (decompressed: busybox's insmod may lack xz), with the static busybox.
set -eu
moddir=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
want="virtio_pci 9pnet_virtio 9p"

bb=$(command -v busybox || true)
if [ -z "$bb" ] || ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
	# the guest has no libc until the host root is mounted
	for c in /bin/busybox /usr/bin/busybox; do
		[ -x "$c" ] && ldd "$c" 2>&1 | grep -q 'not a dynamic' && bb=$c && break
	done
fi
if [ -z "$bb" ]; then
	echo "mptrace: kernel-test: no static busybox: install busybox-static" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/mods" "$tmp/root/proc" "$tmp/root/sys" \
	"$tmp/root/dev" "$tmp/root/host"
cp "$bb" "$tmp/root/bin/busybox"
cp "$here/init" "$tmp/root/init"
chmod 0755 "$tmp/root/init"

# name -> file, for every module of the package
find "$moddir/kernel" -name '*.ko*' |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*/, "", n); gsub(/-/, "_", n); print n, $0 }' \
	> "$tmp/index"

modfile() {
	awk -v n="$(echo "$1" | tr - _)" '$1 == n { print $2; exit }' "$tmp/index"
}
# a module's .modinfo depends= line, from the (possibly compressed) file
moddeps() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -dcq "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1 | tr , ' '
}
# load order: dependencies first (depth first, each module once)
add() {
	local f d
	grep -qx "$1" "$tmp/order" 2>/dev/null && return 0
	# no module file: built into this kernel, nothing to load
	[ -n "$(modfile "$1")" ] || return 0
	for d in $(moddeps "$(modfile "$1")"); do
		add "$d"
	done
	f=$(modfile "$1")
	echo "$1" >> "$tmp/order"
	case $f in
	*.xz) xz -dc "$f" ;;
	*.zst) zstd -dcq "$f" ;;
	*.gz) gzip -dc "$f" ;;
	*) cat "$f" ;;
	esac > "$tmp/root/mods/$1.ko"
}
: > "$tmp/order"
for m in $want; do
	add "$m"
done
cp "$tmp/order" "$tmp/root/mods/order"

(cd "$tmp/root" && find . | "$bb" cpio -o -H newc 2>/dev/null) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
