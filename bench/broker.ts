/**
 * Broker baseline: QoS 1 message rate from one publishing client through the
 * broker to one no-op subscriber (GatewayMqtt, PUBACK sent from the handler,
 * i.e. the deferred-ack path with zero work), at ~3 KB per message (a day's
 * batch of 28 TraceCodes). Real mosquitto with the tuned queue profile vs the
 * embedded aedes broker, in the same run. The gateway-ingest bench compares
 * against these figures.
 *
 * The one publishing device sends ~15–45 MB/s here, far over the embedded
 * broker's per-device inbound cap (limits.maxBytesPerSecond, 1 MiB/s), which
 * would pace it to ~350 msg/s of 3 KB by design (the hostile tests check that
 * cap). mosquitto has no per-client byte rate (the firewall does it), so for a
 * like-for-like broker figure the bench lifts that one cap on aedes; the guard
 * still reads every header and meters every chunk, all other limits stay default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE_PATTERNS, EmbeddedBroker, hashPassword, MosquittoRunner } from '@beepkit/gateway/broker';
import { requireTool } from '../scripts/tools.ts';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { sample, summarise, type Bench, type BenchResult } from './lib.ts';
import { freePort } from './gateway-ingest.ts';

const MSG_BYTES = 3000;
const PW = { gateway: 'bench-gw', dev1: 'bench-dev' };
const CREDENTIALS = { gateway: hashPassword(PW.gateway), dev1: hashPassword(PW.dev1) };
const ACL = { superusers: ['gateway'], patterns: DEFAULT_DEVICE_PATTERNS };
/** Per-device inbound cap on aedes for this bench: 1 GiB/s, never reached (see above). */
const BENCH_DEVICE_BYTES_PER_S = 1024 ** 3;

/** Messages/s delivered end to end for `n` messages. */
async function rate(url: string, n: number, tag: string): Promise<number> {
  const sub = new GatewayMqtt({ url, clientId: `bench-sub-${tag}`, username: 'gateway', password: PW.gateway, clean: true });
  const pub = new GatewayMqtt({ url, clientId: `dev1:bench-pub-${tag}`, username: 'dev1', password: PW.dev1, clean: true, maxInflight: 2000 });
  let got = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  sub.onMessage((_t, _p, ack) => {
    ack(true);
    if (++got === n) finish();
  });
  await sub.start();
  await sub.subscribe('beepkit/v1/dev/+/up/+', 1);
  await pub.start();
  const body = Buffer.alloc(MSG_BYTES, 0xa5);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: n }, () => pub.publish('beepkit/v1/dev/dev1/up/batch', body, { qos: 1 })));
  await all;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await pub.stop();
  await sub.stop();
  return n / s;
}

const bench: Bench = {
  name: 'broker',
  description: `QoS 1 ${MSG_BYTES}-byte messages, 1 publisher -> broker -> 1 no-op subscriber: mosquitto (tuned) vs aedes`,
  async run(ctx): Promise<BenchResult> {
    // the comparison is the point: without mosquitto the bench fails naming the package (E_TOOL), never half-reports
    const binary = requireTool('mosquitto', 'the broker bench');
    const n = ctx.smoke ? 2000 : 20_000;
    const metrics: BenchResult['metrics'] = {};
    const notes = [
      `${n} messages of ${MSG_BYTES} bytes per sample; MQTT 3.1.1; subscriber acks in its handler`,
      'aedes: per-device inbound cap lifted to 1 GiB/s (default 1 MiB/s paces this one-device flood to ~350 msg/s; mosquitto has no such cap); other limits default',
    ];
    const aedes = new EmbeddedBroker({ port: await freePort(), credentials: CREDENTIALS, acl: ACL, limits: { maxBytesPerSecond: BENCH_DEVICE_BYTES_PER_S } });
    await aedes.start();
    try {
      metrics.aedes_msgs_per_s = summarise(await sample(ctx.repeats, () => rate(aedes.url, n, 'aedes')), 'msg/s');
    } finally {
      await aedes.stop();
    }
    ctx.log(`aedes: ${Math.round(metrics.aedes_msgs_per_s.median)} msg/s`);
    {
      const dir = mkdtempSync(join(os.tmpdir(), 'beepkit-bench-broker-'));
      const mosq = new MosquittoRunner({ binary, dir, port: await freePort(), credentials: CREDENTIALS, acl: ACL, queues: 'tuned' });
      try {
        await mosq.start();
        metrics.mosquitto_msgs_per_s = summarise(await sample(ctx.repeats, () => rate(mosq.url, n, 'mosq')), 'msg/s');
      } finally {
        await mosq.stop();
        rmSync(dir, { recursive: true, force: true });
      }
      ctx.log(`mosquitto: ${Math.round(metrics.mosquitto_msgs_per_s.median)} msg/s`);
      metrics.mosquitto_vs_aedes = summarise([metrics.mosquitto_msgs_per_s.median / metrics.aedes_msgs_per_s.median], 'ratio');
    }
    return { metrics, notes };
  },
};

export default bench;
