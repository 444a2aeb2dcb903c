/**
 * The checks that read the kit's own files: the platform (Node, CPU, native modules), storage (the data
 * dir writable with room to spare, the keystore opens), identity (today's certificate and its expiry)
 * and, offline, the outbox and the carer's paired wearables. Nothing here talks to a radio or a network.
 */
import { randomBytes } from 'node:crypto';
import { readFile, statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHex } from '@beepkit/protocol';
import { decodeCertificate, verifyCertificate } from '@beepkit/protocol/cert';
import { decodeTraceCode } from '@beepkit/protocol/tracecode';
import { platformReport, type PlatformReport } from '@beepkit/device-core/infra/native';
import { KeystoreFile, type KeystoreSecret } from '@beepkit/device-core/keys';
import { decodeStored } from '../ca-client/index.ts';
import { Outbox } from '@beepkit/device-core/outbox';
import { CarerStore } from '../carer/store.ts';
import { errorText, failed, pass, seconds, utc, type Verdict } from './check.ts';

const MIN_FREE_BYTES = 64 * 1024 * 1024;
const DAY_MS = 86_400_000;

export function checkPlatform(r: PlatformReport = platformReport()): Verdict {
  const mods = r.native.map(
    (m) => `${m.via}${m.version ? `@${m.version}` : ''}: ${m.source === 'missing' ? `MISSING (${m.error})` : `${m.source} ${m.binary}`}`,
  );
  const detail = `Node ${r.node} on ${r.platform}-${r.arch}${r.armVersion ? ` (armv${r.armVersion})` : ''}; ${mods.join('; ')}`;
  const missing = r.native.filter((m) => m.source === 'missing');
  if (!missing.length) return pass(detail);
  return failed(detail, missing.map((m) => `${m.module} (${m.role}): ${m.fallback}`).join(' | '));
}

/** The data dir exists, takes a file, and has room; the keystore (when given) opens with the configured secret. */
export async function checkStorage(dataDir: string, keystore?: { path: string; secret: () => Promise<KeystoreSecret> }): Promise<Verdict> {
  const probe = join(dataDir, `.doctor-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, 'doctor\n', { mode: 0o600 });
    await unlink(probe);
  } catch (e) {
    return failed(
      `data dir ${dataDir} is not writable: ${(e as Error).message}`,
      `create it and give it to the kit's user: install -d -m 0700 -o beepkit ${dataDir} (on a read-only root, put it under /var/lib)`,
    );
  }
  const fs = await statfs(dataDir);
  const free = fs.bavail * fs.bsize;
  const parts = [`data dir ${dataDir} writable, ${(free / 2 ** 20).toFixed(0)} MiB free`];
  if (free < MIN_FREE_BYTES)
    return failed(parts.join('; '), `free space below ${MIN_FREE_BYTES / 2 ** 20} MiB: the outbox and logs need room; clear space on that file system`);
  if (keystore) {
    try {
      const ks = await KeystoreFile.open(keystore.path, await keystore.secret());
      parts.push(`keystore ${keystore.path} opens (today's day ${ks.today()})`);
    } catch (e) {
      if (/ENOENT/.test(String((e as Error).message))) parts.push(`no keystore yet at ${keystore.path} (made at the agent's first start)`);
      else
        return failed(
          `${parts.join('; ')}; keystore ${keystore.path} does not open: ${errorText(e)}`,
          'keystore.passphrase / passphraseFile / keyFile must be the secret it was made with, and the file mode 0600',
        );
    }
  }
  return pass(parts.join('; '));
}

