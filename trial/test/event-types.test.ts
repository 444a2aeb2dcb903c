/**
 * Guard: every dashboard event type the page handles is published by the trial
 * (or another producer under trial/src), and every event the agent listens
 * for is emitted in agent/src or comes from Node or a library. A planted
 * consumer without a producer fails each.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consumedNotProduced } from './event-guard.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string, ext: RegExp, skip?: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (skip?.test(p)) continue;
    if (statSync(p).isDirectory()) out.push(...files(p, ext, skip));
    else if (ext.test(e)) out.push(p);
  }
  return out;
}
const texts = (ps: string[]): string[] => ps.map((p) => readFileSync(p, 'utf8'));

const DASH_CONSUMED = /case '([a-z-]+)'/;
/** An object literal `type: 'x',` (a type declaration `type: 'x';` is not a producer). */
const DASH_PRODUCED = /type: '([a-z-]+)'(?!;)/;
const dashboard = {
  consumers: texts(files(join(ROOT, 'trial/src/dashboard/static'), /\.js$/)),
  producers: texts(files(join(ROOT, 'trial/src'), /\.ts$/, /dashboard\/(static|state\.ts)/)),
};

const AGENT_CONSUMED = /\.(?:on|once)\('([A-Za-z-]+)'/;
const AGENT_PRODUCED = /emit\('([A-Za-z-]+)'/;
/** Events the agent listens for that Node or a library emits. */
const EXTERNAL: Record<string, string> = {
  error: 'Node streams, sockets, MQTT.js',
  close: 'Node streams, sockets, MQTT.js',
  data: 'Node streams, serialport',
  connect: 'MQTT.js',
  end: 'Node streams (an HTTP answer read to its end: device-core infra/http-client.ts)',
  secureConnect: 'node:tls (the TLS handshake of an mqtts:// connection: device-core mqtt/connect.ts)',
  open: 'serialport',
  line: 'node:readline',
  disconnect: 'noble peripheral',
  stateChange: 'noble/bleno',
  discover: 'noble',
  scanStop: 'noble',
  leAdvertisingReport: 'HCI socket (hci-socket)',
  leExtendedAdvertisingReport: 'HCI socket (hci-socket)',
  SIGINT: 'process',
  SIGTERM: 'process',
  message: 'MQTT.js',
  drain: 'Node writable streams (process.stdout)',
  tlsClientError: 'node:tls servers (the carer page over TLS)',
};
// the agent and the device core it runs on (radio, GNSS, MQTT client: where most of its events are emitted)
const agentSrc = texts([...files(join(ROOT, 'agent/src'), /\.ts$/), ...files(join(ROOT, 'device-core/src'), /\.ts$/)]);

t.test('dashboard: every event type the page handles has a producer', async (t) => {
  // `rssi` and `encounter` come from the trial's proximity view (src/demo/proximity.ts, the agents' feeds)
  t.same(consumedNotProduced({ ...dashboard, consumed: DASH_CONSUMED, produced: DASH_PRODUCED }), []);
  const planted = { ...dashboard, consumers: [...dashboard.consumers, "switch (e.type) { case 'queue-depth': draw(e); }"] };
  t.same(consumedNotProduced({ ...planted, consumed: DASH_CONSUMED, produced: DASH_PRODUCED }), ['queue-depth'], 'a planted consumer without a producer fails');
});

t.test('agent: every event listened for is emitted (or external)', async (t) => {
  t.same(consumedNotProduced({ consumers: agentSrc, producers: agentSrc, consumed: AGENT_CONSUMED, produced: AGENT_PRODUCED, external: EXTERNAL }), []);
  const planted = [...agentSrc, "uplink.on('drained', () => log.info({}, 'drained'));"];
  t.same(
    consumedNotProduced({ consumers: planted, producers: agentSrc, consumed: AGENT_CONSUMED, produced: AGENT_PRODUCED, external: EXTERNAL }),
    ['drained'],
    'a planted listener without an emitter fails',
  );
});
