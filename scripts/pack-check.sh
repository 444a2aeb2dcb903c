#!/usr/bin/env bash
# The kit as a user installs it (README "Install", agent/README.md "Raspberry Pi"): `npm pack` (its prepack
# builds dist/), then `npm install -g` of the tarball into a fresh prefix from a clean directory, without
# install scripts and without dev dependencies, and the installed `beepkit` run end to end against the sim
# (scripts/smoke/kit-smoke.mjs: --help, the EN vector, agent/gateway/beacon/wearable run).
#   scripts/pack-check.sh            (.ci/run runs it; leaves the tarball in $BEEPKIT_PACK_DIR for ci-arm.sh)
# Prints "ok/not ok" lines and tap's closing "# { total: N, pass: N, fail: N, skip: N }"; exit 0 when all pass.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BEEPKIT_PACK_DIR:-$ROOT/tmp/pack}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0; pass=0; fail=0; skip=0
check() { # ok(0|1) what [detail]
  n=$((n + 1))
  if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok $n - pack: $2${3:+ # $3}"; else fail=$((fail + 1)); echo "not ok $n - pack: $2${3:+ # $3}"; fi
}
finish() {
  echo "# { total: $n, pass: $pass, fail: $fail, skip: $skip }"
  [ "$fail" -eq 0 ]
  exit
}

mkdir -p "$OUT" && rm -f "$OUT"/beepkit-*.tgz
t0=$SECONDS
npm pack --silent --pack-destination "$OUT" >"$work/pack.log" 2>&1
rc=$?
tgz=$(ls "$OUT"/beepkit-*.tgz 2>/dev/null | head -1)
check $(( rc != 0 || ${#tgz} == 0 )) "npm pack (prepack builds the bundle)" "$((SECONDS - t0)) s, $(du -k "${tgz:-/dev/null}" | cut -f1) kB $(tail -3 "$work/pack.log" | tr '\n' ' ')"
[ -n "$tgz" ] || finish

tar tzf "$tgz" | sed 's|^package/||' | sort >"$work/files"
missing=""
for f in bin/beepkit.js dist/cli.js dist/pool-worker.js dist/.built agent/package.json device-core/data/calibration/en-calibration-2020-12-14.csv \
  firmware-stubs/scenarios/cafe.yaml trial/src/dashboard/static/index.html agent/deploy/99-beepkit.rules agent/systemd/beepkit-agent.service; do
  grep -qxF "$f" "$work/files" || missing="$missing $f"
done
check $(( ${#missing} > 0 )) "the tarball holds the bundle, scenarios, dashboard assets, worker and deploy files" "${missing:+missing:$missing}"
sources=$(grep -E '\.(ts|mts|cts)$' "$work/files" | grep -v '\.d\.ts$' | head -3 | tr '\n' ' ')
check $(( ${#sources} > 0 )) "the tarball holds no TypeScript sources" "$sources"

mkdir -p "$work/clean" && cd "$work/clean" || finish
t0=$SECONDS
npm install -g --prefix "$work/prefix" --ignore-scripts --no-audit --no-fund --prefer-offline "$tgz" >"$work/install.log" 2>&1
rc=$?
check "$rc" "npm install -g ./beepkit-*.tgz --ignore-scripts into a fresh prefix" "$((SECONDS - t0)) s $(tail -2 "$work/install.log" | tr '\n' ' ')"
pkg="$work/prefix/lib/node_modules/beepkit"
[ -d "$pkg" ] || finish
dev=""
for d in tsx typescript tap eslint playwright playwright-core esbuild @tapjs @eslint typescript-eslint fast-check; do
  [ -e "$pkg/node_modules/$d" ] && dev="$dev $d"
done
check $(( ${#dev} > 0 )) "no dev dependency installed (tsx, TypeScript, tap, eslint, playwright, esbuild)" "${dev:+found:$dev}"
# the solver pool's worker from the bundle (gateway/src/solver/pool.ts workerBoot): it loads and waits for work
node -e '
const { Worker } = require("node:worker_threads");
const { pathToFileURL } = require("node:url");
const w = new Worker(`import(${JSON.stringify(pathToFileURL(process.argv[1]).href)})`, { eval: true, workerData: { solverKey: new Uint8Array(32) } });
w.on("error", (e) => { console.error(String(e)); process.exit(1); });
w.on("exit", (c) => process.exit(c === 1 ? 0 : 1)); // 1: terminated below, after loading
setTimeout(() => w.terminate(), 1500);
' "$pkg/dist/pool-worker.js" >"$work/worker.log" 2>&1
check $? "the bundled solver pool worker loads (dist/pool-worker.js)" "$(head -c 300 "$work/worker.log")"
echo "# installed size: $(du -sk "$work/prefix" | cut -f1) kB ($(find "$pkg/node_modules" -maxdepth 2 -name package.json | wc -l) top-level packages)"

# the installed command, with the host's node and nothing of the checkout on PATH
export PATH="$work/prefix/bin:$(dirname "$(command -v node)"):/usr/bin:/bin"
node "$ROOT/scripts/smoke/kit-smoke.mjs" --bin "$work/prefix/bin/beepkit" --label "$(node -p 'process.arch')" >"$work/smoke.out" 2>&1
cat "$work/smoke.out"
summary=$(grep -E '^# \{ total: ' "$work/smoke.out" | tail -1)
s_pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); s_fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
s_skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
[ -n "$summary" ] || s_fail=1
n=$((n + ${s_pass:-0} + ${s_fail:-0} + ${s_skip:-0})); pass=$((pass + ${s_pass:-0})); fail=$((fail + ${s_fail:-0})); skip=$((skip + ${s_skip:-0}))
finish
