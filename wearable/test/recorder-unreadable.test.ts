/** The wearable's recorder sets an encounter or visit log it cannot read aside, and starts with new ones. */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Radio } from '@beepkit/device-core/radio';
import { FakeRadio } from './fixtures/fake-radio.ts';
import { WearableState } from '../src/state.ts';
import { WearableRecorder } from '../src/recorder.ts';

t.test('corrupt encounters.bin and visits.bin: set aside byte for byte, said, the recorder runs', async (t) => {
  const dir = t.testdir();
  const now = 20000 * 86_400_000 + 10 * 3_600_000;
  const state = new WearableState({ dataDir: dir, label: 'Grace', now: () => Math.floor(now / 1000) });
  await state.start();
  t.teardown(() => state.stop());
  const enc = Buffer.from('not an encounter journal, nor a sealed file '.repeat(20));
  const vis = Buffer.from('not a sealed visit list '.repeat(4));
  writeFileSync(join(dir, 'encounters.bin'), enc, { mode: 0o600 });
  writeFileSync(join(dir, 'visits.bin'), vis, { mode: 0o600 });
  const warnings: Record<string, unknown>[] = [];
  const logger = { info() {}, debug() {}, error() {}, warn: (o: Record<string, unknown>, msg: string) => void warnings.push({ ...o, msg }) };
  const rec = new WearableRecorder({ state, radio: new FakeRadio() as unknown as Radio, now: () => now, logger, publisher: { intervalMs: 300_000 } });
  await rec.start();
  t.teardown(() => rec.stop());
  t.same(readFileSync(join(dir, 'encounters.bin.unreadable')), enc);
  t.same(readFileSync(join(dir, 'visits.bin.unreadable')), vis);
  t.match(warnings, [
    { setAside: 'encounters.bin.unreadable', msg: /encounter log unreadable, set aside/ },
    { setAside: 'visits.bin.unreadable', msg: /visit log unreadable, set aside/ },
  ]);
  t.equal(rec.visits.visits().length, 0, 'a new visit log');
});
