/**
 * Uplink: per-code ErrorReply handling and receipt verification against a real
 * EmbeddedLedger (in-process responder standing in for the transport), then
 * end to end against real mosquitto + the real Gateway: the outbox drains,
 * a broker outage leaves a backlog that drains after restart, no duplicates.
 */
import t, { type Test } from 'tap';
import { missing } from '../../scripts/tools.ts';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@beepkit/protocol';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { issueCertificate } from '@beepkit/protocol/cert';
import { encodeSth } from '@beepkit/protocol/merkle';
import { decodeBatch, recordHash } from '@beepkit/protocol/tracecode';
import type { Receipt, WireMessage } from '@beepkit/protocol/wire';
import { EmbeddedLedger, ed25519Signer, type Ledger } from '@beepkit/gateway/ledger';
import { Outbox } from '@beepkit/device-core/outbox';
import { CertStore } from '../src/ca-client/index.ts';
import { Uplink, type UplinkTransport } from '../src/uplink/index.ts';
import { DAY, bytesFrom, certify, dayKeySource, deviceMqtt, mosquitto, once, prng, startGateway, tempDir, traceCode } from './net-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const TODAY = Math.floor(hostNow() / 1000 / DAY);

/** All record hashes on the tracing chain, with multiplicity. */
/** Record hash (32 bytes) → times on the tracing chain; the 16-byte claim keys beside them aside. */
async function ledgerKeys(ledger: Pick<Ledger, 'blocks'>): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let h = 0; ;) {
    const blocks = await ledger.blocks('tracing', h, 64);
    if (!blocks.length) return seen;
    for (const b of blocks) for (const e of b.entries) for (const k of e.keys) if (k.length === 32) seen.set(toHex(k), (seen.get(toHex(k)) ?? 0) + 1);
    h += blocks.length;
  }
}

type Script = (batch: Uint8Array, n: number) => WireMessage | 'ledger' | 'silent';

/** Stand-in transport: answers from a real EmbeddedLedger (like the gateway's ingest), or as the script says. */
function responder(ledger: EmbeddedLedger, script: Script): UplinkTransport & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return {
    sent,
    whenConnected: async () => {},
    async request(_kind, m) {
      if (m.type !== 'upload-batch') throw new Error('unexpected');
      sent.push(m.batch);
      const s = script(m.batch, sent.length);
      if (s === 'silent') return new Promise(() => {});
      if (s !== 'ledger') return { ...s, correlationId: m.correlationId } as WireMessage;
      const hashes = decodeBatch(m.batch).records.map(recordHash);
      const [r] = await ledger.append('tracing', [{ data: m.batch, keys: hashes }]);
      if ('error' in r) return { type: 'error', correlationId: m.correlationId, code: r.error.code, message: r.error.message, recordHashes: hashes };
      const receipt: Receipt = {
        type: 'receipt',
        correlationId: m.correlationId,
        entryHash: r.entryHash,
        leafIndex: r.leafIndex,
        blockHeight: r.blockHeight,
        proof: r.inclusionProof,
        signedTreeHead: encodeSth(r.sth),
      };
      return receipt;
    },
  };
}

interface Rig {
  outbox: Outbox;
  certs: CertStore;
  keys: ReturnType<typeof dayKeySource>;
  ca: Ed25519Signer;
  dir: string;
  codes(day: number, intervals: number[]): Promise<Uint8Array[]>;
}

async function rig(t: Test, name: string, days: number[]): Promise<Rig> {
  const tmp = tempDir(`uplink-${name}`);
  t.teardown(tmp.remove);
  const outbox = new Outbox({ path: join(tmp.dir, 'outbox'), batchMaxItems: 8 });
  await outbox.start();
  t.teardown(() => outbox.stop());
  const certs = await new CertStore(join(tmp.dir, 'certs')).load();
  const keys = dayKeySource(7, TODAY - 30);
  const ca = new Ed25519Signer(bytesFrom(prng(99), 32));
  for (const day of days)
    await certs.put({
      day,
      certificate: issueCertificate(ca, {
        role: 'device',
        serial: 1,
        day,
        notBefore: day * DAY,
        notAfter: (TODAY + 2) * DAY,
        subject: keys(day).pseudonym,
        solverKeyId: new Uint8Array(8),
        region: 'r',
      }).bytes,
      solverPublicKey: new Uint8Array(32),
      solverKeyId: new Uint8Array(8),
    });
  const rand = prng(name.length);
  return {
    outbox,
    certs,
    keys,
    ca,
    dir: tmp.dir,
    async codes(day, intervals) {
      const c = intervals.map((i) => traceCode(rand, keys(day).pseudonym, i));
      await outbox.append(c.map((bytes) => ({ bytes, group: day })));
      return c;
    },
  };
}

