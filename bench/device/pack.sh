#!/bin/sh
# Packs into .carry/ what bench/device/scaling.sh and bench/device/mapreduce.sh need on a machine
# that has no Node, no Go and no network (the 16-core device machine): this Node binary, the few
# packages the benches load, the compiled dist/, and static builds of the Go references. Run
# here, from a clone with `npm ci` done. About 34 MB, within the device's 64 MiB carry limit.
set -eu
cd "$(dirname "$0")/../.."
mkdir -p .carry
[ -s .carry/node.xz ] || xz -T2 -c "$(command -v node)" > .carry/node.xz
# gort's own dependencies, as npm lists them (comlink, esbuild, tsx: dist/ imports comlink, esbuild
# compiles a MapReduce job, tsx runs the benches from the sources); piscina, poolifier and
# tinybench are the scheduler bench's peers and timer, and @napi-rs/nice is piscina's optional
# thread-priority addon. dist/ is for `gort sched` and `gort mapreduce`, which run from the
# compiled output as users run them.
npm run build >/dev/null
deps=$(npm ls --omit=dev --all --parseable | tail -n +2 | sed "s|^$PWD/||")
# shellcheck disable=SC2086 # one path per word
tar -cJf .carry/modules.tar.xz $deps node_modules/piscina node_modules/@napi-rs node_modules/poolifier node_modules/tinybench dist
if command -v go >/dev/null 2>&1; then
  export CGO_ENABLED=0 GOFLAGS=-mod=mod GOCACHE="${GOCACHE:-/tmp/gort-go-cache}"
  (cd bench/go && go build -o ../../.carry/gosched ./sched)
  mkdir -p .carry/gowc
  for name in wc_map wc_bytes; do (cd bench/go && go build -o "../../.carry/gowc/$name" "$name.go"); done
  go version > .carry/gowc/version
else
  rm -rf .carry/gosched .carry/gowc
  echo 'pack: no go on the PATH: the device runs will have no Go reference' >&2
fi
du -sh .carry .carry/*
