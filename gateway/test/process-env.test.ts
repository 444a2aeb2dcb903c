// The gateway's process environment (gateway/src/app/process-env.ts): the systemd unit gives a gateway the same, a
// child started with it gets it, and an operator's own tunables are kept.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GATEWAY_ENV, gatewayProcessEnv, withTunables } from '../src/app/process-env.ts';

t.test('the systemd unit starts the gateway with the gateway process environment', async (t) => {
  const unit = readFileSync(fileURLToPath(new URL('../systemd/beepkit-gateway.service', import.meta.url)), 'utf8');
  const env = Object.fromEntries([...unit.matchAll(/^Environment=([^=\n]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  for (const [k, v] of Object.entries(GATEWAY_ENV)) t.equal(env[k], v, k);
});

t.test('withTunables appends only the tunables not already set', async (t) => {
  t.equal(withTunables(undefined, 'glibc.malloc.hugetlb=1'), 'glibc.malloc.hugetlb=1');
  t.equal(withTunables('glibc.malloc.arena_max=2', 'glibc.malloc.hugetlb=1'), 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  t.equal(withTunables('glibc.malloc.hugetlb=0', 'glibc.malloc.hugetlb=1'), 'glibc.malloc.hugetlb=0', "the operator's choice wins");
  t.equal(gatewayProcessEnv({ PATH: '/bin' }).PATH, '/bin');
  t.equal(gatewayProcessEnv({}).GLIBC_TUNABLES, GATEWAY_ENV.GLIBC_TUNABLES);
});

t.test('a process started with it runs (glibc takes the tunable; an older one ignores it)', async (t) => {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(process.env.GLIBC_TUNABLES ?? "")'], { env: gatewayProcessEnv({}), encoding: 'utf8' });
  t.equal(r.status, 0);
  t.equal(r.stdout, GATEWAY_ENV.GLIBC_TUNABLES);
});
