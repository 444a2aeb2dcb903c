/**
 * Notification follower against real mosquitto + the real Gateway: a block
 * with one of the agent's fingerprints raises a high-risk alert (latency from
 * publish to alert callback measured); a block without raises none; tampered
 * blocks are rejected by code and raise nothing (the genuine block then comes
 * by catch-up); an agent offline while blocks were published catches up from
 * its persisted cursor and processes each block once.
 * Plus a pure check of the compact Merkle frontier against protocol rootOf.
 */
import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { leafHash, rootOf } from '@beepkit/protocol/merkle';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { CORRELATION_ID_BYTES, encodeMessage, topics } from '@beepkit/protocol/wire';
import { encodeBlock } from '@beepkit/protocol/ledger';
import { GatewayMqtt } from '@beepkit/gateway/mqtt';
import { AlertDispatcher, CallbackSink, type Alert } from '../src/alerts/index.ts';
import { Follower, SelfMatcher, appendFrontier, frontierRoot, type VerifiedBlock } from '../src/follow/index.ts';
import { DAY, GW_PASSWORD, bytesFrom, dayKeySource, deviceMqtt, mosquitto, once, prng, startGateway, tempDir } from './net-helpers.ts';
import { hostNow } from '@beepkit/protocol/clock';

const TODAY = Math.floor(hostNow() / 1000 / DAY);
const DEVICE = 'agent-follow-1';

t.test('compact frontier root equals the RFC 9162 root at every size', async (t) => {
  const rand = prng(1);
  const leaves = Array.from({ length: 70 }, () => leafHash(bytesFrom(rand, 8)));
  let f: Uint8Array[] = [];
  for (let n = 0; n <= leaves.length; n++) {
    t.same(frontierRoot(f), rootOf(leaves.slice(0, n)), `size ${n}`);
    if (n < leaves.length) f = appendFrontier(f, n, [leaves[n]]);
  }
  t.same(frontierRoot(appendFrontier([], 0, leaves)), rootOf(leaves), 'bulk append');
});

