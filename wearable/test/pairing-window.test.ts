/**
 * Pairing mode is a window (injected monotonic clock, no sleeping): it ends when its time is up
 * (default 2 minutes), after a failed confirmation (either user says no), or after E_COMMIT; every
 * failed attempt is counted and logged; a failure before the code (a lost link) leaves it open.
 * Also: a revocation while the carer's sync is in flight ends that link at once, and the carer
 * holds no key of the wearable's identifiers after it.
 */
import t from 'tap';
import { toHex } from '@beepkit/protocol/bytes';
import { encodeOuter, InitiatorPairing, Inbox, type Inner } from '@beepkit/protocol/carer';
import { PairingWindow, DEFAULT_PAIRING_WINDOW_MS } from '../src/pairing-window.ts';
import { carerAndWearable, DAY, seeded, session } from './fixtures/memory.ts';

function logger() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const at = (o: object, msg: string) => void lines.push({ msg, ...o });
  return { lines, info: at, warn: at, error: at, debug: () => {} };
}

async function withWindow(t: Parameters<typeof carerAndWearable>[0], windowMs?: number) {
  const s = await carerAndWearable(t);
  let ms = 1_000;
  const log = logger();
  const window = new PairingWindow({ now: () => ms, windowMs, logger: log });
  window.open();
  const open = (confirm: boolean | (() => Promise<boolean>) = true) =>
    session(s.state, {
      pairingAllowed: () => window.allowed(),
      onPairingStarted: () => window.started(),
      onPairingFailed: (f) => window.failed(f),
      onPaired: () => window.paired(),
      confirm: typeof confirm === 'function' ? confirm : async () => confirm,
    });
  return { ...s, window, log, open, advance: (d: number) => (ms += d) };
}

t.test('the window ends after its time (default 2 minutes): a carer after it is refused', async (t) => {
  const s = await withWindow(t);
  t.equal(s.window.windowMs, DEFAULT_PAIRING_WINDOW_MS);
  s.advance(DEFAULT_PAIRING_WINDOW_MS - 1);
  t.ok(s.window.allowed(), 'open 1 ms before the end');
  s.advance(1);
  const x = s.open();
  await t.rejects(
    s.client().pair(x.carer, async () => true),
    { code: 'E_ABORTED', peerCode: 'E_DENIED' },
  );
  await t.rejects(x.served, { code: 'E_DENIED' });
  t.equal(s.window.closedReason, 'timeout');
  t.ok(
    s.log.lines.some((l) => l.msg === 'wearable: pairing mode ended' && l.reason === 'timeout'),
    'logged',
  );
  t.equal(s.state.pairing, undefined);
});

t.test('an attempt begun within the window may finish after its time; the window then ends as paired', async (t) => {
  const s = await withWindow(t, 10_000);
  let shown!: () => void;
  const codeShown = new Promise<void>((r) => (shown = r));
  const x = s.open(async () => {
    shown();
    s.advance(60_000); // the user takes a minute to compare the codes
    t.notOk(s.window.allowed(), 'no new attempt may start now');
    return true;
  });
  const paired = s.client().pair(x.carer, async () => (await codeShown, true));
  t.match(await paired, { label: 'Rose' });
  await x.served;
  t.ok(s.state.pairing, 'paired');
  t.equal(s.window.closedReason, 'paired');
});

t.test("a failed confirmation ends the window (the wearable's user says no, or the carer's)", async (t) => {
  for (const who of ['wearable', 'carer'] as const) {
    const s = await withWindow(t, 30_000);
    const x = s.open(who !== 'wearable');
    await t.rejects(
      s.client().pair(x.carer, async () => who !== 'carer'),
      { code: who === 'carer' ? 'E_CODE' : 'E_ABORTED' },
    );
    await t.rejects(x.served);
    t.equal(s.window.closedReason, 'failed-confirmation', `${who} declined: closed`);
    t.equal(s.window.failures, 1);
    t.match(
      s.log.lines.find((l) => l.msg === 'wearable: pairing attempt failed'),
      { afterCode: true, failures: 1 },
    );
    const y = s.open();
    await t.rejects(
      s.client().pair(y.carer, async () => true),
      { code: 'E_ABORTED', peerCode: 'E_DENIED' },
    );
    t.equal(s.state.pairing, undefined, 'no second chance in the same window');
  }
});