async function ledgerFor(t: Test, dir: string): Promise<{ ledger: EmbeddedLedger; publicKey: Uint8Array }> {
  const signer = ed25519Signer(bytesFrom(prng(5), 32));
  const ledger = new EmbeddedLedger({ now: hostNow, dir: join(dir, 'ledger'), signer });
  await ledger.open();
  t.teardown(() => ledger.close());
  return { ledger, publicKey: signer.publicKey };
}

function uplinkOf(r: Rig, mqtt: UplinkTransport, gatewayPublicKey: Uint8Array): Uplink {
  return new Uplink({
    outbox: r.outbox,
    mqtt,
    dayKeys: r.keys,
    certificates: r.certs,
    gatewayPublicKey,
    quarantineDir: join(r.dir, 'quarantine'),
    backoff: { initialMs: 5, maxMs: 20 },
    rateBackoffMs: 10,
    random: prng(3),
  });
}

t.test('per-code ErrorReply handling and receipt verification (ledger responder)', async (t) => {
  const day = TODAY - 1;
  const r = await rig(t, 'codes', [day]);
  const { ledger, publicKey } = await ledgerFor(t, r.dir);
  const codes = await r.codes(day, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]); // batches of 8 + 4
  // 1st send: E_RATE; 2nd: a receipt whose proof is broken; 3rd: the real receipt; batch 2: malformed → quarantine
  let tamper = true;
  const tr = responder(ledger, (batch, n) => {
    if (n === 1) return { type: 'error', code: 'E_RATE', message: 'slow down', recordHashes: [] } as unknown as WireMessage;
    if (n === 4 && decodeBatch(batch).records.length === 4)
      return { type: 'error', code: 'E_FORMAT', message: 'bad', recordHashes: [] } as unknown as WireMessage;
    return 'ledger';
  });
  const inner = tr.request.bind(tr);
  tr.request = async (kind, m, ms) => {
    const reply = await inner(kind, m, ms);
    if (reply.type === 'receipt' && tamper) {
      tamper = false;
      return { ...reply, leafIndex: reply.leafIndex + 1 };
    }
    return reply;
  };
  const up = uplinkOf(r, tr, publicKey);
  const invalid = once<{ seq: number }>(up, 'receipt-invalid');
  const quarantined = once<{ code: string; path: string; items: number }>(up, 'quarantined');
  const delivered = once<{ items: number }>(up, 'delivered');
  await up.start();
  t.teardown(() => up.stop());
  const bad = await invalid;
  t.equal(r.outbox.stats().pending, 12, 'a receipt whose proof does not verify keeps the batch in the outbox');
  t.equal(up.counters.receiptsInvalid, 1, 'counted');
  t.equal((await delivered).items, 8, 'the re-send gets a receipt that verifies');
  t.equal(bad.seq, 1);
  const q = await quarantined;
  t.equal(q.code, 'E_FORMAT');
  t.equal(q.items, 4);
  t.ok(existsSync(q.path), 'quarantined bytes kept');
  await once(up, 'idle');
  t.equal(r.outbox.stats().pending, 0, 'outbox empty');
  t.equal(up.counters.rateLimited, 1, 'E_RATE backed off once');
  t.same(up.codes, { E_RATE: 1, E_FORMAT: 1 });
  t.equal(tr.sent.length, 4, 'rate-limited, tampered, accepted, quarantined');
  t.ok(toHex(tr.sent[1]) === toHex(tr.sent[2]), 'the re-send carries identical bytes');
  const keys = await ledgerKeys(ledger);
  t.same(
    [...keys.keys()].sort(),
    codes
      .slice(0, 8)
      .map((c) => toHex(recordHash(c)))
      .sort(),
    'exactly the first batch is on the ledger',
  );
});

