/**
 * An encounter or visit log the agent cannot read is set aside, never overwritten: the agent starts with new logs,
 * counts the failure in /status errors, says so (with the aside file's name), and its next save leaves the old bytes
 * where they were moved.
 */
import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/index.ts';
import { Agent } from '../src/app/index.ts';

const garbage = (n: number, seed: number): Buffer => {
  let s = seed;
  return Buffer.from(Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24));
};

const started: Agent[] = [];
t.teardown(async () => {
  await Promise.all(started.map((a) => a.stop().catch(() => {})));
});

function agentOn(dir: string, warnings: Record<string, unknown>[]): Agent {
  const log = { info() {}, debug() {}, error() {}, warn: (o: Record<string, unknown>, msg: string) => void warnings.push({ ...o, msg }) };
  const a = new Agent(
    resolveConfig({ dataDir: join(dir, 'data'), keystore: { passphrase: 'unreadable logs' }, log: { level: 'silent' }, http: { port: 0 } }, {}),
    { logger: log },
  );
  started.push(a);
  return a;
}

t.test('a corrupt encounters.bin and visits.bin: set aside, counted, said; the new logs saved beside them', async (t) => {
  const dir = t.testdir();
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  // a first start makes the keys; its logs are then replaced by bytes nothing can open
  const first = agentOn(dir, []);
  await first.start();
  await first.stop();
  const enc = garbage(4096, 1);
  const vis = garbage(200, 2);
  writeFileSync(join(data, 'encounters.bin'), enc, { mode: 0o600 });
  writeFileSync(join(data, 'visits.bin'), vis, { mode: 0o600 });

  const warnings: Record<string, unknown>[] = [];
  const agent = agentOn(dir, warnings);
  await agent.start();
  t.same(readFileSync(join(data, 'encounters.bin.unreadable')), enc, 'the encounter log moved aside, byte for byte');
  t.same(readFileSync(join(data, 'visits.bin.unreadable')), vis, 'the visit log moved aside, byte for byte');
  const errors = agent.status().errors;
  t.equal(
    Object.values(errors).reduce((a, b) => a + b, 0),
    2,
    `two failures counted (${JSON.stringify(errors)})`,
  );
  t.match(warnings, [
    { setAside: 'encounters.bin.unreadable', msg: /encounter log unreadable, set aside/ },
    { setAside: 'visits.bin.unreadable', msg: /visit log unreadable, set aside/ },
  ]);
  await agent.stop(); // saves the new logs
  t.same(readFileSync(join(data, 'encounters.bin.unreadable')), enc, 'the save did not touch it');
  t.same(readFileSync(join(data, 'visits.bin.unreadable')), vis);

  // the new logs open; nothing more is set aside
  const again: Record<string, unknown>[] = [];
  const third = agentOn(dir, again);
  await third.start();
  t.same(third.status().errors, {}, 'the new logs read back');
  t.same(
    again.filter((w) => 'setAside' in w),
    [],
  );
  await third.stop();

  // corrupt again: the earlier copy is kept, the new one goes beside it
  writeFileSync(join(data, 'visits.bin'), garbage(100, 3), { mode: 0o600 });
  const fourth = agentOn(dir, []);
  await fourth.start();
  await fourth.stop();
  t.same(readFileSync(join(data, 'visits.bin.unreadable')), vis, 'the first copy is kept');
  t.same(readFileSync(join(data, 'visits.bin.unreadable.2')), garbage(100, 3), 'the second beside it');
  t.same(
    readdirSync(data)
      .filter((f) => f.includes('unreadable'))
      .sort(),
    ['encounters.bin.unreadable', 'visits.bin.unreadable', 'visits.bin.unreadable.2'],
  );
});
