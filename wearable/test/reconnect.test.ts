/**
 * The carer reconnect (resume v2) as a listener and a prober see it, over in-memory links with
 * every message recorded: two reconnects of the same pairing share no byte string longer than 4
 * bytes outside the fixed headers (no pairing id, nothing static); a keyless probe, a probe with
 * another pairing's key and a replayed genuine resume get exactly the stranger's answer; a recorded
 * session does not open with the pairing key alone (forward secrecy), only with an ephemeral
 * secret; an old-version reconnect is refused with E_PAIR_AGAIN, which the carer reports as such.
 */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { hkdf, taggedHash, x25519, x25519PublicKey } from '@beepkit/protocol/crypto';
import { CarerClient } from '@beepkit/agent/carer';
import {
  decodeOuter,
  encodeOuter,
  Inbox,
  memoryLinkPair,
  resumeSessionKeys,
  resumeTag,
  RESUME_VERSION,
  SecureChannel,
  type SessionKeys,
} from '@beepkit/protocol/carer';
import { carerAndWearable, seeded, session, type Recorded } from './fixtures/memory.ts';

/** The bytes a message carries beyond its fixed header (type; + version for resume/reply; + seq for sealed). */
function variable(m: Uint8Array): Uint8Array {
  const type = m[0];
  if (type === 0x04 || type === 0x05) return m.subarray(2);
  if (type === 0x10) return m.subarray(5);
  return m.subarray(1);
}

/** The longest byte string two recordings share (outside fixed headers), up to `cap`. */
function longestShared(x: Recorded, y: Recorded, cap = 8): number {
  let best = 0;
  for (let n = 1; n <= cap; n++) {
    const grams = new Set<string>();
    for (const m of x) {
      const v = variable(m.bytes);
      for (let i = 0; i + n <= v.length; i++) grams.add(toHex(v.subarray(i, i + n)));
    }
    const hit = y.some((m) => {
      const v = variable(m.bytes);
      for (let i = 0; i + n <= v.length; i++) if (grams.has(toHex(v.subarray(i, i + n)))) return true;
      return false;
    });
    if (!hit) break;
    best = n;
  }
  return best;
}

async function paired(t: Parameters<typeof carerAndWearable>[0]) {
  const s = await carerAndWearable(t);
  const p = session(s.state);
  await s.client(seeded('pair')).pair(p.carer, async () => true);
  await p.served;
  return { ...s, id: s.store.list()[0]!.wearableId };
}

t.test('two reconnects share nothing a listener could link (no byte string > 4 outside fixed headers)', async (t) => {
  const s = await paired(t);
  await s.state.record(new Uint8Array(89).fill(7));
  const one = session(s.state);
  await s.client().sync(one.carer, s.id);
  await one.served;
  await s.state.record(new Uint8Array(89).fill(7)); // the same record content again: sealed under other keys
  const two = session(s.state);
  await s.client().sync(two.carer, s.id);
  await two.served;
  t.ok(one.air.length >= 6 && two.air.length >= 6, `recorded ${one.air.length} and ${two.air.length} messages`);
  t.same(
    one.air.map((m) => m.bytes[0]),
    two.air.map((m) => m.bytes[0]),
    'the same message types (headers are fixed)',
  );
  const shared = longestShared(one.air, two.air);
  t.ok(shared <= 4, `longest shared byte string: ${shared} bytes`);
  const pid = s.store.list()[0]!.pairingId;
  t.notOk(
    [...one.air, ...two.air].some((m) => toHex(m.bytes).includes(pid)),
    'the pairing id never travels',
  );
  // the check can fail: a static 16-byte field in both would be found
  t.ok(
    longestShared(
      [{ dir: 'c2w', bytes: Uint8Array.of(0x03, ...new Uint8Array(16).fill(9)) }],
      [{ dir: 'c2w', bytes: Uint8Array.of(0x03, 1, ...new Uint8Array(16).fill(9)) }],
    ) >= 8,
  );
});