t.test('E_DUPLICATE is delivery; expired certificate asks for re-authorisation once, re-signs with the new one', async (t) => {
  const day = TODAY - 2;
  const r = await rig(t, 'dup', [day]);
  const { ledger, publicKey } = await ledgerFor(t, r.dir);
  const first = await r.codes(day, [0, 1, 2]);
  // the records are already on the ledger in another entry (e.g. sent by an earlier life of the agent)
  await ledger.append('tracing', [{ data: new Uint8Array([1, 2, 3]), keys: first.map(recordHash) }]);
  let expired = true;
  const tr = responder(ledger, (batch) => {
    if (expired && decodeBatch(batch).records.length === 2)
      return { type: 'error', code: 'E_EXPIRED', message: 'old', recordHashes: [] } as unknown as WireMessage;
    return 'ledger';
  });
  const up = uplinkOf(r, tr, publicKey);
  const dup = once<{ items: number }>(up, 'delivered');
  await up.start();
  t.teardown(() => up.stop());
  t.equal((await dup).items, 3);
  t.equal(up.counters.duplicatesAsDelivered, 3, 'E_DUPLICATE treated as delivery');
  t.same(up.codes, { E_DUPLICATE: 1 });

  const reauth = once<{ day: number; code: string }>(up, 'reauthorise');
  await r.codes(day, [5, 6]);
  up.kick();
  t.same(await reauth, { day, code: 'E_EXPIRED' }, 'reauthorise emitted with the day');
  const sentBefore = tr.sent.length;
  await new Promise((res) => setTimeout(res, 200)); // parked: proves an absence (backoff would re-send every 5-20 ms)
  t.equal(tr.sent.length, sentBefore, 'parked: no loop while waiting for a certificate');
  t.equal(up.counters.reauthorisations, 1);
  t.equal(r.outbox.stats().pending, 2, 'the batch stays in the outbox');
  expired = false;
  const fresh = issueCertificate(r.ca, {
    role: 'device',
    serial: 2,
    day,
    notBefore: day * DAY,
    notAfter: (TODAY + 3) * DAY,
    subject: r.keys(day).pseudonym,
    solverKeyId: new Uint8Array(8),
    region: 'r',
  }).bytes;
  const done = once<{ items: number }>(up, 'delivered');
  await r.certs.put({ day, certificate: fresh, solverPublicKey: new Uint8Array(32), solverKeyId: new Uint8Array(8) });
  t.equal((await done).items, 2);
  t.equal(toHex(decodeBatch(tr.sent[tr.sent.length - 1]).certificate), toHex(fresh), 're-signed with the new certificate');
  t.equal(r.outbox.stats().pending, 0);
});

t.test('end to end: real mosquitto + Gateway, broker outage, no duplicates', { skip: missing('mosquitto'), timeout: 90_000 }, async (t) => {
  const days = [TODAY - 3, TODAY - 2, TODAY - 1];
  const r = await rig(t, 'e2e', []);
  const broker = mosquitto(join(r.dir, 'mosq'), 0, ['agent-uplink-1'], true);
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = await startGateway(join(r.dir, 'gw'), broker.url, 0);
  t.teardown(() => gw.stop());
  for (const day of days)
    await r.certs.put({
      day,
      certificate: certify(gw, r.keys(day).pseudonym, day, (TODAY + 2) * DAY),
      solverPublicKey: gw.keys.solverPublicKey,
      solverKeyId: gw.keys.solverKeyId,
    });
  const mqtt = deviceMqtt(broker.url, 'agent-uplink-1', 11);
  mqtt.start();
  t.teardown(() => mqtt.stop());
  const up = uplinkOf(r, mqtt, gw.keys.gateway.publicKey);
  await up.start();
  t.teardown(() => up.stop());
  const all: Uint8Array[] = [];
  const drained = async (): Promise<void> => {
    if (r.outbox.stats().pending > 0) await once(up, 'idle', () => r.outbox.stats().pending === 0);
  };
  for (const day of days)
    all.push(
      ...(await r.codes(
        day,
        Array.from({ length: 20 }, (_, i) => i),
      )),
    );
  up.kick();
  await drained();
  t.equal(up.counters.receiptsInvalid, 0);
  t.equal(up.counters.deliveredItems, 60, 'every record delivered with a verified receipt');

  await broker.stop();
  await once(mqtt, 'state', (s: string) => s !== 'connected').catch(() => undefined);
  for (const day of days)
    all.push(
      ...(await r.codes(
        day,
        Array.from({ length: 16 }, (_, i) => 20 + i),
      )),
    );
  up.kick();
  t.equal(r.outbox.stats().pending, 48, 'backlog held while the broker is down');
  await broker.start();
  await drained();
  const keys = await ledgerKeys(gw.ledger);
  t.equal(keys.size, all.length, 'every TraceCode on the ledger');
  t.ok(
    [...keys.values()].every((n) => n === 1),
    'each exactly once',
  );
  t.ok(all.every((c) => keys.has(toHex(recordHash(c)))));
  t.ok((await gw.ledger.verify()).ok, 'ledger verifies');
  t.ok(readdirSync(join(r.dir, 'quarantine')).length === 0, 'nothing quarantined');
});

t.test('stop() does not wait for an unanswered request; the batch stays for the next start', { timeout: 20_000 }, async (t) => {
  const day = TODAY - 1;
  const r = await rig(t, 'stop', [day]);
  const { ledger, publicKey } = await ledgerFor(t, r.dir);
  await r.codes(day, [0, 1]);
  let sentOne!: () => void;
  const sent = new Promise<void>((res) => (sentOne = res));
  const tr = responder(ledger, () => {
    sentOne();
    return 'silent';
  });
  const up = new Uplink({
    outbox: r.outbox,
    mqtt: tr,
    dayKeys: r.keys,
    certificates: r.certs,
    gatewayPublicKey: publicKey,
    quarantineDir: join(r.dir, 'q'),
    replyTimeoutMs: 60_000,
  });
  await up.start();
  await sent;
  await up.stop();
  t.equal(r.outbox.stats().pending, 2, 'nothing acknowledged');
  t.equal(r.outbox.stats().openBatches, 1, 'the persisted batch is re-sent at the next start');
});
