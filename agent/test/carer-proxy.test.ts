/**
 * The carer's agent acting for a paired wearable (issue 8) against a real
 * Gateway on its embedded broker: the wearable's records (synced over an
 * in-memory link) are uploaded under the wearable's pseudonym and land on the
 * ledger exactly once with verified receipts, also after a sync cut and
 * resumed; the CA request for the wearable is signed by its pseudonym; a
 * notification block carrying the wearable's fingerprint raises one alert
 * naming the person, a block without raises none.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol';
import { ed25519Verify } from '@beepkit/protocol/crypto';
import { decodeCertificate, issueCertificate } from '@beepkit/protocol/cert';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { decodeBatch, verifyBatch, fingerprint, recordHash } from '@beepkit/protocol/tracecode';
import { caRequestSigningBytes, type CaRequest, type WireMessage } from '@beepkit/protocol/wire';
import { Gateway, resolveConfig } from '@beepkit/gateway/app';
import { hashPassword } from '@beepkit/gateway/broker';
import { WearableResponder, WearableState } from '@beepkit/wearable';
import { AgentMqtt } from '@beepkit/device-core/mqtt';
import { Outbox } from '@beepkit/device-core/outbox';
import { silentLogger } from '../src/alerts/logger.ts';
import { resolveConfig as agentConfig } from '../src/config/index.ts';
import { mqttNetwork } from '../src/app/index.ts';
import type { Alert, AlertSink } from '../src/alerts/index.ts';
import type { EvidenceBundle } from '../src/trust/index.ts';
import { CarerClient, CarerStore, WearableProxy, type CarerAlert } from '../src/carer/index.ts';
import { memoryLinkPair } from '@beepkit/protocol/carer';
import { DAY, bytesFrom, certify, once, prng, traceCode } from './net-helpers.ts';
import { clockFrom } from '@beepkit/protocol/clock';

const CARER = 'carer-proxy-test-1';
// the test's own clock, pinned to 20:00 UTC whatever the host’s hour: the wearable’s records use the 30-min intervals 0…29 of the day (up to 14:30)
const now = clockFrom(Date.UTC(2026, 11, 3, 20, 0));
const TODAY = Math.floor(now() / 1000 / DAY);

const CARER2 = 'carer-proxy-test-2';
const root = t.testdir({ gw: {}, w: {}, c: {}, c2: {}, c3: {} });
await writeFile(join(root, 'passwd'), [CARER, CARER2].map((d) => `${d}:${hashPassword(`pw-${d}`, { iterations: 1000 })}\n`).join(''), { mode: 0o600 });
const gw = new Gateway({
  now,
  config: resolveConfig({
    dataDir: join(root, 'gw'),
    broker: { embedded: { port: 0, passwordFile: join(root, 'passwd') } },
    http: { port: 0 },
    log: { level: 'silent' },
  }),
});
await gw.start();
t.teardown(() => gw.stop());

/** Record hashes on the tracing chain, with multiplicity. */
async function ledgerKeys(batches: Uint8Array[] = []): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let h = 0; ;) {
    const blocks = await gw.ledger.blocks('tracing', h, 64);
    if (!blocks.length) return seen;
    for (const b of blocks)
      for (const e of b.entries) {
        batches.push(e.data);
        for (const k of e.keys) if (k.length === 32) seen.set(toHex(k), (seen.get(toHex(k)) ?? 0) + 1); // not the 16-byte claim keys
      }
    h += blocks.length;
  }
}

const got: Alert[] = [];
const sink: AlertSink = { name: 'test', deliver: async (a) => void got.push(a) };
const published: CarerAlert[] = [];

