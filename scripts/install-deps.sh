#!/bin/sh
# Installs what mptrace needs to build (`install-deps.sh build`), to build
# and run its tests (`install-deps.sh test`) or to run them in QEMU guests
# on other kernels (`install-deps.sh kernel`, `make kernel-test`), when
# missing, on Debian or Ubuntu (apt-get). Elsewhere it lists what to install
# and goes on.
set -eu

# libmicrohttpd-dev: the --metrics endpoint (a hardened HTTP server mptrace does not write itself)
BUILD_PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libncurses-dev pkg-config libmicrohttpd-dev"
KERNEL_PKGS="qemu-system-x86 busybox-static"
TEST_PKGS="bats jq libxml2-utils tmux python3 python3-jsonschema python3-pytest python3-pytest-xdist libpython3.11-testsuite make gcc strace util-linux procps libclang-rt-14-dev chromium prometheus nodejs curl"
# The OTLP test decodes --otlp output with OpenTelemetry's own protobuf
# definitions (tests/70-fleet.bats): pinned, in build/node, never global.
NPM_PKGS="@opentelemetry/otlp-transformer@0.208.0 protobufjs@7.6.6"
NPM_DIR="${NPM_DIR:-build/node}"

# npm: Debian's package, unless a nodejs that ships its own (NodeSource) is there
npm_pkg() {
	command -v npm >/dev/null 2>&1 || echo npm
}

npm_modules() {
	[ "${1:-build}" = build ] && return 0
	[ -d "$NPM_DIR/node_modules/@opentelemetry/otlp-transformer" ] && return 0
	command -v npm >/dev/null 2>&1 || { echo "mptrace: npm is missing: the OTLP test needs it" >&2; return 1; }
	mkdir -p "$NPM_DIR"
	# shellcheck disable=SC2086
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error $NPM_PKGS >&2
}

missing=""
want="$BUILD_PKGS"
[ "${1:-build}" = test ] && want="$want $TEST_PKGS $(npm_pkg)"
[ "${1:-build}" = kernel ] && want="$want $TEST_PKGS $(npm_pkg) $KERNEL_PKGS"
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	npm_modules "${1:-build}"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "mptrace: not a Debian/Ubuntu system: install the equivalents of:$missing" >&2
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "mptrace: missing packages:$missing; run 'sudo make ...' to install them" >&2
	exit 1
fi
echo "mptrace: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
npm_modules "${1:-build}"
