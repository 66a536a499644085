#!/bin/sh
# Packs into .carry/ what bench/device/scaling.sh needs on a machine that has no Node, no Go and no
# network (the 16-core device machine): this Node binary, the few packages the scheduler bench
# loads, the compiled dist/, and a static build of the Go reference. Run here, from a clone with
# `npm ci` done. About 30 MB, within the device's 64 MiB carry limit.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p .carry
[ -s .carry/node.xz ] || xz -T2 -c "$(command -v node)" > .carry/node.xz
# tsx (and its esbuild) runs the bench from the sources; piscina, poolifier and tinybench are the
# bench's peers and timer. @napi-rs/nice is piscina's optional thread-priority addon. dist/ is
# for `gort sched`, which runs from the compiled output as users run it.
npm run build >/dev/null
tar -cJf .carry/modules.tar.xz node_modules/tsx node_modules/esbuild node_modules/@esbuild/linux-x64 \
  node_modules/piscina node_modules/@napi-rs node_modules/poolifier node_modules/tinybench dist
if command -v go >/dev/null 2>&1; then
  (cd bench/go && CGO_ENABLED=0 GOFLAGS=-mod=mod GOCACHE="${GOCACHE:-/tmp/gort-go-cache}" go build -o ../../.carry/gosched ./sched)
else
  rm -f .carry/gosched
  echo 'pack: no go on the PATH: the device run will have no Go reference' >&2
fi
du -sh .carry .carry/*
