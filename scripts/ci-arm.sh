#!/usr/bin/env bash
# The kit on a Raspberry Pi's CPUs, emulated (issue 26): arm64 and armv7 under qemu-user, each installed
# as agent/README.md "Raspberry Pi" tells a Pi user (Node from npm's node-linux-<arch> package, the packed
# tarball with `npm install -g --prefix … --ignore-scripts`; npm runs on the host with --cpu/--os, which is
# much faster than under emulation). Then, under emulation: `beepkit --help`, the EN key-schedule vector,
# the native serial and HCI bindings on a PTY pair made by socat on the host (scripts/native-probe.cjs), and
# `beepkit agent run` against `beepkit sim` on the host until /status shows both radios on, a GNSS fix and
# adverts heard (scripts/smoke/kit-smoke.mjs). The two architectures run side by side.
#   scripts/ci-arm.sh [arm64] [armv7l]
# Needs Debian's qemu-user-static, libc6-{arm64,armhf}-cross, libstdc++6-{arm64,armhf}-cross,
# libatomic1-armhf-cross and socat (.ci/run installs them). No binfmt_misc: `node` on PATH is a small qemu
# wrapper, so an emulated process that starts `node` starts it emulated too. Node and the tarball's
# dependencies are cached in $BEEPKIT_CI_CACHE (default tmp/ci-cache in the checkout, gitignored).
# Prints "ok/not ok" lines, the times, and tap's closing "# { total: N, pass: N, fail: N, skip: N }".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE_VERSION=20.11.0 # the kit's floor (engines) and npm's newest 32-bit ARM Node
CACHE=${BEEPKIT_CI_CACHE:-$ROOT/tmp/ci-cache}
PACK=${BEEPKIT_PACK_DIR:-$ROOT/tmp/pack}
ARCHES=("$@"); [ ${#ARCHES[@]} -gt 0 ] || ARCHES=(arm64 armv7l)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$CACHE" "$PACK"
t_start=$SECONDS
n=0; pass=0; fail=0; skip=0
check() { # ok(0|1) what [detail]
  n=$((n + 1))
  if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok $n - arm: $2${3:+ # $3}"; else fail=$((fail + 1)); echo "not ok $n - arm: $2${3:+ # $3}"; fi
}
add_counts() { # file with a "# { total: … }" line
  local s p f k
  s=$(grep -E '^# \{ total: ' "$1" | tail -1)
  p=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$s"); f=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$s"); k=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$s")
  [ -n "$s" ] || f=1
  n=$((n + ${p:-0} + ${f:-0} + ${k:-0})); pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${k:-0}))
}
finish() {
  echo "# arm stage: $((SECONDS - t_start)) s"
  echo "# { total: $n, pass: $pass, fail: $fail, skip: $skip }"
  [ "$fail" -eq 0 ]
  exit
}

missing=""
for c in qemu-aarch64-static qemu-arm-static socat; do command -v "$c" >/dev/null || missing="$missing $c"; done
for d in /usr/aarch64-linux-gnu/lib/libstdc++.so.6 /usr/arm-linux-gnueabihf/lib/libstdc++.so.6 /usr/arm-linux-gnueabihf/lib/libatomic.so.1; do
  [ -e "$d" ] || missing="$missing $d"
