/** The trace-driven air: a pair's recorded RSSI values are reported at their times, once each; other pairs stay on the model. */
import t from 'tap';
import { Air, TraceRssi, ADV_NONCONN_IND, type AirListener, type RxAdv } from '../src/air/index.ts';

class Probe implements AirListener {
  readonly adv: (RxAdv & { at: number })[] = [];
  private waiters: (() => void)[] = [];
  constructor(private readonly now: () => number) {}
  onAdv(a: RxAdv): void {
    this.adv.push({ ...a, at: this.now() });
    for (const w of this.waiters.splice(0)) w();
  }
  onLinkUp(): void {}
  onLinkData(): void {}
  onLinkDown(): void {}
  /** Resolves at the report that makes `pred` true (no sleeping). */
  until(pred: () => boolean): Promise<void> {
    return pred() ? Promise.resolve() : new Promise((resolve) => this.waiters.push(() => void this.until(pred).then(resolve)));
  }
}

t.test('recorded values at their times, in order, once; 127 as "not available"; the other transmitter on the model', async (t) => {
  const now = (): number => performance.now();
  const air = new Air({ seed: 7, now, advJitterMs: 0 });
  t.teardown(() => air.stop());
  const rx = new Probe(now);
  air.attach('rx', rx, { position: { x: 0, y: 0 } });
  air.setScanning('rx', { active: false, intervalMs: 10, windowMs: 10 });
  const t0 = now() + 100;
  const values = [-40, -55, 127, -90, -61, -72, -48, -83];
  const trace = new TraceRssi([{ tx: 'peer', rx: 'rx', samples: values.map((rssi, i) => ({ atMs: t0 + i * 60, rssi })) }]);
  air.setRssiSource(trace.source);
  for (const [id, x] of [
    ['peer', 1],
    ['modelled', 2],
  ] as const) {
    air.addBeacon({ id, position: { x, y: 0 }, txPower: -4, intervalMs: 5, type: ADV_NONCONN_IND, payload: Buffer.from([2, 1, 6]) });
  }
  // the air's timers are unref'd: this deadline keeps the process alive and fails a stalled run
  const deadline = setTimeout(() => t.fail('the trace was not reported within 10 s'), 10_000);
  await rx.until(() => trace.done && rx.adv.filter((a) => a.from === 'peer').length >= values.length);
  clearTimeout(deadline);
  const peer = rx.adv.filter((a) => a.from === 'peer');
  t.same(
    peer.map((a) => a.rssi),
    values,
    'every recorded value, in order, once',
  );
  // never before its time; how late depends on the advertising interval (5 ms) and the machine's load
  peer.forEach((a, i) => t.ok(a.at >= t0 + i * 60, `sample ${i} reported ${(a.at - t0 - i * 60).toFixed(1)} ms after its time`));
  t.equal(trace.reported.get('peer|rx'), values.length);
  const modelled = rx.adv.filter((a) => a.from === 'modelled');
  t.ok(modelled.length > 20, `the untraced transmitter keeps reporting (${modelled.length})`);
  t.ok(
    modelled.every((a) => a.rssi > -80 && a.rssi < -20),
    'on the path-loss model at 2 m',
  );
});