t.test('E_COMMIT ends the window; a link lost before the code is counted, the window stays open', async (t) => {
  const s = await withWindow(t);
  // lost before the code: counted, still open
  const lost = s.open();
  const hs0 = new InitiatorPairing(seeded('c0'));
  const in0 = new Inbox(lost.carer, 5_000);
  await lost.carer.send(hs0.hello());
  await in0.next();
  await lost.carer.close();
  await t.rejects(lost.served, { code: 'E_LINK' });
  t.equal(s.window.failures, 1, 'counted');
  t.ok(s.window.allowed(), 'still open');
  // a reveal that does not match the commitment
  const x = s.open();
  const hs = new InitiatorPairing(seeded('c1'));
  const inbox = new Inbox(x.carer, 5_000);
  await x.carer.send(hs.hello());
  await inbox.next();
  await x.carer.send(encodeOuter({ t: 'reveal', nonce: new Uint8Array(16).fill(3) }));
  await t.rejects(inbox.next(), { code: 'E_ABORTED', peerCode: 'E_COMMIT' });
  await t.rejects(x.served, { code: 'E_COMMIT' });
  t.equal(s.window.closedReason, 'commitment');
  t.equal(s.window.failures, 2);
  t.notOk(s.window.allowed());
});

t.test("revocation during a sync: the live link ends at once, no key of the wearable's identifiers after it at the carer", async (t) => {
  const s = await carerAndWearable(t);
  const p = session(s.state);
  await s.client().pair(p.carer, async () => true);
  await p.served;
  const id = s.store.list()[0]!.wearableId;
  for (let i = 0; i < 6; i++) await s.state.record(new Uint8Array(89).fill(i + 1));
  s.clock.s += 86_400; // the next day: the sync starts with that day's key
  const x = session(s.state);
  // the carer holds its first record's ack back until the revocation happened
  let revoked!: () => void;
  const gate = new Promise<void>((r) => (revoked = r));
  const send = x.carer.send.bind(x.carer);
  let sealed = 0;
  x.carer.send = async (m) => {
    if (m[0] === 0x10 && ++sealed === 3) await gate; // confirm, sync, then the first ack
    return send(m);
  };
  const c = s.client();
  const got: Inner['t'][] = [];
  c.on('record', () => got.push('record'));
  const syncing = c.sync(x.carer, id);
  syncing.catch(() => {});
  await new Promise<void>((r) => c.once('record', () => r()));
  const aborted = x.responder.revokeSessions(); // what the running wearable does on `revoking`
  const r = await s.state.revokeCarer();
  revoked();
  await aborted;
  t.match(r, { hadCarer: true, rotatedFromDay: DAY + 1 });
  await t.rejects(syncing, { code: 'E_ABORTED', peerCode: 'E_DENIED' });
  await t.rejects(x.served, { code: 'E_REVOKED' });
  t.ok(got.length < 6, `the sync stopped (${got.length} of 6 records)`);
  const held = s.store.dayKeys(id);
  t.same(
    held.map((d) => d.day),
    [DAY, DAY + 1],
    'the carer got the day of the revocation before it',
  );
  const now = s.state.keystore.dayKeys(DAY + 1).tek;
  t.notOk(
    held.some((d) => toHex(d.tek) === toHex(now)),
    "the TEK the wearable uses from now on is not the carer's",
  );
  t.notOk(held.some((d) => d.day > DAY + 1));
  // the carer's next sync: refused with a code
  const y = session(s.state);
  await t.rejects(s.client().sync(y.carer, id), { code: 'E_ABORTED', peerCode: 'E_DENIED' });
  await t.rejects(y.served, { code: 'E_DENIED' });
});
