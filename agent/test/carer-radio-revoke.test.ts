/**
 * Revocation across the UTC day boundary on the radio: the wearable
 * (`beepkit wearable pair|run|revoke-carer --clock-url`, real bleno) and the
 * carer agent (real noble, HTTP API) follow one scenario clock; the carer pairs
 * at 23:50, the wearable revokes it, the clock passes midnight: the carer's
 * next sync is refused (E_DENIED on the wearable, E_ABORTED at the carer) and
 * it holds no key of the new day.
 */
import t from 'tap';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { carerRig } from './fixtures/carer-agent.ts';
import { root, steppingClock, WearableCli } from '@beepkit/wearable/testing';

const CLOCK = 0; // kernel-chosen ports
const HTTP = 0;
const DAY = 20_301;
const T0 = DAY * 86_400_000 + 23 * 3_600_000 + 50 * 60_000; // 23:50 UTC

t.test('revoked before midnight: the carer gets no key of the next day', { timeout: 300_000 }, async (t) => {
  const clock = await steppingClock(t, CLOCK, T0);
  const rig = await carerRig(t, 43, HTTP, { clock: { url: clock.url } });
  const dir = join(rig.dataDir, '..', '..', 'grace');
  mkdirSync(dir);
  const wp = new VirtualController({ air: rig.air, address: '11:22:33:43:43:11', position: { x: 0, y: 3 } });
  wp.start();
  t.teardown(() => wp.stop());
  const args = ['--data-dir', dir, '--label', 'Grace', '--uart', wp.path, '--clock-url', clock.url];

  const pairing = new WearableCli(t, ['pair', ...args], { confirm: true });
  await pairing.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready');
  const started = await rig.api('POST', '/carer/pair', { label: 'Grace', address: wp.id });
  t.equal(started.status, 200, JSON.stringify(started.body));
  t.match(await rig.api('POST', '/carer/confirm', { code: started.body.code }), { status: 200, body: { paired: true, days: 1 } });
  t.equal(await pairing.exited, 0);

  const revoke = await promisify(execFile)(
    process.execPath,
    [join(root, 'bin', 'beepkit.js'), 'wearable', 'revoke-carer', '--data-dir', dir, '--clock-url', clock.url],
    { timeout: 60_000 },
  );
  t.match(JSON.parse(revoke.stdout), { hadCarer: true, rotatedFromDay: DAY }, 'the wearable revoked the carer and rotated its master from today');
  t.match(revoke.stderr, /carer revoked, master rotated/, 'revocation logged');

  clock.set(T0 + 20 * 60_000); // 00:10 of the next day
  const run = new WearableCli(t, ['run', ...args]);
  await run.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (run)');
  const synced = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(synced.body.results[0], { label: 'Grace', error: 'E_ABORTED' }, JSON.stringify(synced.body));
  t.match(await run.waitFor((l) => l.msg === 'wearable: session ended with an error', 30_000, 'denied'), { code: 'E_DENIED' });
  const list = (await rig.api('GET', '/carer/wearables')).body;
  t.same(list[0].days, [DAY], 'the carer holds the day it was given and no key of the next');
  t.equal((await rig.api('GET', '/carer')).body.wearables[0].lastError, 'E_ABORTED', 'the failed sync shows in /carer');
});
