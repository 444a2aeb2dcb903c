// Child process of encounters-kill.test.ts: loads the encounter log (if any), then records and saves forever, a
// recorder running between the saves' awaits too; prints "ack <k>" once a save called after k records resolved
// (written and fsynced). Usage: encounters-kill-child.ts <path> <run>
import { existsSync } from 'node:fs';
import { EncounterLog, loadEncounters, saveEncounters } from '../src/encounters/index.ts';
import { feeder } from './encounters-kill-feed.ts';

const [path, runArg] = process.argv.slice(2);
const run = Number(runArg);
const KEY = new Uint8Array(32).fill(7);
const log = existsSync(path) ? await loadEncounters(path, KEY) : new EncounterLog();
const feed = feeder(run);
let recorded = 0;
const hear = (n: number): void => {
  feed(log, n);
  recorded += n;
};
process.stdout.write(`ready ${log.encounters().length}\n`);
let pending = false;
// records while a save waits on the disk (the journal's dirty flags), a few times a save
const during = async (): Promise<void> => {
  for (let i = 0; i < 5 && pending; i++) {
    await new Promise((r) => setImmediate(r));
    if (pending) hear(1);
  }
};
for (let i = 0; ; i++) {
  hear(1 + (i % 7) * 13);
  const k = recorded;
  pending = true;
  const saved = saveEncounters(path, log, KEY);
  hear(3);
  void during();
  await saved;
  pending = false;
  process.stdout.write(`ack ${k}\n`);
}
