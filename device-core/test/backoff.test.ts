import t from 'tap';
import { jitteredBackoffMs, MQTT_RECONNECT_BACKOFF, RetryTimer } from '@beepkit/device-core/infra/backoff';

// the one backoff formula of the MQTT clients (agent, gateway) and the uplink
t.test('jitteredBackoffMs: half to whole ceiling, doubling to the cap, defaults for what is left out', async (t) => {
  const d = MQTT_RECONNECT_BACKOFF;
  t.equal(
    jitteredBackoffMs(0, undefined, d, () => 0),
    100,
    'attempt 0, random 0: half of 200 ms',
  );
  t.equal(
    jitteredBackoffMs(0, undefined, d, () => 0.999),
    199.9,
    'attempt 0, random → 1: just under 200 ms',
  );
  t.equal(
    jitteredBackoffMs(3, undefined, d, () => 0),
    800,
    'attempt 3: ceiling 1600 ms',
  );
  t.equal(
    jitteredBackoffMs(10, undefined, d, () => 0),
    5_000,
    'capped at maxMs 10 s',
  );
  t.equal(
    jitteredBackoffMs(1_000, undefined, d, () => 0),
    5_000,
    'a huge attempt stays finite and capped',
  );
  t.equal(
    jitteredBackoffMs(1, { initialMs: 1000 }, d, () => 0),
    1000,
    'initialMs given, maxMs from the defaults',
  );
  t.equal(
    jitteredBackoffMs(5, { maxMs: 300 }, d, () => 0),
    150,
    'maxMs given',
  );
});

t.test('RetryTimer: one pending retry, delays doubling until reset, nothing after cancel', async (t) => {
  const r = new RetryTimer({ initialMs: 4, maxMs: 16 }, MQTT_RECONNECT_BACKOFF, () => 0);
  const ran: number[] = [];
  t.equal(
    r.schedule(() => ran.push(1)),
    2,
  );
  const second = new Promise<void>((res) =>
    t.equal(
      r.schedule(() => (ran.push(2), res())),
      4,
      'the second replaces the first',
    ),
  );
  await second;
  t.same(ran, [2], 'only the latest ran (the first was due earlier)');
  t.equal(
    r.schedule(() => ran.push(3)),
    8,
  );
  r.cancel();
  r.reset();
  t.equal(
    r.schedule(() => ran.push(4)),
    2,
    'after reset the first delay again',
  );
  r.cancel();
  // a later timer, due after both cancelled ones (8 and 2 ms)
  const later = new RetryTimer({ initialMs: 40, maxMs: 40 }, MQTT_RECONNECT_BACKOFF, () => 0);
  await new Promise<void>((res) => later.schedule(res));
  t.same(ran, [2], 'a cancelled retry never runs');
});