t.test("a keyless probe gets the stranger's answer: paired or not, another key, a replay", async (t) => {
  const s = await paired(t);
  const genuine = session(s.state);
  await s.client().sync(genuine.carer, s.id);
  await genuine.served;
  const recordedResume = genuine.air[0]!.bytes;

  /** Sends `resume` and a 64-byte sealed "confirm", returns what comes back: types and lengths, abort codes. */
  const probe = async (resume: Uint8Array): Promise<string[]> => {
    const x = session(s.state);
    const inbox = new Inbox(x.carer, 5_000);
    await x.carer.send(resume);
    const reply = await inbox.next();
    await x.carer.send(encodeOuter({ t: 'sealed', seq: 0, box: new Uint8Array(49).fill(1) }));
    const end = await inbox.next().then(
      () => 'more',
      (e: { message: string }) => e.message,
    );
    await x.carer.close();
    await x.served.catch(() => {});
    return [`${reply.msg.t}/${reply.bytes.length}`, end];
  };
  const keyless = (seed: string, key = seeded(seed)(32)): Uint8Array => {
    const r = seeded(`${seed}/e`);
    const pub = x25519PublicKey(r(32));
    const nonce = r(16);
    return encodeOuter({ t: 'resume', version: RESUME_VERSION, pub, nonce, tag: resumeTag(key, RESUME_VERSION, pub, nonce) });
  };
  const stranger = await probe(keyless('p1'));
  t.same(stranger, ['resume-reply/50', 'peer aborted: E_DENIED'], 'the stranger: a reply, then E_DENIED');
  t.same(await probe(keyless('p2')), stranger, 'another random key');
  t.same(await probe(recordedResume), stranger, 'a replayed genuine resume: the same answer');
  const before = s.state.pairing!.pairingKey;
  await s.state.forgetCarer('test');
  t.same(await probe(keyless('p3')), stranger, 'an unpaired wearable: the same answer');
  t.same(
    await probe(keyless('p4', Buffer.from(before, 'hex'))),
    ['resume-reply/50', 'peer aborted: E_DENIED'],
    "the old pairing's own key, once forgotten: the same answer",
  );
});

t.test('forward secrecy: a recorded session does not open with the pairing key alone', async (t) => {
  const s = await paired(t);
  s.clock.s += 86_400; // a new day: the sync carries a day key
  const x = session(s.state);
  const res = await s.client(seeded('fs')).sync(x.carer, s.id);
  await x.served;
  t.equal(res.days, 1, 'the recorded session carried a day key');
  const pk = Buffer.from(s.store.list()[0]!.pairingKey, 'hex');
  const resume = x.air[0]!.bytes;
  const reply = x.air[1]!.bytes;
  const r = decodeOuter(resume);
  const p = decodeOuter(reply);
  if (r.t !== 'resume' || p.t !== 'resume-reply') throw new Error('unexpected recording');
  const fromWearable = x.air.filter((m) => m.dir === 'w2c' && m.bytes[0] === 0x10).map((m) => decodeOuter(m.bytes));
  const opens = (keys: SessionKeys): boolean => {
    const ch = new SecureChannel(keys, 'carer');
    try {
      ch.checkConfirm(ch.open(fromWearable[0]!));
      const k = ch.open(fromWearable[1]!);
      return k.t === 'keys' && k.days.length === 1;
    } catch {
      return false;
    }
  };
  const t1 = taggedHash('beepkit/v1/carer/resume', resume, reply);
  const v1 = hkdf(pk, t1, 'beepkit/v1/carer/resume', 64);
  const guesses: [string, SessionKeys][] = [
    ['the v1 derivation (pairing key and nonces)', { transcript: t1, send: v1.slice(0, 32), recv: v1.slice(32, 64) }],
    ['no ephemeral secret', resumeSessionKeys(pk, new Uint8Array(32), resume, reply, 'carer')],
    ["the carer's public ephemeral", resumeSessionKeys(pk, r.pub, resume, reply, 'carer')],
    ["the wearable's public ephemeral", resumeSessionKeys(pk, p.pub, resume, reply, 'carer')],
    ['X25519 of the pairing key with Eb', resumeSessionKeys(pk, x25519(pk, p.pub), resume, reply, 'carer')],
  ];
  for (const [what, keys] of guesses) t.notOk(opens(keys), `with the pairing key and ${what}: sealed`);
  // positive control: the carer's ephemeral private key (its seeded random's first 32 bytes) opens it
  const ea = seeded('fs')(32);
  t.ok(opens(resumeSessionKeys(pk, x25519(ea, p.pub), resume, reply, 'carer')), 'with the ephemeral secret the recording opens');
});

t.test('an old-version reconnect is refused with E_PAIR_AGAIN; the carer reports it', async (t) => {
  const s = await paired(t);
  const x = session(s.state);
  const inbox = new Inbox(x.carer, 5_000);
  await x.carer.send(encodeOuter({ t: 'resume-old', version: 1, rest: new Uint8Array(32).fill(4) })); // v1: 16-byte pairing id, 16-byte nonce
  await t.rejects(inbox.next(), { code: 'E_ABORTED', peerCode: 'E_PAIR_AGAIN' });
  await t.rejects(x.served, { code: 'E_PAIR_AGAIN' });
  // a carer talking to a wearable that refuses its version says so (not a bare E_ABORTED)
  const { a, b } = memoryLinkPair();
  b.on('message', () => void b.send(encodeOuter({ t: 'abort', code: 'E_PAIR_AGAIN' })));
  const c = new CarerClient({ store: s.store, sink: async () => {}, timeoutMs: 5_000, now: () => 0 });
  await t.rejects(c.sync(a, s.id), { code: 'E_PAIR_AGAIN', message: /pair it again/ });
});
