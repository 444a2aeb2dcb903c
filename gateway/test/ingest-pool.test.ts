/**
 * Ingest contract, inline (verifyWorkers 0) and on the verify pool (1 and 2
 * workers): the same codes for the same payloads (valid, forged signature,
 * foreign CA, wrong day, malformed, replay, a record already in another
 * batch, another record for an interval already claimed, E_RATE), every valid batch exactly once on the ledger with a
 * receipt that verifies, the same ledger keys whatever the order of
 * completion. VerifyPool alone: a worker killed with jobs outstanding loses
 * nothing (inline fallback, no false reject); idle workers stop by themselves.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { Ed25519Signer } from '@beepkit/protocol/crypto';
import { decodeSth, leafHash, verifyInclusion } from '@beepkit/protocol/merkle';
import { decodeMessage } from '@beepkit/protocol/wire';
import { signBatch } from '@beepkit/protocol/tracecode';
import { EmbeddedLedger } from '../src/ledger/index.ts';
import { Ingest, VerifyPool } from '../src/ingest/index.ts';
import { DAY, Pseudonym, bytesFrom, prng, tempDir, toHex, uploadPayload } from './gw-fixtures.ts';
import { hostNow } from '@beepkit/protocol/clock';

const D = 20_602;
const NOW_MS = (D * DAY + DAY - 60) * 1000;

interface Case {
  name: string;
  payload: Uint8Array;
  want: string;
}

/** Records in valid batch b of pseudonym p (≤ 42 per pseudonym, under the burst of 60). */
const size = (p: number, b: number): number => 1 + ((p + b) % 12);

function cases(): { list: Case[]; ca: Ed25519Signer } {
  const rand = prng(606);
  const ca = new Ed25519Signer(bytesFrom(rand, 32));
  const foreign = new Ed25519Signer(bytesFrom(rand, 32));
  const list: Case[] = [];
  let n = 0;
  const add = (name: string, batch: Uint8Array, want: string): void => void list.push({ name, payload: uploadPayload(batch, n++), want });
  for (let p = 0; p < 12; p++) {
    const ps = new Pseudonym(rand, D).certify(ca);
    for (let b = 0; b < 4; b++) add(`valid ${p}.${b}`, ps.batch(Array.from({ length: size(p, b) }, (_, j) => b * 12 + j)), 'OK');
    const forged = ps.batch([40]);
    forged[forged.length - 1] ^= 1;
    add(`forged ${p}`, forged, 'E_SIGNATURE');
  }
  const ps = new Pseudonym(rand, D).certify(ca);
  const first = ps.batch([1, 2]);
  add('first', first, 'OK');
  add('replay (same batch: the original receipt)', first, 'DUPLICATE');
  const shared = ps.record(3);
  add('holds a record', signBatch({ day: D, ephemeralPub: ps.ephemeral, certificate: ps.cert.bytes, records: [shared, ps.record(4)] }, ps.signer), 'OK');
  add('foreign CA', new Pseudonym(rand, D).certify(foreign).batch([1]), 'E_CERT');
  add('certificate of another day', new Pseudonym(rand, D).certify(ca, { day: D - 1, notBefore: (D - 1) * DAY, notAfter: (D + 1) * DAY }).batch([1]), 'E_CERT');
  add('malformed', new Uint8Array(50).fill(7), 'E_VERSION');
  const greedy = new Pseudonym(rand, D).certify(ca);
  add('within the rate', greedy.batch(Array.from({ length: 40 }, (_, j) => j)), 'OK');
  add('over the rate', greedy.batch(Array.from({ length: 21 }, (_, j) => j)), 'E_RATE');
  add(
    'a record already in another batch',
    signBatch({ day: D, ephemeralPub: ps.ephemeral, certificate: ps.cert.bytes, records: [shared, ps.record(6)] }, ps.signer),
    'E_DUPLICATE',
  );
  add('another record for a claimed interval', ps.batch([7, 4]), 'E_CONFLICT');
  return { list, ca };
}

