/**
 * `beepkit doctor` on a venue beacon's config (beacon.yaml) and on a wearable's data dir: the checks
 * that apply to them. A beacon: platform, radio (its advertiser; from the running beacon's /status on
 * 127.0.0.1:httpPort when it answers), clock (NTP: the beacon refuses to advertise on a clock nobody
 * vouches for), storage and identity (its sealed venue key). A wearable: platform, storage, identity
 * (its sealed profile; whether a `wearable run` holds the directory) and clock (NTP); its controllers
 * are named on its command line, not in the data dir, so no radio check.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BeepkitError } from '@beepkit/protocol';
import { hciTarget } from '@beepkit/device-core/radio';
import { Budget, failed, pass, timed, type Check, type Verdict } from './check.ts';
import { probeRadio } from './radio.ts';
import { checkClock } from './clock.ts';
import { checkPlatform, checkStorage } from './local.ts';
import type { DoctorOptions } from './run.ts';

/** A private file is there (mode 0600 or stricter). */
async function privateFile(path: string, what: string, hint: string): Promise<Verdict> {
  try {
    const s = await stat(path);
    if (s.mode & 0o077) return failed(`${what} ${path} is readable by others (mode ${(s.mode & 0o777).toString(8)})`, `chmod 600 ${path}`);
    return pass(`${what} ${path} present (mode ${(s.mode & 0o777).toString(8)})`);
  } catch {
    return failed(`no ${what} at ${path}`, hint);
  }
}

const clockCheck = (o: DoctorOptions, b: Budget, why: string): Promise<Check> =>
  timed('clock', b.cap(5_000), () => checkClock({ now: o.now, ntp: o.ntp, ntpTimeoutMs: Math.min(1_500, b.cap(1_500)), skewMs: o.skewMs, gnssWhy: why }), {
    detail: 'the clock check did not finish',
    hint: 'the NTP server did not answer in time',
  });

export async function doctorBeacon(o: DoctorOptions, cfg: Record<string, any>): Promise<Check[]> {
  const b = new Budget(o.timeoutMs, o.startedAt);
  const dataDir: string = cfg.dataDir ?? '/var/lib/beepkit-beacon';
  const target = hciTarget(cfg.hci);
  const port = Number(cfg.httpPort ?? 9110);
  let st: { advertising: boolean; frames: number; resets: number; errors: number; venueId: string } | undefined;
  if (port > 0) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(b.cap(1_500)) });
      if (res.ok) st = (await res.json()) as typeof st;
    } catch {
      // no beacon running here
    }
  }
  const radioMs = b.cap(12_000);
  const radio = timed(
    'radio',
    radioMs,
    async () => {
      if (st) {
        const d = `from the running beacon: ${st.advertising ? 'advertising' : 'NOT advertising'}, ${st.frames} frames, ${st.resets} controller resets, ${st.errors} errors`;
        return st.advertising ? pass(d) : failed(d, "see the beacon's log (journalctl -u beepkit-beacon): the clock policy (E_CLOCK) or the controller");
      }
      return probeRadio({ advertiser: target, fields: { scanner: 'hci', advertiser: 'hci' }, configPath: o.target, now: o.now, budgetMs: radioMs });
    },
    { detail: 'the radio check did not finish', hint: `the controller at ${'uart' in target ? target.uart : `hci${target.hciIndex}`} does not answer` },
  );
  const clock = clockCheck(o, b, 'a beacon has no GNSS');
  const storage = timed('storage', b.cap(5_000), () => checkStorage(dataDir), {
    detail: 'the storage check did not finish',
    hint: `a slow file system under ${dataDir}`,
  });
  const identity = timed(
    'identity',
    b.cap(5_000),
    async () => {
      const v = await privateFile(
        join(dataDir, 'venue.key'),
        'sealed venue key',
        `provision it: beepkit beacon provision --data-dir ${dataDir} … (beacon/README.md)`,
      );
      return st && v.ok ? pass(`${v.detail}; venue ${st.venueId}`) : v;
    },
    { detail: 'the identity check did not finish', hint: 'a slow file system' },
  );
  return [{ name: 'platform', ...checkPlatform() }, ...(await Promise.all([radio, clock, storage, identity]))];
}

export async function doctorWearable(o: DoctorOptions, dataDir: string): Promise<Check[]> {
  const b = new Budget(o.timeoutMs, o.startedAt);
  const storage = timed('storage', b.cap(5_000), () => checkStorage(dataDir), {
    detail: 'the storage check did not finish',
    hint: `a slow file system under ${dataDir}`,
  });
  const identity = timed(
    'identity',
    b.cap(5_000),
    async () => {
      const v = await privateFile(
        join(dataDir, 'profile.bin'),
        'sealed wearable profile',
        `start the wearable once: beepkit wearable pair --data-dir ${dataDir} --label <name> --uart <controller> (wearable/README.md)`,
      );
      const pid = Number((await readFile(join(dataDir, 'wearable.lock'), 'utf8').catch(() => '')).trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      return { ...v, detail: `${v.detail}; ${alive ? `served by a running wearable (pid ${pid})` : 'no wearable process running on it'}` };
    },
    { detail: 'the identity check did not finish', hint: 'a slow file system' },
  );
  const clock = clockCheck(o, b, 'a wearable has no GNSS');
  return [{ name: 'platform', ...checkPlatform() }, ...(await Promise.all([storage, identity, clock]))];
}

/** What the doctor was pointed at: a directory is a wearable's data dir; a YAML with `hci`/`httpPort`/`slotSeconds` and no `radio` a beacon's; else an agent's. */
export async function kindOf(target: string): Promise<{ kind: 'wearable' } | { kind: 'beacon'; cfg: Record<string, any> } | { kind: 'agent' }> {
  let s;
  try {
    s = await stat(target);
  } catch {
    throw new BeepkitError('E_CONFIG', `--config ${target}: no such file or directory`);
  }
  if (s.isDirectory()) return { kind: 'wearable' };
  let doc: unknown;
  try {
    doc = parse(await readFile(target, 'utf8')) ?? {};
  } catch (e) {
    throw new BeepkitError('E_CONFIG', `--config ${target}: not YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BeepkitError('E_CONFIG', `--config ${target}: expected a YAML mapping`);
  const d = doc as Record<string, unknown>;
  if (!('radio' in d) && ('hci' in d || 'httpPort' in d || 'slotSeconds' in d || 'interop' in d)) return { kind: 'beacon', cfg: d };
  return { kind: 'agent' };
}
