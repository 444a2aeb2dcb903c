/**
 * Golden HCI traces: the exact command sequence real noble and bleno send up
 * to poweredOn (and bleno's advertising start), with the controller's
 * replies. Regenerate with UPDATE_GOLDEN=1 after a deliberate change.
 */
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Air } from '../src/air/index.ts';
import { VirtualController, type TraceEntry } from '../src/hci/index.ts';
import { Host } from './fixtures/child.ts';

const golden = join(dirname(fileURLToPath(import.meta.url)), 'golden');

interface Step {
  cmd: string;
  params: string;
  replies: string[];
}

function steps(trace: TraceEntry[], cut: (s: Step) => boolean): Step[] {
  const out: Step[] = [];
  for (const e of trace) {
    if (e.dir === 'cmd') {
      if (out.length && cut(out[out.length - 1])) break;
      out.push({ cmd: e.name, params: e.hex, replies: [] });
    } else if (e.dir === 'evt' && out.length) out[out.length - 1].replies.push(e.hex);
  }
  return out;
}

async function record(
  t: Test,
  script: string,
  env: Record<string, string>,
  ready: (e: { ev: string; [k: string]: unknown }) => boolean,
): Promise<TraceEntry[]> {
  const air = new Air({ seed: 1 });
  const c = new VirtualController({ air, address: '0a:0b:0c:0d:0e:0f', manufacturer: 0x05f1 });
  c.start();
  const trace: TraceEntry[] = [];
  c.on('trace', (e: TraceEntry) => trace.push(e));
  const host = new Host(script, { PORT: c.path, ...env });
  t.teardown(() => {
    host.kill();
    c.stop();
    air.stop();
  });
  await host.waitFor(ready, 60_000, 'ready state');
  return trace;
}

function check(t: Test, name: string, got: Step[]): void {
  const file = join(golden, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, JSON.stringify(got, null, 1) + '\n');
  const want = JSON.parse(readFileSync(file, 'utf8')) as Step[];
  t.same(got, want, `${name} matches golden trace`);
}

t.test('noble init up to poweredOn', async (t) => {
  const trace = await record(t, 'noble-host.ts', {}, (e) => e.ev === 'state' && e.state === 'poweredOn');
  const got = steps(trace, (s) => s.cmd === 'LE_SET_SCAN_PARAMS');
  t.equal(got[0].cmd, 'RESET');
  t.same(got[0].replies, ['040e0401030c00'], 'the first Reset CC is exactly what uart.js waits for');
  t.equal(got.filter((s) => s.cmd === 'RESET').length, 3, 'noble sends three resets at start-up');
  t.equal(got[got.length - 1].cmd, 'LE_SET_SCAN_PARAMS');
  check(t, 'noble-init', got);
});

t.test('bleno init up to advertising', async (t) => {
  const trace = await record(t, 'bleno-host.ts', { NAME: 'golden', BLENO_ADVERTISING_INTERVAL: '100' }, (e) => e.ev === 'advertisingStart');
  const got = steps(trace, (s) => s.cmd === 'LE_SET_ADV_ENABLE' && s.params === '01');
  t.equal(got.filter((s) => s.cmd === 'RESET').length, 1, 'bleno sends no reset of its own in raw mode');
  t.ok(
    got.some((s) => s.cmd === 'LE_SET_ADV_PARAMS' && s.params.startsWith('a000a00000')),
    'ADV_IND at 100 ms',
  );
  check(t, 'bleno-init', got);
});
