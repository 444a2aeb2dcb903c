/**
 * Log privacy: run the whole publishing and notification path (publisher →
 * outbox → matching → risk → alerts → every sink) with real pino loggers and
 * scan everything that leaves (logs, webhook bodies, hook stdin, carer
 * callback, status snapshot) for the device's prefixes, fingerprints, TEKs,
 * RPIs, venue ids and coordinates, in hex (both cases) and base64.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createKeystore, deriveDayKeys } from '@beepkit/protocol/keys';
import { deriveRpis } from '@beepkit/protocol/rpi';
import { fingerprint, TraceCodeSealer } from '@beepkit/protocol/tracecode';
import { X25519Key } from '@beepkit/protocol/crypto';
import { Source } from '@beepkit/protocol/geodata';
import { toHex } from '@beepkit/protocol/bytes';
import { EncounterLog } from '@beepkit/device-core/encounters';
import { Outbox } from '@beepkit/device-core/outbox';
import { Publisher } from '@beepkit/device-core/publisher';
import { OwnFingerprints, matchFingerprints, matchTeks, matchVenues } from '../src/matching/index.ts';
import {
  AlertDispatcher,
  CallbackSink,
  CommandSink,
  LoggerSink,
  StatusSink,
  WebhookSink,
  bluetoothAlerts,
  fingerprintAlerts,
  venueAlerts,
  type Alert,
} from '../src/alerts/index.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const today = 20_413;
const now = today * DAY + 15 * 3_600_000;

t.test('nothing that leaves the agent links a pseudonym, TEK or position to it', async (t) => {
  const dir = t.testdir();
  let logText = '';
  const logger = pino({ level: 'debug' }, new Writable({ write: (c, _e, cb) => ((logText += c.toString()), cb()) }));

  const ks = createKeystore(new Uint8Array(32).fill(42), today - 13);
  const mine = Array.from({ length: 14 }, (_, i) => deriveDayKeys(ks, today - i));
  const ownRpis = mine.slice(0, 3).map((k) => deriveRpis(k.tek, k.day * 144, 144));
  const lat = 51.50721;
  const lon = -0.12758;
  const venueId = 'c0ffee00babe1234';

  // publishing
  const solver = new X25519Key(new Uint8Array(32).fill(7));
  const k0 = mine[0];
  const sealer = new TraceCodeSealer({ prefix: k0.pseudonym, ephemeralPriv: k0.ephemeralPriv, solverPub: solver.publicKey });
  const outbox = new Outbox({ path: join(dir, 'ob'), logger, maxItems: 2 });
  await outbox.start();
  const pub = new Publisher({
    config: { level: 'exact' },
    seal: (_d, i, g) => sealer.seal(i, g),
    sink: (tc, d) => outbox.append([{ bytes: tc, group: d }]),
    logger,
  });
  for (let i = 0; i < 4; i++) {
    const at = now - (4 - i) * 30 * MIN;
    const s = Math.floor(at / 1000);
    await pub.tick({
      now: at,
      trusted: true,
      cert: { day: today, notBefore: today * 86400, notAfter: (today + 1) * 86400 },
      fix: { start: s - 60, end: s, lat: lat + i * 0.01, lon, accuracy: 5, sources: Source.gnss },
    });
  }
  await pub.flush(); // the last stay's TraceCode
  t.equal(outbox.stats().refused, 2, 'outbox full path logged too');
  await outbox.ackBatch((await outbox.nextBatch())!.seq);
  await outbox.stop();

  // the infected peer: TEK, RPIs seen in our encounter log
  const infectedTek = new Uint8Array(16).fill(0x5a);
  const start = (today - 1) * 144;
  const theirRpis = deriveRpis(infectedTek, start, 144);
  const log = new EncounterLog();
  const t1 = (start + 60) * 10 * MIN;
  for (let s = 0; s <= 25 * 60; s += 60) log.record(toHex(theirRpis.subarray(60 * 16, 61 * 16)), '00000000', 'AA:BB:CC:DD:EE:FF', 55, t1 + s * 1000);

  // notification block containing our fingerprint of 2 days ago
  const n = 1000;
  const block = { fingerprints: new Uint8Array(n * 16).fill(3), levels: new Uint8Array(n).fill(2), days: new Uint32Array(n).fill(today - 2) };
  block.fingerprints.set(fingerprint(mine[2].pseudonym), 77 * 16);

  const own = new OwnFingerprints(
    mine.map((k) => ({ day: k.day, prefix: k.pseudonym })),
    { now },
  );
  const alerts: Alert[] = [
    ...fingerprintAlerts(matchFingerprints(own, block)),
    ...bluetoothAlerts(matchTeks([{ tek: infectedTek, rollingStart: start }], log.encounters()), { beta: [-3, 0.02, 0.1, -0.01, 0.01] }),
    ...venueAlerts(
      matchVenues([{ venueId, entry: now - 3 * 3_600_000, exit: now - 2 * 3_600_000 }], [{ venueId, entry: now - 150 * MIN, exit: now - 60 * MIN }]),
    ),
  ];
  t.same(
    alerts.map((a) => a.kind),
    ['fingerprint', 'bluetooth', 'venue'],
  );

  // every sink
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c)).on('end', () => (bodies.push(b), res.end()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const hookOut = join(dir, 'hook.txt');
  const carer: Alert[] = [];
  const status = new StatusSink();
  const d = new AlertDispatcher(
    [
      new LoggerSink(logger),
      status,
      new WebhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
      new CommandSink({
        command: process.execPath,
        args: ['-e', `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>require('fs').appendFileSync(${JSON.stringify(hookOut)},s))`],
      }),
      new CallbackSink('carer', (a) => void carer.push(a)),
      new CallbackSink('broken', () => Promise.reject(new Error('down'))),
    ],
    { logger },
  );
  const r = await d.dispatch(alerts);
  t.equal(r.delivered, 3);

  const leaked = [logText, bodies.join('\n'), readFileSync(hookOut, 'utf8'), JSON.stringify(carer), JSON.stringify(status.snapshot())].join('\n');
  t.ok(logText.length > 500 && bodies.length === 3, 'there is output to scan');
  t.match(logText, /within roughly \d+ m/, 'alerts were logged');
  const secrets: [string, Uint8Array][] = [
    ...mine.flatMap((k): [string, Uint8Array][] => [
      [`prefix ${k.day}`, k.pseudonym],
      [`fingerprint ${k.day}`, fingerprint(k.pseudonym)],
      [`tek ${k.day}`, k.tek],
      [`ephemeral ${k.day}`, k.ephemeralPub],
    ]),
    ...ownRpis.flatMap((rp, j) => Array.from({ length: 144 }, (_, i): [string, Uint8Array] => [`own rpi ${j}/${i}`, rp.subarray(i * 16, i * 16 + 16)])),
    ['infected tek', infectedTek],
    ['observed rpi', theirRpis.subarray(60 * 16, 61 * 16)],
  ];
  const scan = (text: string): string[] => {
    const found: string[] = [];
    for (const [what, b] of secrets) {
      const hex = toHex(b);
      for (const form of [hex, hex.toUpperCase(), Buffer.from(b).toString('base64'), Buffer.from(b).toString('base64url')])
        if (text.includes(form)) found.push(what);
    }
    return found;
  };
  t.ok(scan(`x${Buffer.from(mine[3].tek).toString('base64')}y`).includes(`tek ${today - 3}`), 'control: the scanner finds a planted TEK');
  t.same(scan(leaked), [], 'no prefix, fingerprint, TEK or RPI in any output');
  for (const s of [venueId, venueId.toUpperCase(), '51.5', '51,5', '-0.127', 'AA:BB:CC']) t.notOk(leaked.includes(s), `no ${s} in any output`);
});
