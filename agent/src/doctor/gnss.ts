/**
 * The GNSS check when no agent owns the receiver: the port (or gpsd) opens, NMEA arrives, and a fix
 * comes: its mode, satellites, HDOP and the time since it. The fix's own time against the host clock
 * at its arrival is the clock check's GNSS offset.
 */
import { existsSync } from 'node:fs';
import { createGnssSource, type GnssFix, type GnssSource } from '@beepkit/device-core/gnss';
import type { AgentConfig } from '../config/index.ts';
import { failed, pass, seconds, within, type Verdict } from './check.ts';

export interface GnssProbe {
  verdict: Verdict;
  /** GNSS time − host clock, ms, from the last fix carrying a date and time (mode ≥ 2). */
  offsetMs?: number;
}

const modeName = (m: number): string => (m >= 3 ? '3D' : m === 2 ? '2D' : 'no fix');

export function describeFix(f: { mode?: number; satellites?: number; hdop?: number; ageMs?: number }): string {
  return [
    `fix ${modeName(f.mode ?? 0)}`,
    f.satellites !== undefined ? `${f.satellites} satellites` : undefined,
    f.hdop !== undefined ? `HDOP ${f.hdop}` : undefined,
    f.ageMs !== undefined ? `last fix ${seconds(f.ageMs)} ago` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

export async function probeGnss(g: AgentConfig['gnss'], configPath: string, now: () => number, budgetMs: number): Promise<GnssProbe> {
  if (g.type === 'none') return { verdict: pass('no GNSS configured (gnss.type: none): positions come from venue beacons only') };
  if (g.type === 'serial' && g.path && !existsSync(g.path)) {
    return {
      verdict: failed(
        `GNSS port ${g.path} does not exist (receiver unplugged?)`,
        `plug in the receiver or correct gnss.path in ${configPath} (${g.path}); ls -l /dev/serial/by-id/ /dev/ttyACM* /dev/ttyUSB*`,
      ),
    };
  }
  const where = g.type === 'serial' ? g.path! : g.type === 'gpsd' ? `gpsd ${g.host ?? '127.0.0.1'}:${g.port ?? 2947}` : g.file!;
  let src: GnssSource;
  try {
    src = createGnssSource({ ...g, type: g.type, now, silenceMs: g.silenceMs } as Parameters<typeof createGnssSource>[0]);
  } catch (e) {
    return { verdict: failed(`GNSS source: ${(e as Error).message}`, `correct gnss.* in ${configPath}`) };
  }
  let last: GnssFix | undefined;
  let best: GnssFix | undefined;
  let lastState = '';
  const t0 = performance.now();
  const listenMs = Math.max(200, budgetMs - 700);
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, listenMs);
      src.on('state', (s) => (lastState = `${s.state}: ${s.reason}`));
      src.on('fix', (f) => {
        last = f;
        if (f.mode >= 2 && f.timeMs !== undefined) {
          best = f;
          clearTimeout(timer);
          resolve();
        }
      });
      src.start().catch((e: unknown) => {
        lastState = `start failed: ${(e as Error).message}`;
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    await within(src.stop(), 1_500, 'gnss stop').catch(() => {});
  }
  const c = src.counters;
  const sentences = c.sentences ?? 0;
  const took = seconds(performance.now() - t0);
  if (!sentences && !last) {
    return {
      verdict: failed(
        `${where}: no NMEA within ${took} (${lastState || 'no state'})`,
        g.type === 'serial'
          ? `is ${g.path} the receiver (not the controller)? Its baud rate (gnss.baudRate, now ${g.baudRate ?? 9600}) must match the receiver's`
          : `is gpsd running and does it see the receiver? gpspipe -w -n 5`,
      ),
    };
  }
  const f = best ?? last;
  const detail = `${where}: ${sentences} NMEA sentences in ${took}${c.E_CHECKSUM ? ` (${c.E_CHECKSUM} bad checksums)` : ''}; ${describeFix({ mode: f?.mode, satellites: f?.satellitesUsed, hdop: f?.hdop, ageMs: f ? now() - f.receivedAt : undefined })}`;
  if (!best) return { verdict: failed(detail, 'NMEA arrives but no fix yet: give the antenna open sky; a cold start can take minutes') };
  return { verdict: pass(detail), offsetMs: best.timeMs! - best.receivedAt };
}

/** The GNSS check from a running agent's /status. */
export function gnssFromStatus(st: {
  type: string;
  state: string;
  usable: boolean;
  reason?: string;
  mode?: number;
  satellites?: number;
  fixAgeMs?: number;
}): Verdict {
  if (st.type === 'none') return pass('no GNSS configured (gnss.type: none): positions come from venue beacons only');
  const detail = `from the running agent: source ${st.type} ${st.state}; ${describeFix({ mode: st.mode, satellites: st.satellites, ageMs: st.fixAgeMs })}${st.reason ? ` (${st.reason})` : ''}`;
  if (st.state !== 'open') return failed(detail, `the agent's GNSS source is ${st.state}: is the receiver plugged in (gnss.path)? See the agent's log`);
  if (!st.usable) return failed(detail, 'no usable fix: give the antenna open sky; a cold start can take minutes');
  return pass(detail);
}
