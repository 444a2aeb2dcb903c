/**
 * Replays a captured NMEA log through a stream at the log's own pace (sentence timestamps, scaled by a
 * speed factor) or as fast as the reader takes it ('max', with backpressure).
 */
import type { GnssClock } from './types.ts';
import type { PtyWriter } from '../pty.ts';

export interface ReplayOptions {
  /** Speed factor (1 = real time, 10 = ten times faster) or 'max' (default). */
  speed?: number | 'max';
  /** Comment lines: 'none' drops them, 'date' passes `# Date:` only (like gpsfake, default), 'all' passes all. */
  comments?: 'none' | 'date' | 'all';
}

const TIMED = /^\s*[$!][A-Z]{2}(?:GGA|RMC|GLL|ZDA|GNS|GST),(\d\d)(\d\d)(\d\d(?:\.\d+)?)/;

/** Splits text into lines, keeping each line's own ending (CRLF, LF or CR). */
export function splitKeepingEol(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? [];
}

function todSeconds(line: string): number | undefined {
  const m = TIMED.exec(line);
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

export async function replayLog(out: Pick<PtyWriter, 'write'>, text: string, clock: GnssClock, options: ReplayOptions): Promise<{ lines: number }> {
  const speed = options.speed ?? 'max';
  const comments = options.comments ?? 'date';
  let last: number | undefined;
  let lines = 0;
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const buf = Buffer.from(batch.join(''), 'latin1');
    batch = [];
    await out.write(buf);
  };
  for (const line of splitKeepingEol(text)) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) {
      if (comments === 'none' || (comments === 'date' && !/^#\s*Date:/.test(trimmed))) continue;
    }
    if (speed !== 'max') {
      const tod = todSeconds(line);
      if (tod !== undefined) {
        if (last !== undefined) {
          let dt = tod - last;
          if (dt < -43_200) dt += 86_400;
          if (dt > 0) await sleep((Math.min(dt, 60) * 1000) / speed);
        }
        last = tod;
      }
    }
    lines++;
    batch.push(line);
    if (speed !== 'max' || batch.length >= 64) await flush();
  }
  await flush();
  return { lines };
}
