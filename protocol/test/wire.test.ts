import t from 'tap';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { codeOf } from './fuzz-helpers.ts';
import { fromHex, toHex } from '../src/bytes.ts';
import { jsonView } from '../src/frames/index.ts';
import {
  CODECS,
  decodeAs,
  decodeMessage,
  DEVICE_ACL_PATTERNS,
  encodeMessage,
  gatewaySubscriptions,
  mosquittoAcl,
  offlineWill,
  parseTopic,
  peekEnvelope,
  shared,
  topics,
  type WireMessage,
  type WireType,
} from '../src/wire/index.ts';

const { vectors } = JSON.parse(readFileSync(new URL('./vectors/wire/messages.json', import.meta.url), 'utf8')) as {
  vectors: { name: string; type: WireType; hex: string; message: Record<string, unknown> }[];
};

t.test('wire vectors: every message type decodes to the frozen JSON and re-encodes byte for byte', async (t) => {
  for (const v of vectors) {
    const m = decodeMessage(fromHex(v.hex));
    t.equal(m.type, v.type, v.name);
    t.ok(isDeepStrictEqual(jsonView(m), v.message), `${v.name} decodes to the vector JSON`);
    t.equal(toHex(encodeMessage(m)), v.hex, `${v.name} re-encodes`);
    t.same(peekEnvelope(fromHex(v.hex)), { type: m.type, correlationId: m.correlationId });
  }
  t.same([...new Set(vectors.map((v) => v.type))].sort(), Object.keys(CODECS).sort(), 'a vector for every type');
});

t.test('envelope errors', async (t) => {
  const batch = fromHex(vectors.find((v) => v.type === 'upload-batch')!.hex);
  const patch = (at: number, v: number): Uint8Array => {
    const b = batch.slice();
    b[at] = v;
    return b;
  };
  t.equal(
    codeOf(() => decodeMessage(patch(0, 0x43))),
    'E_FORMAT',
    'bad magic',
  );
  t.equal(
    codeOf(() => decodeMessage(patch(2, 2))),
    'E_VERSION',
  );
  t.equal(
    codeOf(() => decodeMessage(patch(3, 0x7f))),
    'E_TYPE',
  );
  t.equal(
    codeOf(() => decodeMessage(batch.subarray(0, batch.length - 1))),
    'E_TRUNCATED',
  );
  t.equal(
    codeOf(() => decodeMessage(Uint8Array.of(...batch, 0))),
    'E_TRAILING',
  );
  t.equal(
    codeOf(() => decodeMessage(new Uint8Array(0))),
    'E_TRUNCATED',
  );
  t.equal(
    codeOf(() => decodeAs(batch, 'receipt')),
    'E_TYPE',
  );
  t.equal(
    codeOf(() => encodeMessage({ type: 'upload-batch', correlationId: new Uint8Array(7), batch } as WireMessage)),
    'E_RANGE',
  );
  t.equal(
    codeOf(() => encodeMessage({ type: 'nope', correlationId: new Uint8Array(8) } as unknown as WireMessage)),
    'E_TYPE',
  );
});

t.test('body validation on encode and decode', async (t) => {
  const cid = new Uint8Array(8);
  const enc = (m: unknown): string => codeOf(() => encodeMessage(m as WireMessage));
  t.equal(enc({ type: 'error', correlationId: cid, code: 'bad', message: '', recordHashes: [] }), 'E_FORMAT');
  t.equal(enc({ type: 'error', correlationId: cid, code: 'E_X', message: '\ud800', recordHashes: [] }), 'E_FORMAT', 'lone surrogate');
  t.equal(enc({ type: 'venue-status-query', correlationId: cid, venueId: new Uint8Array(5) }), 'E_RANGE');
  t.equal(enc({ type: 'venue-status-reply', correlationId: cid, venueId: new Uint8Array(6), state: 'closed', sinceMs: 0 }), 'E_RANGE');
  t.equal(
    enc({
      type: 'venue-register',
      correlationId: cid,
      venueId: new Uint8Array(6),
      regionPath: [],
      latE6: 91e6,
      lonE6: 0,
      radiusM: 1,
      keyMaterial: new Uint8Array(0),
      name: '',
    }),
    'E_RANGE',
  );
  t.equal(enc({ type: 'device-status', correlationId: cid, state: 'online', agentVersion: '', counters: { a: -1 } }), 'E_RANGE');
  t.equal(
    enc({
      type: 'receipt',
      correlationId: cid,
      entryHash: new Uint8Array(32),
      leafIndex: 0,
      blockHeight: 0,
      proof: [new Uint8Array(31)],
      signedTreeHead: new Uint8Array(0),
    }),
    'E_RANGE',
  );
  // Decode side: enum out of range, unsorted counters, coordinates out of range.
  const reply = fromHex(vectors.find((v) => v.type === 'venue-status-reply')!.hex);
  reply[18] = 9;
  t.equal(
    codeOf(() => decodeMessage(reply)),
    'E_RANGE',
  );
  const status = encodeMessage({ type: 'device-status', correlationId: cid, state: 'online', agentVersion: '', counters: { a: 1, b: 2 } });
  const swapped = toHex(status).replace('000161', '0001XX').replace('000162', '000161').replace('0001XX', '000162');
  t.equal(
    codeOf(() => decodeMessage(fromHex(swapped))),
    'E_FORMAT',
    'counters must be sorted',
  );
  const reg = fromHex(vectors.find((v) => v.type === 'venue-register')!.hex);
  const at = toHex(reg).indexOf((48137154).toString(16).padStart(8, '0')) / 2; // latE6
  t.ok(at > 12, 'latE6 found');
  reg[at] = 0x7f;
  t.equal(
    codeOf(() => decodeMessage(reg)),
    'E_RANGE',
  );
});

