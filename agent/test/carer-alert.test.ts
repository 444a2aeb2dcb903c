/**
 * A carer agent (`beepkit agent run`, carer: enabled, on a Gateway's embedded
 * broker) pairs with a wearable over GATT (real noble/bleno on virtual
 * controllers) through its HTTP API; the gateway then publishes a notification
 * block carrying the wearable's fingerprint of today: the running agent raises
 * an alert naming the person cared for. `beepkit agent carer list` talks to
 * the running agent.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '@beepkit/protocol';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import type { Gateway } from '@beepkit/gateway/app';
import { CarerStore, wearablePrefixes } from '../src/carer/index.ts';
import { storageKey } from '../src/app/storage.ts';
import { carerGateway, carerRig, PASS } from './fixtures/carer-agent.ts';

const BROKER = 0; // kernel-chosen, like every port here
const AGENT_HTTP = 0;
const DEVICE = 'carer-alert-test-1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

t.test('after pairing, a block with the wearable’s fingerprint alerts the running carer agent naming the person', { timeout: 300_000 }, async (t) => {
  let gw!: Gateway;
  const rig = await carerRig(t, 32, AGENT_HTTP, async (dir) => {
    const g = await carerGateway(t, dir, BROKER, DEVICE);
    gw = g.gw;
    return g.config;
  });
  const { api, wearable } = rig;

  const wm = wearable.mark();
  t.equal((await api('POST', '/carer/pair', {})).status, 200);
  const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code', wm);
  wearable.send({ op: 'confirm', ok: true });
  t.match(await api('POST', '/carer/confirm', { code: shown.code }), { status: 200, body: { paired: true, label: 'Rose', days: 1 } });

  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'bin', 'beepkit.js'), 'agent', 'carer', 'list', '--config', join(rig.dataDir, '..', 'agent.json')],
    { timeout: 60_000 },
  );
  const listed = JSON.parse(stdout);
  t.match(
    listed,
    [{ label: 'Rose', days: [Number], encounters: Number }],
    'the CLI lists the running agent’s wearables (its URL and API token found through the config)',
  );

  // the wearable's pseudonym of today, from the carer store the agent keeps (sealed with its storage key)
  const key = await storageKey(rig.dataDir, { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
  const store = await new CarerStore({ path: join(rig.dataDir, 'carer.bks'), key }).load();
  const [today] = wearablePrefixes(store, listed[0].wearableId);
  const before = (await api('GET', '/status')).body.alerts.total;
  await gw.publishNotification([encodeNotificationEntry({ type: 'exposure', fingerprint: fingerprint(today.prefix), risk: 2, day: today.day })]);
  const end = performance.now() + 60_000;
  while ((await api('GET', '/status')).body.alerts.total === before && performance.now() < end) await new Promise((r) => setTimeout(r, 100));
  const st = (await api('GET', '/status')).body;
  t.equal(st.alerts.total, before + 1, 'one alert on the carer agent');
  // the alert's log line (stdout) may trail the /status answer
  for (const end = performance.now() + 10_000; !rig.out.some((l) => l.includes('Rose was')) && performance.now() < end;)
    await new Promise((r) => setTimeout(r, 50));
  t.equal(st.alerts.byLevel.high, 1, 'the wearable alert counts in alerts.byLevel');
  const line = rig.out.find((l) => l.includes('Rose was'));
  t.ok(line, 'the alert explanation names the person cared for');
  t.match(line, /"level":"high"/);
  t.notOk(
    rig.out.some((l) => l.includes(toHex(today.prefix))),
    'the log never carries the pseudonym',
  );

  // revocation on the wearable: master rotated from today, the carer's next session is denied, no key of tomorrow reaches it
  t.match(await wearable.waitFor((e) => e.ev === 'log' && e.msg === 'wearable: paired with a carer', 5_000, 'pairing logged'), { replaced: false });
  wearable.send({ op: 'revoke' });
  t.match(await wearable.waitFor((e) => e.ev === 'revoked', 30_000, 'revoked'), { hadCarer: true, rotatedFromDay: today.day });
  t.ok(
    wearable.events.some((e) => e.ev === 'log' && e.msg === 'wearable: carer revoked, master rotated'),
    'the wearable logged the revocation',
  );
  const wm2 = wearable.mark();
  const denied = await api('POST', '/carer/sync', {});
  t.match(denied.body.results[0], { label: 'Rose', error: 'E_ABORTED' }, 'the carer is refused');
  t.match(await wearable.waitFor((e) => e.ev === 'failed', 30_000, 'wearable refuses', wm2), { code: 'E_DENIED' });
  const logged = (): boolean => rig.out.some((l) => l.includes('carer: sync') && l.includes('E_ABORTED'));
  for (const end = performance.now() + 10_000; !logged() && performance.now() < end;) await new Promise((r) => setTimeout(r, 50)); // the log line may trail the HTTP answer
  t.ok(logged(), 'the carer logged the refusal');
  t.match((await api('GET', '/carer')).body.wearables[0], { label: 'Rose', days: 1, lastError: 'E_ABORTED' });
  const after = await new CarerStore({ path: join(rig.dataDir, 'carer.bks'), key }).load();
  t.same(
    after.dayKeys(listed[0].wearableId).map((d) => d.day),
    [today.day],
    'the carer holds no key of a later day',
  );
});