const state = new WearableState({ dataDir: join(root, 'w'), label: 'Grace', now: () => Math.floor(now() / 1000) });
await state.start();
t.teardown(() => state.stop());
const store = await new CarerStore({ path: join(root, 'c', 'carer.bin'), key: new Uint8Array(32).fill(7) }).load();
const mqtt = new AgentMqtt({
  url: gw.brokerUrl,
  deviceId: CARER,
  password: `pw-${CARER}`,
  agentVersion: 'test',
  backoff: { initialMs: 50, maxMs: 500 },
  random: prng(1),
});
mqtt.on('error', () => {});
mqtt.start();
t.teardown(() => mqtt.stop());
const proxy = new WearableProxy({
  store,
  dataDir: join(root, 'c'),
  key: new Uint8Array(32).fill(8),
  mqtt,
  caPublicKey: gw.keys.ca.publicKey,
  gatewayPublicKey: gw.keys.gateway.publicKey,
  sinks: [sink],
  publishAlert: async (a) => void published.push(a),
  batchMaxItems: 8,
  now,
  uplink: { backoff: { initialMs: 20, maxMs: 200 }, random: prng(2) },
});
await proxy.start();
t.teardown(() => proxy.stop());
let cutAfter = 0;
let link = memoryLinkPair();
const client = new CarerClient({
  now,
  store,
  timeoutMs: 10_000,
  sink: async (r) => {
    await proxy.take(r);
    if (cutAfter && --cutAfter === 0) link.a.cut();
  },
});

function session(): { served: Promise<unknown>; compare: (c: string) => Promise<boolean> } {
  link = memoryLinkPair();
  let shown!: (code: string) => void;
  const code = new Promise<string>((res) => (shown = res));
  const responder = new WearableResponder({ state, pairingAllowed: () => true, timeoutMs: 10_000, confirm: async (c) => (shown(c), true) });
  const served = responder.serve(link.b);
  served.catch(() => {});
  return { served, compare: async (c) => c === (await code) };
}

const rand = prng(11);
const pseudonym = () => state.keystore.dayKeys(TODAY).pseudonym;
const recorded: Uint8Array[] = [];
async function record(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const c = traceCode(rand, pseudonym(), recorded.length % 144);
    recorded.push(c);
    await state.record(c, TODAY);
  }
}
let wearableId = '';

t.test('paired wearable: records uploaded under its pseudonym, exactly once, verified receipts; resumed sync still once', { timeout: 90_000 }, async (t) => {
  await record(10);
  const s = session();
  const res = await client.pair(link.a, s.compare);
  await s.served;
  wearableId = res.wearableId;
  t.equal(res.delivered, 10, 'all 10 records synced');
  t.equal(res.label, 'Grace');
  const u = await proxy.unit(wearableId);
  t.equal(u.outbox.stats().pending, 10, 'held in the wearable’s own outbox');
  t.ok(
    u.outbox.pending().every((i) => i.group === TODAY),
    'grouped by UTC day',
  );
  // no certificate yet: the uplink asks for one and the proxy lists the day
  t.same(await proxy.missingCertificates(wearableId), [TODAY], 'today’s certificate is missing');
  // the carer obtained it (the CA path is exercised in the next test): the wearable's pseudonym as subject
  const delivered: number[] = [];
  proxy.on('delivered', (d: { wearableId: string; items: number }) => d.wearableId === wearableId && delivered.push(d.items));
  const idle = once<{ wearableId: string }>(proxy, 'idle', () => u.outbox.stats().pending === 0);
  await u.certs.put({
    day: TODAY,
    certificate: certify(gw, pseudonym(), TODAY, (TODAY + 2) * DAY),
    solverPublicKey: gw.keys.solverPublicKey,
    solverKeyId: gw.keys.solverKeyId,
  });
  await idle;
  t.equal(
    delivered.reduce((a, b) => a + b, 0),
    10,
    'ten items delivered with receipts',
  );
  t.equal(u.uplink.counters.receiptsInvalid, 0, 'every receipt verified');

  // more records; the link is cut after 5 arrive; a resumed sync delivers the rest
  await record(20);
  cutAfter = 5;
  const s2 = session();
  await t.rejects(client.sync(link.a, wearableId), { code: 'E_LINK' });
  await s2.served.catch(() => {});
  const s3 = session();
  const r3 = await client.sync(link.a, wearableId);
  await s3.served;
  t.ok(r3.delivered <= 15 && r3.delivered + 5 >= 20 - 4, `resume delivered the rest (${r3.delivered}, ${r3.duplicates} acked again)`);
  await proxy.synced(r3);
  if (u.outbox.stats().pending > 0) await once(proxy, 'idle', () => u.outbox.stats().pending === 0);
  const batches: Uint8Array[] = [];
  const keys = await ledgerKeys(batches);
  const signedByWearable = batches.every((bytes) => {
    verifyBatch(bytes, { caPub: gw.keys.ca.publicKey, now: Math.floor(now() / 1000) }); // signature by the certificate's subject
    return toHex(decodeCertificate(decodeBatch(bytes).certificate).subject) === toHex(pseudonym());
  });
  t.ok(batches.length >= 4 && signedByWearable, `every batch (${batches.length}) certified for and signed by the wearable’s pseudonym`);
  t.equal(recorded.filter((c) => keys.has(toHex(recordHash(c)))).length, 30, 'all 30 records on the ledger');
  t.ok(
    recorded.every((c) => keys.get(toHex(recordHash(c))) === 1),
    'each exactly once',
  );
  t.equal(keys.size, 30, 'nothing else');
  t.equal(u.uplink.counters.receiptsInvalid, 0);
  t.equal(state.outbox.pending().length, 0, 'the wearable holds nothing pending');
  t.ok((await gw.ledger.verify()).ok, 'ledger verifies');
});

