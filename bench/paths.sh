# bench/paths.sh: sourced by the bench scripts: where the tree, the mptrace
# to measure (MPTRACE) and the bench programs (BENCH_BIN) are.
src=${BASH_SOURCE[1]}
[[ $src == */* ]] || src=./$src
here=$(cd -- "${src%/*}" && pwd)
root=$(cd -- "$here/.." && pwd)
MPTRACE=${MPTRACE:-$root/build/mptrace}
BIN=${BENCH_BIN:-$root/build/bench}
