/**
 * A carer's connect that misses (the wearable went out of range between the advert and the connect) is
 * cancelled, and the next connect reaches the wearable. Before the fix the missed attempt was
 * "disconnected" instead of cancelled: the controller stayed initiating, noble's connection queue kept
 * the attempt, and every later connect waited behind it until it timed out (the field trial's carer
 * then never synced again).
 */
import t from 'tap';
import { pairRig } from './fixtures/rig.ts';

const CREATE = 0x200d; // LE Create Connection
const CANCEL = 0x200e; // LE Create Connection Cancel

t.test('a missed connect is cancelled and the next one connects', async (t) => {
  const { air, cc, wc, carer } = await pairRig(t, 84, { CONNECT_MS: '1500' });
  const sent: number[] = [];
  let onCmd: (() => void) | undefined;
  cc.on('trace', (e: { dir: string; opcode?: number }) => {
    if (e.dir !== 'cmd' || (e.opcode !== CREATE && e.opcode !== CANCEL)) return;
    sent.push(e.opcode);
    onCmd?.();
  });
  /** How many `op` commands the carer's host had sent once it sent the n-th, or within 10 s (fewer: it never did). */
  const cmd = (op: number, n: number) =>
    new Promise<number>((resolve) => {
      const count = () => sent.filter((o) => o === op).length;
      const timer = setTimeout(() => ((onCmd = undefined), resolve(count())), 10_000);
      const check = () => {
        if (count() < n) return;
        clearTimeout(timer);
        onCmd = undefined;
        resolve(count());
      };
      onCmd = check;
      check();
    });
  const over = (m: number, what: string) => carer.waitFor((e) => e.ev === 'failed' || e.ev === 'connected', 30_000, what, m);

  carer.send({ op: 'find' });
  const { address } = await carer.waitFor((e) => e.ev === 'found', 60_000, 'wearable found');
  t.match(address, /^11:22:33:44:84:02$/i, 'found by its public address (pairing mode)');

  air.setPosition(wc.id, { x: 50_000, y: 0 }); // far out of range: its adverts no longer reach the carer
  let m = carer.mark();
  carer.send({ op: 'connect', address });
  t.match(await over(m, 'first connect over'), { ev: 'failed', code: 'E_TIMEOUT' }, 'out of range: the connect times out');
  t.equal(await cmd(CANCEL, 1), 1, 'the missed attempt is cancelled (one LE Create Connection Cancel)');
  t.equal(cc.st.initiating, undefined, 'the controller no longer initiates');

  m = carer.mark();
  carer.send({ op: 'connect', address });
  t.equal(await cmd(CREATE, 2), 2, 'the next connect is a new LE Create Connection, not queued behind the missed one');
  t.match(await over(m, 'second connect over'), { ev: 'failed', code: 'E_TIMEOUT' }, 'still out of range: it times out too');
  t.equal(await cmd(CANCEL, 2), 2, 'and it is cancelled too');

  air.setPosition(wc.id, { x: 2, y: 0 });
  m = carer.mark();
  carer.send({ op: 'connect', address });
  t.match(await over(m, 'third connect over'), { ev: 'connected' }, 'back in range: the next connect reaches it');
});
