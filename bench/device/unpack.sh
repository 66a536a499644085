# Sourced by the device runs (scaling.sh, mapreduce.sh) from the repository root: puts the Node
# that bench/device/pack.sh packed on the PATH when the machine has none, unpacks the packages and
# dist/ unless they are here, and points the benches at the prebuilt Go binaries when there is no
# Go. Needs xz and tar, nothing else.
bindir="${HOME:-/tmp}/bin"
mkdir -p "$bindir"
if ! command -v node >/dev/null 2>&1; then
  xz -dc .carry/node.xz > "$bindir/node"
  chmod +x "$bindir/node"
  export PATH="$bindir:$PATH"
fi
[ -d node_modules/tsx ] && [ -d dist ] || tar -xJf .carry/modules.tar.xz
if ! command -v go >/dev/null 2>&1; then
  if [ -x .carry/gosched ]; then export GORT_GO_SCHED_BIN="$PWD/.carry/gosched"; fi
  if [ -x .carry/gowc/wc_bytes ]; then export GORT_GO_WC_DIR="$PWD/.carry/gowc"; fi
fi