t.test('CA request for the wearable: signed by its pseudonym of the day, certificate stored in its store', async (t) => {
  const ca = gw.keys.ca;
  const reqs: CaRequest[] = [];
  const fakeCa = {
    whenConnected: async () => {},
    async request(_k: string, m: WireMessage): Promise<WireMessage> {
      const r = m as CaRequest;
      reqs.push(r);
      const certificate = issueCertificate(ca, {
        role: 'device',
        serial: 9,
        day: r.day,
        notBefore: r.day * DAY,
        notAfter: (r.day + 2) * DAY,
        subject: r.pseudonymPublicKey,
        solverKeyId: gw.keys.solverKeyId,
        region: 'test',
      }).bytes;
      return {
        type: 'ca-response',
        correlationId: r.correlationId,
        result: { ok: true, certificate, solverPublicKey: gw.keys.solverPublicKey, solverKeyId: gw.keys.solverKeyId },
      };
    },
  };
  const p2 = new WearableProxy({
    store,
    dataDir: join(root, 'c2'),
    mqtt: fakeCa,
    caPublicKey: ca.publicKey,
    gatewayPublicKey: gw.keys.gateway.publicKey,
    sinks: [],
    mayUpload: () => false,
    now,
  });
  await p2.start();
  t.teardown(() => p2.stop());
  const evidence = { time: now(), gnss: null, venues: [], others: [], fused: {}, sources: ['gnss', 'venue'] } as unknown as EvidenceBundle;
  const stored = await p2.authorise(wearableId, evidence);
  t.equal(reqs.length, 1);
  t.equal(toHex(reqs[0].pseudonymPublicKey), toHex(pseudonym()), 'the wearable’s pseudonym, not the carer’s');
  const { signature, type: _t, correlationId: _c, ...body } = reqs[0];
  t.ok(ed25519Verify(pseudonym(), caRequestSigningBytes(body), signature), 'signed by the wearable’s day key');
  t.equal(stored.day, TODAY);
  t.ok((await p2.unit(wearableId)).certs.get(TODAY), 'stored in the wearable’s certificate store');
});

