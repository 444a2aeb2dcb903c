/**
 * Revocation through the running wearable, with the shipped CLI on the radio: `beepkit wearable run`
 * (real bleno) serves the carer agent (real noble, HTTP API) on one scenario clock; the carer syncs the
 * day's key; `beepkit wearable revoke-carer` reaches the running process over its control socket (no
 * restart, nothing written behind its back); the carer's next sync is refused at once (E_ABORTED at the
 * carer, E_DENIED on the wearable), the same on the next day, and the carer holds no key the wearable
 * uses after the revocation: its key of the revocation day is not the wearable's any more, and no later day.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createServer as httpServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { toHex } from '@beepkit/protocol/bytes';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { storageKey } from '@beepkit/agent/app';
import { CarerStore } from '@beepkit/agent/carer';
import { WearableState } from '@beepkit/wearable';
import { carerRig, PASS } from './fixtures/carer-agent.ts';
import { root, WearableCli } from '@beepkit/wearable/testing';

t.setTimeout(300_000); // two wearable processes and an agent on a loaded machine can outlast the 120 s file default

const DAY = 20_305;
const T0 = DAY * 86_400_000 + 23 * 3_600_000 + 50 * 60_000; // 23:50 UTC

/** A port the kernel chose (the agent config needs a number before it starts). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A paused scenario clock (the sim's GET /clock) on a kernel-chosen port; `set(ms)` moves it. */
async function clockServer(t: Test, nowMs: number) {
  let now = nowMs;
  const server = httpServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ now, speed: 60, paused: true }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/clock`, set: (ms: number) => (now = ms) };
}

t.test('revoke-carer reaches the running wearable: the carer is refused at once and holds no key it uses after', { timeout: 300_000 }, async (t) => {
  const clock = await clockServer(t, T0);
  const rig = await carerRig(t, 47, await freePort(), { clock: { url: clock.url } });
  const dir = join(rig.dataDir, '..', '..', 'grace');
  mkdirSync(dir);
  const wp = new VirtualController({ air: rig.air, address: '11:22:33:47:47:11', position: { x: 0, y: 3 } });
  wp.start();
  t.teardown(() => wp.stop());
  rig.air.setPosition(rig.wc.id, { x: 5000, y: 0 }); // the rig's own wearable child walks away
  const args = ['--data-dir', dir, '--label', 'Grace', '--uart', wp.path, '--clock-url', clock.url];

  const pairing = new WearableCli(t, ['pair', ...args], { confirm: true });
  await pairing.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (pair)');
  const started = await rig.api('POST', '/carer/pair', { label: 'Grace', address: wp.id });
  t.equal(started.status, 200, JSON.stringify(started.body));
  t.match(await rig.api('POST', '/carer/confirm', { code: started.body.code }), { status: 200, body: { paired: true, days: 1 } });
  t.equal(await pairing.exited, 0);

  clock.set(T0 + 15 * 60_000); // 00:05 of the next day: the sync brings its key
  const run = new WearableCli(t, ['run', ...args]);
  await run.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (run)');
  const synced = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(synced.body.results[0], { label: 'Grace', days: 1 }, JSON.stringify(synced.body));

  const cli = (...a: string[]) => promisify(execFile)(process.execPath, [join(root, 'bin', 'beepkit.js'), 'wearable', ...a], { timeout: 60_000 });
  const from = run.mark();
  const revoke = await cli('revoke-carer', '--data-dir', dir);
  t.match(JSON.parse(revoke.stdout), { hadCarer: true, rotatedFromDay: DAY + 1, via: 'running' }, 'revoked by the running wearable');
  t.ok(await run.waitFor((l) => l.msg === 'wearable: carer revoked, master rotated', 10_000, 'revocation logged by the running wearable', from));
  t.match(JSON.parse((await cli('status', '--data-dir', dir)).stdout), { paired: false, running: true }, 'status from the running wearable');

  const refused = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(refused.body.results[0], { label: 'Grace', error: 'E_ABORTED' }, JSON.stringify(refused.body));
  t.match(await run.waitFor((l) => l.msg === 'wearable: session ended with an error', 30_000, 'denied', from), { code: 'E_DENIED' });
  clock.set(T0 + 24 * 3_600_000); // the day after: still refused, nothing new
  const later = await rig.api('POST', '/carer/sync', { wearable: 'Grace' });
  t.match(later.body.results[0], { label: 'Grace', error: 'E_ABORTED' });
  t.equal(run.child.exitCode, null, 'the wearable kept running throughout');
  const second = await cli('pair', ...args).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e,
  );
  t.match(second, { code: 2, stderr: /"code":"E_BUSY".*in use by process/ }, 'a second wearable process on the data dir is refused');
  t.equal(await run.stop(), 0);

  const key = await storageKey(rig.dataDir, { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const store = await new CarerStore({ path: join(rig.dataDir, 'carer.bks'), key }).load();
  const id = store.list()[0]!.wearableId;
  const held = store.dayKeys(id);
  t.same(
    held.map((d) => d.day),
    [DAY, DAY + 1],
    'the carer holds the days given before the revocation, none later',
  );
  const w = new WearableState({ dataDir: dir, now: () => Math.floor((T0 + 24 * 3_600_000) / 1000) });
  await w.start();
  t.teardown(() => w.stop());
  for (const day of [DAY + 1, DAY + 2]) {
    const tek = toHex(w.keystore.dayKeys(day).tek);
    t.notOk(
      held.some((d) => toHex(d.tek) === tek),
      `the TEK the wearable uses on day ${day - DAY} after the revocation is not the carer's`,
    );
  }
  t.equal(toHex(w.keystore.dayKeys(DAY).tek), toHex(held[0]!.tek), 'the day before the revocation is unchanged (given is given)');
  await w.stop();

  // pairing mode is a window: `--pairing-window-ms` ends it (exit 2, E_PAIRING_CLOSED, logged)
  const fresh = join(dir, '..', 'ivy');
  mkdirSync(fresh);
  const p = new WearableCli(t, ['pair', '--data-dir', fresh, '--uart', wp.path, '--pairing-window-ms', '1500']);
  await p.waitFor((l) => l.msg === 'ready', 90_000, 'wearable ready (pair, short window)');
  t.match(await p.waitFor((l) => l.msg === 'wearable: pairing mode ended', 30_000, 'window ended'), { reason: 'timeout', failures: 0 });
  t.equal(await p.exited, 2);
  t.ok(
    p.logs.some((l) => l.code === 'E_PAIRING_CLOSED'),
    'E_PAIRING_CLOSED on stderr',
  );
});
