import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { MosquittoRunner, type QueueProfile } from '../src/broker/index.ts';
import { client, CREDENTIALS, POLICY, tempDir } from './broker-helpers.ts';

const N = 20_000;

/** Publishes N QoS 1 messages as fast as one client can to a deferred-acking subscriber; returns distinct ids received. */
async function blast(queues: QueueProfile, port: number): Promise<{ distinct: number; received: number }> {
  const tmp = tempDir(`load-${queues}`);
  const broker = new MosquittoRunner({ dir: tmp.dir, port, credentials: CREDENTIALS, acl: POLICY, queues });
  await broker.start();
  const gw = client(broker.url, 'gateway', `gw-load-${queues}`, { clean: false });
  const dev = client(broker.url, 'dev1', `dev1-load-${queues}`, { maxInflight: 5000 });
  try {
    const ids = new Set<number>();
    let received = 0;
    let lastDone!: () => void;
    const last = new Promise<void>((r) => (lastDone = r));
    gw.onMessage((_topic, payload, ack) => {
      received++;
      ids.add(payload.readUInt32BE(0));
      if (payload.readUInt32BE(4) === 1) lastDone();
      setImmediate(() => ack(true)); // deferred: acked on a later turn, like a ledger append
    });
    await gw.start();
    await gw.subscribe('beepkit/v1/dev/+/up/+', 1);
    await dev.start();
    const body = Buffer.alloc(3000, 0x5a);
    await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const p = Buffer.from(body);
        p.writeUInt32BE(i, 0);
        p.writeUInt32BE(0, 4);
        return dev.publish('beepkit/v1/dev/dev1/up/batch', p);
      }),
    );
    // End marker on the same topic: QoS 1 per-topic ordering means it arrives after
    // everything the broker kept.
    const end = Buffer.alloc(8);
    end.writeUInt32BE(N, 0);
    end.writeUInt32BE(1, 4);
    // (repeated: the default profile may drop a marker too)
    let seen = false;
    void last.then(() => (seen = true));
    while (!seen) {
      await dev.publish('beepkit/v1/dev/dev1/up/batch', end);
      await Promise.race([last, new Promise((r) => setTimeout(r, 2000).unref())]);
    }
    ids.delete(N);
    return { distinct: ids.size, received };
  } finally {
    await dev.stop();
    await gw.stop();
    await broker.stop();
    tmp.remove();
  }
}

t.test('tuned mosquitto: 20 000 QoS 1 messages, deferred acks, no loss', { skip: missing('mosquitto'), timeout: 180_000 }, async (t) => {
  const r = await blast('tuned', 0);
  t.equal(r.distinct, N, 'every message arrived');
  t.comment(`tuned: ${r.received} deliveries of ${N} messages`);
});

t.test(
  'default mosquitto queues (informative)',
  { skip: missing('mosquitto') || (process.env.BEEPKIT_INFORMATIVE ? false : 'set BEEPKIT_INFORMATIVE=1'), timeout: 180_000 },
  async (t) => {
    const r = await blast('default', 0);
    t.ok(r.distinct > 0 && r.distinct <= N, `default config delivered ${r.distinct} of ${N} distinct messages`);
  },
);