t.test('a block carrying the wearable’s fingerprint alerts naming Grace once; a block without raises none', async (t) => {
  const entry = (fp: Uint8Array) => encodeNotificationEntry({ type: 'exposure', fingerprint: fp, risk: 2, day: TODAY });
  const none = await proxy.onBlock({ height: 1, timeMs: now(), entries: [entry(bytesFrom(prng(4), 16))] });
  t.equal(none.length, 0, 'a stranger’s fingerprint: no alert');
  t.equal(got.length, 0);
  const blk = { height: 2, timeMs: now(), entries: [entry(bytesFrom(prng(5), 16)), entry(fingerprint(pseudonym()))] };
  const alerts = await proxy.onBlock(blk);
  t.equal(alerts.length, 1);
  t.match(alerts[0], { person: 'Grace', wearableId, level: 'high', day: TODAY });
  t.equal(got.length, 1, 'delivered to the sink');
  t.match(got[0].explanation, /^Grace: .*Grace was/, 'the alert names the person cared for');
  t.equal(published.length, 1, 'published for the carer topic');
  t.equal((await proxy.onBlock({ ...blk, height: 3 })).length, 0, 'the same exposure again is deduplicated');
  t.equal(got.length, 1);
});

t.test(
  'app wiring: the agent network (mqttNetwork) with a carer store matches gateway notification blocks for the wearable',
  { timeout: 90_000 },
  async (t) => {
    const dir = join(root, 'c3');
    const config = agentConfig({
      dataDir: dir,
      deviceId: CARER2,
      broker: { url: gw.brokerUrl, password: `pw-${CARER2}` },
      anchors: { caPublicKey: toHex(gw.keys.ca.publicKey), gatewayPublicKey: toHex(gw.keys.gateway.publicKey) },
    });
    const outbox = new Outbox({ path: join(dir, 'outbox') });
    await outbox.start();
    t.teardown(() => outbox.stop());
    const own: Alert[] = [];
    let alerted!: (a: Alert) => void;
    const carerAlert = new Promise<Alert>((res) => (alerted = res));
    const net = await mqttNetwork({
      config,
      deviceId: CARER2,
      outbox,
      logger: silentLogger,
      now: now,
      raise: async (a) => void own.push(...a),
      ownPrefixes: () => [],
      encounters: () => [],
      ownVisits: () => [],
      dayKeys: () => {
        throw new Error('no own keys');
      },
      mayUpload: () => false,
      carer: { store, sinks: [{ name: 'carer', deliver: async (a) => alerted(a) }] },
    });
    t.ok(net.wearables, 'the network acts for the paired wearables');
    await net.start();
    t.teardown(() => net.stop());
    // connected: the feed is subscribed from here (AgentMqtt subscribes every filter before it reports 'connected')
    for (const end = performance.now() + 30_000; net.state !== 'connected' && performance.now() < end;) await new Promise((r) => setTimeout(r, 50));
    t.equal(net.state, 'connected');
    await gw.publishNotification([encodeNotificationEntry({ type: 'exposure', fingerprint: fingerprint(pseudonym()), risk: 1, day: TODAY })]);
    // one broadcast (a second identical entry would be deduplicated by the ledger, not broadcast again); it reaches the
    // follower whichever comes first, its catch-up or the broadcast. No alert in 40 s fails with what the follower saw.
    let late: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_r, reject) => {
      late = setTimeout(
        () =>
          reject(
            new Error(`no carer alert within 40 s: state ${net.state}, gateway broadcasts ${gw.feed.broadcasts}, counters ${JSON.stringify(net.counters())}`),
          ),
        40_000,
      );
    });
    const a = await Promise.race([carerAlert, deadline]).finally(() => clearTimeout(late));
    t.match(a, { person: 'Grace', level: 'low', day: TODAY }, 'the follower’s verified block alerted for Grace');
    t.equal(own.length, 0, 'the carer’s own matcher found nothing of its own');
  },
);