t.test('follower: alert latency, no false alert, tampered blocks, offline catch-up', { skip: missing('mosquitto'), timeout: 90_000 }, async (t) => {
  const tmp = tempDir('follow');
  t.teardown(tmp.remove);
  const broker = mosquitto(join(tmp.dir, 'mosq'), 0, [DEVICE]);
  await broker.start();
  t.teardown(() => broker.stop());
  const gw = await startGateway(join(tmp.dir, 'gw'), broker.url, 0);
  t.teardown(() => gw.stop());
  const feedPub = new GatewayMqtt({ url: broker.url, clientId: 'feed-forger', username: 'gateway', password: GW_PASSWORD, clean: true });
  await feedPub.start();
  t.teardown(() => feedPub.stop());

  const keys = dayKeySource(77, TODAY - 30);
  const ownPrefixes = Array.from({ length: 14 }, (_, i) => ({ day: TODAY - i, prefix: keys(TODAY - i).pseudonym }));
  const exposure = (day: number, fp = fingerprint(keys(day).pseudonym), risk: 1 | 2 = 2): Uint8Array =>
    encodeNotificationEntry({ type: 'exposure', fingerprint: fp, risk, day });
  const rand = prng(9);
  const noise = (day: number): Uint8Array => exposure(day, bytesFrom(rand, 16));
  const alerts: { alert: Alert; at: number }[] = [];
  const alertWaiters: (() => void)[] = [];
  const dispatcher = new AlertDispatcher([
    new CallbackSink('test', (a) => {
      alerts.push({ alert: a, at: performance.now() });
      alertWaiters.splice(0).forEach((w) => w());
    }),
  ]);
  const nextAlert = (): Promise<void> => new Promise((r) => alertWaiters.push(r));
  const cursorPath = join(tmp.dir, 'agent', 'notification.cursor');

  async function agent(seed: number): Promise<{ follower: Follower; processed: number[]; stop(): Promise<void> }> {
    const mqtt = deviceMqtt(broker.url, DEVICE, seed);
    const matcher = new SelfMatcher({ now: hostNow, dispatcher, ownPrefixes: () => ownPrefixes });
    const processed: number[] = [];
    const follower = new Follower({
      mqtt,
      gatewayPublicKey: gw.keys.gateway.publicKey,
      cursorPath,
      onBlock: async (b: VerifiedBlock) => {
        processed.push(b.height);
        await matcher.onBlock(b);
      },
    });
    const caughtUp = once(follower, 'caught-up');
    await follower.start();
    mqtt.start();
    await caughtUp;
    return {
      follower,
      processed,
      stop: async () => {
        await follower.stop();
        await mqtt.stop();
      },
    };
  }
  mkdirSync(join(tmp.dir, 'agent'), { recursive: true });

  let a = await agent(1);
  t.equal(a.follower.height, 0, 'empty chain: caught up at height 0');

  // 1. own fingerprint → high-risk alert, latency measured from publish to callback
  const got = nextAlert();
  const t0 = performance.now();
  await gw.publishNotification([noise(TODAY - 2), exposure(TODAY - 2), noise(TODAY - 1)]);
  await got;
  const latencyMs = alerts[0].at - t0;
  t.equal(alerts.length, 1);
  t.match(alerts[0].alert, { kind: 'fingerprint', level: 'high', day: TODAY - 2 }, 'high-risk alert for the exposed day');
  t.ok(latencyMs < 1000, `alert within 1 s of publication (${latencyMs.toFixed(1)} ms)`);
  t.comment(`publish → alert latency: ${latencyMs.toFixed(1)} ms`);

  // 2. a block without own fingerprints → processed, no alert
  const b1 = once<VerifiedBlock>(a.follower, 'block', (b) => b.height === 1);
  await gw.publishNotification([noise(TODAY - 2), noise(TODAY - 3)]);
  t.equal((await b1).height, 1);
  t.equal(alerts.length, 1, 'no alert for a block without own fingerprints');

  // 3. tampered broadcasts: a forged entry (entries root breaks), then a forged signature
  const forge = async (mutate: (b: Awaited<ReturnType<typeof gw.ledger.blocks>>[number]) => void, expect: string): Promise<void> => {
    await gw.ledger.append('notification', [{ data: noise(TODAY - 5) }]); // genuine block, not broadcast
    const h = a.follower.height;
    const [blk] = await gw.ledger.blocks('notification', h, 1);
    mutate(blk);
    const rejected = once<{ code: string; height: number }>(a.follower, 'rejected');
    const genuine = once<VerifiedBlock>(a.follower, 'block', (b) => b.height === h);
    await feedPub.publish(
      topics.notificationFeed(),
      encodeMessage({ type: 'notification-block', correlationId: new Uint8Array(CORRELATION_ID_BYTES), height: h, block: encodeBlock(blk).bytes }),
      { qos: 1 },
    );
    const r = await rejected;
    t.equal(r.code, expect, `tampered block rejected with ${expect}`);
    t.equal(r.height, h);
    const g = await genuine;
    t.equal(g.height, h, 'the genuine block comes by catch-up');
  };
  await forge((blk) => {
    const data = exposure(TODAY - 5);
    blk.entries[0] = { ...blk.entries[0], data, entryHash: leafHash(data) };
  }, 'E_CHECKSUM');
  await forge((blk) => {
    blk.entries[0] = { ...blk.entries[0], data: exposure(TODAY - 5) };
    blk.header = { ...blk.header, signature: blk.header.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) };
  }, 'E_SIGNATURE');
  await forge((blk) => {
    const data = exposure(TODAY - 5);
    blk.entries[0] = { ...blk.entries[0], data };
  }, 'E_CHECKSUM');
  t.same(a.follower.rejectedByCode, { E_CHECKSUM: 2, E_SIGNATURE: 1 }, 'rejections counted by code');
  t.equal(alerts.length, 1, 'tampered blocks raise nothing');
  t.same(a.processed, [0, 1, 2, 3, 4], 'each block processed once, in order');

  // 4. offline while blocks are published: catch-up from the persisted cursor, each block once
  await a.stop();
  const from = a.follower.height;
  await gw.publishNotification([noise(TODAY - 6)]);
  await gw.publishNotification([noise(TODAY - 6), exposure(TODAY - 6)]);
  await gw.publishNotification([noise(TODAY - 7)]);
  const alerted = nextAlert();
  a = await agent(2);
  await alerted;
  if (a.follower.height < from + 3) await once(a.follower, 'block', () => a.follower.height === from + 3);
  await a.follower.idle();
  t.same(a.processed, [from, from + 1, from + 2], 'exactly the missed blocks, once each, from the cursor');
  t.equal(alerts.length, 2);
  t.match(alerts[1].alert, { kind: 'fingerprint', level: 'high', day: TODAY - 6 });
  const queued = a.follower.counters.broadcasts;
  await a.stop();

  a = await agent(3);
  await a.follower.idle();
  t.same(a.processed, [], 'nothing new: nothing processed after another restart');
  t.equal(a.follower.height, from + 3);
  t.comment(`broadcasts queued by the persistent session during the outage: ${queued}`);
  await a.stop();
});