async function run(t: Test, workers: number): Promise<{ codes: string[]; keys: string[] }> {
  const tmp = tempDir(`ingest-pool-${workers}`);
  t.teardown(tmp.remove);
  const gw = new Ed25519Signer(bytesFrom(prng(7), 32));
  const ledger = new EmbeddedLedger({ now: hostNow, dir: join(tmp.dir, 'ledger'), signer: gw });
  await ledger.open();
  t.teardown(() => ledger.close());
  const { list, ca } = cases();
  const ingest = new Ingest({ ledger, caPublicKey: ca.publicKey, now: () => NOW_MS, rate: { burst: 60, perSecond: 0 }, verifyWorkers: workers });
  t.teardown(() => ingest.stop());
  t.equal(ingest.verifyWorkers, workers);
  // all at once but the last four (rate, duplicate, conflict: their code depends on what landed before), then those in turn
  const results = await Promise.all(list.slice(0, -4).map((c) => ingest.handle(c.payload)));
  for (const c of list.slice(-4)) results.push(await ingest.handle(c.payload));
  // the first copy and its replay ran concurrently: either may be the one appended, the other is the DUPLICATE
  const pair = [list.findIndex((c) => c.name === 'first'), list.findIndex((c) => c.name.startsWith('replay'))];
  const pairCodes = pair.map((i) => results[i].code).sort((a, b) => (a === 'OK' ? -1 : b === 'OK' ? 1 : 0));
  pair.forEach((i, k) => (results[i] = { ...results[i], code: pairCodes[k] }));
  const sth = (await ledger.sth('tracing'))!;
  let proofs = 0;
  for (let i = 0; i < list.length; i++) {
    const r = results[i];
    if (r.code !== 'OK' && r.code !== 'DUPLICATE') continue;
    const m = decodeMessage(r.reply!);
    if (m.type !== 'receipt') throw new Error('receipt expected');
    const batch = decodeMessage(list[i].payload);
    if (batch.type !== 'upload-batch') throw new Error('upload expected');
    const head = decodeSth(m.signedTreeHead);
    proofs += verifyInclusion(leafHash(batch.batch), m.leafIndex, head.treeSize, m.proof, head.rootHash) ? 1 : 0;
  }
  t.equal(proofs, results.filter((r) => r.code === 'OK' || r.code === 'DUPLICATE').length, "every receipt's inclusion proof verifies (the replay's too)");
  t.ok(
    results.every((r) => r.ack),
    'every message acknowledged',
  );
  const keys: string[] = [];
  for (const b of await ledger.blocks('tracing', 0, 1000)) for (const e of b.entries) keys.push(...e.keys.map(toHex));
  t.equal(new Set(keys).size, keys.length, 'every record exactly once');
  t.equal(sth.treeSize, list.filter((c) => c.want === 'OK').length, 'one entry per valid batch (the replay added none)');
  let valid = 2 + 2 + 40;
  for (let p = 0; p < 12; p++) for (let b = 0; b < 4; b++) valid += size(p, b);
  t.equal(keys.length, 2 * valid, 'a record hash and a claim key for each record of the valid batches');
  t.equal((await ledger.verify()).ok, true, 'ledger verifies');
  return { codes: results.map((r) => r.code), keys: keys.sort() };
}

t.test('inline and pooled verification: same codes, same ledger', async (t) => {
  const want = cases().list.map((c) => c.want);
  const inline = await run(t, 0);
  t.same(inline.codes, want, 'inline: the expected codes');
  for (const w of [1, 2]) {
    const pooled = await run(t, w);
    t.same(pooled.codes, want, `${w} worker(s): the same codes`);
    t.same(pooled.keys, inline.keys, `${w} worker(s): the same ledger keys`);
  }
});

t.test('VerifyPool: a worker killed with jobs outstanding answers them inline; idle workers stop', async (t) => {
  const s = new Ed25519Signer(bytesFrom(prng(9), 32));
  const domain = Buffer.from('beepkit/batch/v1');
  const msgs = Array.from({ length: 400 }, (_, i) => bytesFrom(prng(i + 1), 200));
  const sigs = msgs.map((m) => s.sign(Buffer.concat([domain, m])));
  const pool = new VerifyPool({ workers: 1, idleMs: 50 });
  t.teardown(() => pool.stop());
  t.same(await Promise.all(msgs.slice(0, 4).map((m, i) => pool.verify(s.publicKey, domain, m, sigs[i]))), [true, true, true, true]);
  t.equal(pool.size, 1, 'one worker started');
  const all = msgs.map((m, i) => pool.verify(s.publicKey, domain, m, i % 5 === 0 ? sigs[(i + 1) % sigs.length] : sigs[i]));
  await new Promise((r) => setImmediate(r)); // the jobs are now with the worker
  await (pool as unknown as { stop(): Promise<void> }).stop(); // terminates it mid-way
  const got = await Promise.all(all);
  t.same(
    got,
    msgs.map((_, i) => i % 5 !== 0),
    'every answer right (wrong signatures false, the rest true)',
  );
  t.equal(await pool.verify(s.publicKey, domain, msgs[0], sigs[0]), true, 'after stop: inline');
  t.equal(await pool.verify(new Uint8Array(31), domain, msgs[0], sigs[0]), false, 'a malformed key is false');

  const idle = new VerifyPool({ workers: 2, idleMs: 30 });
  t.teardown(() => idle.stop());
  t.equal(await idle.verify(s.publicKey, domain, msgs[1], sigs[1]), true);
  t.equal(idle.size, 1);
  while (idle.size > 0) await new Promise((r) => setTimeout(r, 20));
  t.equal(idle.size, 0, 'the idle worker stopped by itself');
  t.equal(await idle.verify(s.publicKey, domain, msgs[2], sigs[1]), false, 'and a new one answers');
});
