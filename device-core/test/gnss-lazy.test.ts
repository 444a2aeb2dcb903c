/**
 * serialport is loaded at the first serial source's start, not when the GNSS module is imported: an agent
 * on gpsd (or a replay, or none) never maps serialport's native binding. Checked in a child's
 * /proc/self/maps, one child per source type.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';

const CHILD = join(import.meta.dirname, 'fixtures', 'gnss-maps-child.ts');

async function mapped(type: 'gpsd' | 'serial'): Promise<{ binding: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, type], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`child exited ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { binding: boolean };
}

t.test(
  'a gpsd source never maps serialport; a serial source maps it at start',
  { skip: process.platform !== 'linux' && 'reads /proc/self/maps' },
  async (t) => {
    t.equal((await mapped('gpsd')).binding, false, 'gpsd: serialport not loaded');
    t.equal((await mapped('serial')).binding, true, 'serial: loaded at start (the control that the check sees it)');
  },
);