t.test('topic map, parser and shared subscriptions', async (t) => {
  const id = 'a1b2c3d4-0000';
  const cases: [string, string][] = [
    [topics.uplinkBatch(id), 'uplink-batch'],
    [topics.caRequest(id), 'ca-request'],
    [topics.catchupRequest(id), 'catchup-request'],
    [topics.venueRegister(id), 'venue-register'],
    [topics.venueStatusQuery(id), 'venue-status-query'],
    [topics.reply(id), 'reply'],
    [topics.status(id), 'status'],
    [topics.carerAlert(id), 'carer-alert'],
  ];
  for (const [topic, kind] of cases) {
    t.match(topic, /^beepkit\/v1\//);
    t.same(parseTopic(topic), { kind, deviceId: id }, topic);
  }
  t.equal(topics.uplinkBatch(id), 'beepkit/v1/dev/a1b2c3d4-0000/up/batch');
  t.same(parseTopic(topics.notificationFeed()), { kind: 'notification-feed' });
  for (const bad of [
    'beepkit/v1/dev/SHORT/reply',
    'beepkit/v1/dev/a1b2c3d4-0000/up/nope',
    'beepkit/v2/feed/notification',
    'beepkit/v1/dev/+/reply',
    'beepkit/v1/dev/a1b2c3d4-0000/reply/x',
    'beepkit/v1/carer/a1b2c3d4-0000/reply',
    '$share/g/beepkit/v1/feed/notification',
    '',
  ]) {
    t.equal(
      codeOf(() => parseTopic(bad)),
      'E_TYPE',
      JSON.stringify(bad),
    );
  }
  t.equal(
    codeOf(() => topics.reply('Has/Slash')),
    'E_FORMAT',
  );
  t.equal(
    codeOf(() => topics.reply('short')),
    'E_FORMAT',
  );
  t.same(gatewaySubscriptions(), ['beepkit/v1/dev/+/up/+', 'beepkit/v1/dev/+/status']);
  t.same(gatewaySubscriptions('gw'), ['$share/gw/beepkit/v1/dev/+/up/+', '$share/gw/beepkit/v1/dev/+/status']);
  t.equal(
    codeOf(() => shared('a/b', 'x')),
    'E_FORMAT',
  );
});

t.test('ACL patterns confine a device to its own topics', async (t) => {
  const acl = mosquittoAcl('gateway');
  t.match(acl, /^user gateway\ntopic readwrite beepkit\/v1\/#\n/);
  t.match(acl, /^pattern write beepkit\/v1\/dev\/%u\/up\/\+$/m);
  t.match(acl, /^pattern read beepkit\/v1\/dev\/%u\/reply$/m);
  t.equal(
    codeOf(() => mosquittoAcl('bad user')),
    'E_CONFIG',
  );
  // Every device-owned topic is covered by a %u rule with the right access, and no rule lets a device write elsewhere.
  const allows = (user: string, access: 'read' | 'write', topic: string): boolean =>
    DEVICE_ACL_PATTERNS.some(
      (r) =>
        (r.access === access || r.access === 'readwrite') &&
        new RegExp('^' + r.topic.replace('%u', user).replace(/[.]/g, '\\.').replace('+', '[^/]+').replace('#', '.*') + '$').test(topic),
    );
  const me = 'device-0001';
  const other = 'device-0002';
  for (const topic of [
    topics.uplinkBatch(me),
    topics.caRequest(me),
    topics.catchupRequest(me),
    topics.venueRegister(me),
    topics.venueStatusQuery(me),
    topics.status(me),
  ]) {
    t.ok(allows(me, 'write', topic), `may write ${topic}`);
    t.notOk(allows(other, 'write', topic), `other may not write ${topic}`);
  }
  for (const topic of [topics.reply(me), topics.carerAlert(me)]) {
    t.ok(allows(me, 'read', topic));
    t.notOk(allows(other, 'read', topic));
    t.notOk(allows(other, 'write', topic), `another device cannot write ${topic}`);
  }
  t.notOk(allows(me, 'write', topics.reply(me)), 'a device cannot forge its own replies');
  t.ok(allows(me, 'write', topics.carerAlert(me)), "a carer agent publishes its wearables' alerts on its own alert topic");
  t.ok(allows(me, 'read', topics.notificationFeed()));
  t.notOk(allows(me, 'write', topics.notificationFeed()));
});

t.test('offline will', async (t) => {
  const w = offlineWill('device-0001', '0.1.0');
  t.equal(w.topic, 'beepkit/v1/dev/device-0001/status');
  t.equal(w.retain, true);
  t.match(decodeAs(w.payload, 'device-status'), { state: 'offline', agentVersion: '0.1.0', counters: {} });
  t.equal(toHex(w.payload), vectors.find((v) => v.name === 'device-status-will')!.hex);
});
