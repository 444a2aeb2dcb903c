import t from 'tap';
import { jitteredBackoffMs, MQTT_RECONNECT_BACKOFF } from '@beepkit/device-core/infra/backoff';

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