/** Today's certificate in `<dataDir>/certs` (offline): present, signed by the configured CA, not expired. */
export async function checkIdentity(dataDir: string, caPublicKey: string | undefined, now: () => number): Promise<Verdict> {
  const t = now();
  const day = Math.floor(t / DAY_MS);
  const file = join(dataDir, 'certs', `${day}.cert`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch {
    return failed(
      `no certificate for today (day ${day}, ${utc(day * DAY_MS).slice(0, 10)}) in ${join(dataDir, 'certs')}`,
      'the agent asks the CA for one once GNSS and a genuine venue frame agree (trust), while connected to the gateway: run the agent near a registered venue beacon with a GNSS fix; /status certificate shows the requests and refusals',
    );
  }
  try {
    const stored = decodeStored(day, bytes);
    const cert = caPublicKey
      ? verifyCertificate(stored.certificate, fromHex(caPublicKey.toLowerCase()), { now: Math.floor(t / 1000), day, role: 'device' })
      : decodeCertificate(stored.certificate);
    const left = cert.notAfter * 1000 - t;
    return pass(
      `certificate of day ${day} (${cert.region}) ${caPublicKey ? 'verifies against anchors.caPublicKey' : 'present (no anchors.caPublicKey to verify it)'}, expires ${utc(cert.notAfter * 1000)} (in ${seconds(left)})`,
    );
  } catch (e) {
    return failed(
      `today's certificate ${file} is not valid: ${errorText(e)}`,
      "delete it and let the agent ask the CA again; check that anchors.caPublicKey is the gateway's (beepkit gateway keys) and the host clock",
    );
  }
}

/** Depth and oldest item of the outbox (its day and interval), read by opening it (only when no agent runs). */
export async function outboxSummary(dataDir: string, key: Uint8Array, intervalMs: number): Promise<string> {
  const ob = new Outbox({ path: join(dataDir, 'outbox'), key });
  await ob.start();
  try {
    return describeOldest(
      ob.pending().map((p) => ({ day: p.group, bytes: p.bytes })),
      intervalMs,
    );
  } finally {
    await ob.stop();
  }
}

export function describeOldest(items: { day: number; bytes: Uint8Array }[], intervalMs: number): string {
  if (!items.length) return 'outbox empty';
  return `outbox ${items.length} item${items.length === 1 ? '' : 's'}, oldest sealed for ${utc(oldestSealedMs(items, intervalMs)!)}`;
}

/** The start of the interval the oldest item was sealed for (its day, and the TraceCode's interval). */
export function oldestSealedMs(items: { day: number; bytes: Uint8Array }[], intervalMs: number): number | undefined {
  let oldest: number | undefined;
  for (const it of items) {
    let interval = 0;
    try {
      interval = decodeTraceCode(it.bytes, false).interval;
    } catch {
      // not a TraceCode: its day alone
    }
    const at = it.day * DAY_MS + interval * intervalMs;
    if (oldest === undefined || at < oldest) oldest = at;
  }
  return oldest;
}

/** Paired wearables and their last sync, from the carer store (offline). */
export async function checkCarerStore(path: string, key: Uint8Array, now: () => number): Promise<Verdict> {
  const store = await new CarerStore({ path, key }).load();
  return carerVerdict(
    store.list().map((w) => ({ label: w.label, lastSyncMs: w.lastSyncMs, records: w.received ?? 0 })),
    now,
  );
}

export function carerVerdict(ws: { label: string; lastSyncMs?: number; records: number; lastError?: string }[], now: () => number): Verdict {
  if (!ws.length) return pass('carer on, no wearable paired yet (beepkit agent carer pair)');
  const t = now();
  const lines = ws.map(
    (w) =>
      `${w.label}: ${w.lastSyncMs !== undefined ? `last sync ${seconds(t - w.lastSyncMs)} ago` : 'never synced'}, ${w.records} records${w.lastError ? `, last error ${w.lastError}` : ''}`,
  );
  const stale = ws.filter((w) => w.lastSyncMs === undefined || t - w.lastSyncMs > DAY_MS || w.lastError);
  const detail = `${ws.length} paired: ${lines.join('; ')}`;
  if (stale.length)
    return failed(
      detail,
      `${stale.map((w) => w.label).join(', ')} not synced in the last 24 h: bring the wearable within range of the kit (beepkit agent carer sync)`,
    );
  return pass(detail);
}