done
check $(( ${#missing} > 0 )) "emulators and cross libraries present" "${missing:+missing:$missing (apt-get install qemu-user-static libc6-arm64-cross libc6-armhf-cross libstdc++6-arm64-cross libstdc++6-armhf-cross libatomic1-armhf-cross socat)}"
[ -z "$missing" ] || finish

# the tarball: scripts/pack-check.sh's, else packed here
tgz=$(ls "$PACK"/beepkit-*.tgz 2>/dev/null | head -1)
if [ -z "$tgz" ]; then
  npm pack --silent --pack-destination "$PACK" >"$work/pack.log" 2>&1
  tgz=$(ls "$PACK"/beepkit-*.tgz 2>/dev/null | head -1)
fi
check $(( ${#tgz} == 0 )) "the packed tarball" "${tgz:-npm pack failed: $(tail -3 "$work/pack.log" 2>/dev/null | tr '\n' ' ')}"
[ -n "$tgz" ] || finish

# host x64 `beepkit` for the sim (the checkout's own, as a developer runs it)
host_bin="$ROOT/bin/beepkit.js"

one_arch() { # arch (arm64|armv7l) → writes $work/$arch.out
  local arch=$1 cpu qemu sysroot prefix nodeprefix t0 log
  log=$work/$arch.out
  case $arch in
    arm64) cpu=arm64; qemu=qemu-aarch64-static; sysroot=/usr/aarch64-linux-gnu ;;
    armv7l) cpu=arm; qemu=qemu-arm-static; sysroot=/usr/arm-linux-gnueabihf ;;
  esac
  say() { if [ "$1" = 0 ]; then echo "ok - $arch: $2${3:+ # $3}"; else echo "not ok - $arch: $2${3:+ # $3}"; fi >>"$log"; }
  # 1. Node for the Pi, from npm (agent/README.md "Raspberry Pi" step 2), cached per version (--force: npm
  # refuses a top-level package for another CPU; on the Pi itself the command needs no flag)
  nodeprefix="$CACHE/node-$arch-$NODE_VERSION"
  if [ ! -x "$nodeprefix/bin/node" ]; then
    npm install -g --prefix "$nodeprefix" --force --no-audit --no-fund --prefer-offline "node-linux-$arch@$NODE_VERSION" >"$work/$arch-node.log" 2>&1
  fi
  [ -x "$nodeprefix/bin/node" ]; say $? "Node $NODE_VERSION from npm (node-linux-$arch)" "$(tail -1 "$work/$arch-node.log" 2>/dev/null)"
  # the qemu wrapper: `node` on PATH
  mkdir -p "$work/$arch-bin"
  printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$(command -v $qemu)" "$sysroot" "$(readlink -f "$nodeprefix/bin/node")" >"$work/$arch-bin/node"
  chmod +x "$work/$arch-bin/node"
  # 2. the kit (step 3), resolved for this CPU by the host's npm
  prefix="$work/$arch-prefix"
  t0=$SECONDS
  (mkdir -p "$work/$arch-clean" && cd "$work/$arch-clean" && npm install -g --prefix "$prefix" --cpu="$cpu" --os=linux --libc=glibc --ignore-scripts --no-audit --no-fund --prefer-offline "$tgz") >"$work/$arch-install.log" 2>&1
  say $? "npm install -g --prefix … --ignore-scripts ./beepkit-*.tgz (--cpu=$cpu --os=linux)" "$((SECONDS - t0)) s, installed $(du -sk "$prefix" 2>/dev/null | cut -f1) kB"
  echo "# $arch installed size: $(du -sk "$prefix" | cut -f1) kB (kit) + $(du -sk "$(readlink -f "$nodeprefix/bin/node")" | cut -f1) kB (node)" >>"$log"
  # 3. native bindings on a PTY pair made on the host
  local pty=$work/$arch-pty
  mkdir -p "$pty"
  socat pty,raw,echo=0,link="$pty/a" pty,raw,echo=0,link="$pty/b" &
  local socat_pid=$!
  for _ in $(seq 50); do [ -e "$pty/b" ] && break; sleep 0.1; done
  t0=$SECONDS
  PATH="$work/$arch-bin:/usr/bin:/bin" node "$ROOT/scripts/native-probe.cjs" "$prefix/lib/node_modules/beepkit" "$pty/a" "$pty/b" >"$work/$arch-probe.log" 2>&1
  say $? "native serial and HCI bindings open a PTY (emulated)" "$((SECONDS - t0)) s: $(grep -o '"detail":"prebuilds/[^"]*"' "$work/$arch-probe.log" | sed 's/"detail"://' | tr '\n' ' ')$(grep '"ok":false' "$work/$arch-probe.log" | head -2 | tr '\n' ' ')"
  kill "$socat_pid" 2>/dev/null
  # 4. --help, the EN vector, the agent on the host's sim, all emulated
  PATH="$work/$arch-bin:$prefix/bin:/usr/bin:/bin" "$(command -v node)" "$ROOT/scripts/smoke/kit-smoke.mjs" --bin "$prefix/bin/beepkit" \
    --sim-bin "$work/host-beepkit" --apps agent --label "$arch" --timeout 150 >>"$log" 2>&1
}

# the sim runs on the host's Node (not the wrapper): a launcher with an absolute path
printf '#!/bin/sh\nexec %s %s "$@"\n' "$(command -v node)" "$host_bin" >"$work/host-beepkit"
chmod +x "$work/host-beepkit"

pids=()
for a in "${ARCHES[@]}"; do
  case $a in arm64|armv7l) ;; *) check 1 "unknown architecture $a (arm64|armv7l)"; continue ;; esac
  one_arch "$a" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
# the host's cold start of the same bundle (the checkout's dist/), for the ratio (agent/README.md): after the
# emulated lanes, so it too has about one core, as each of them had
PATH="$(dirname "$(command -v node)"):/usr/bin:/bin" node "$ROOT/scripts/smoke/kit-smoke.mjs" --bin "$work/host-beepkit" --apps agent --skip-cli --label host-x64 >"$work/host.out" 2>&1
for a in "${ARCHES[@]}"; do
  [ -f "$work/$a.out" ] || continue
  sed -n '/^# { total/!p' "$work/$a.out"
  # the wrapper-level lines (say) and kit-smoke's closing counts
  while read -r line; do
    case $line in "ok - "*) n=$((n + 1)); pass=$((pass + 1)) ;; "not ok - "*) n=$((n + 1)); fail=$((fail + 1)) ;; esac
  done < <(grep -E '^(ok|not ok) - ' "$work/$a.out")
  add_counts "$work/$a.out"
  grep -q '"ok":false' "$work/$a-probe.log" 2>/dev/null && cat "$work/$a-probe.log"
done
sed -n '/^# { total/!p' "$work/host.out"
add_counts "$work/host.out"
ratio() { # label → "<emulated agent ready s> / <host s> = <ratio>"
  local e h
  e=$(sed -nE 's/.*"agentReadyS":([0-9.]+).*/\1/p' "$work/$1.out" 2>/dev/null); h=$(sed -nE 's/.*"agentReadyS":([0-9.]+).*/\1/p' "$work/host.out")
  [ -n "$e" ] && [ -n "$h" ] && echo "# cold start of beepkit agent run (to its ready line), $1 emulated / host: $e s / $h s = $(awk -v e="$e" -v h="$h" 'BEGIN { printf "%.1f", e / h }')x"
}
for a in "${ARCHES[@]}"; do ratio "$a"; done
finish
