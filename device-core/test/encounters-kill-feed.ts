// The encounters encounters-kill-child.ts records, reproducible: record i of run r is the same in the child and in
// the test's reference log (each run its own RPIs: the first byte is the run).
import { mulberry32 } from '@beepkit/protocol/rng';
import type { EncounterLog } from '../src/encounters/index.ts';

const T0 = 1_700_000_000_000;

export function feeder(run: number): (log: EncounterLog, n: number) => void {
  const rng = mulberry32(1000 + run);
  const hex = (n: number) =>
    Array.from({ length: n }, () =>
      Math.floor(rng() * 256)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  const rpis = Array.from({ length: 300 }, () => run.toString(16).padStart(2, '0') + hex(15));
  let at = T0 + run * 86_400_000;
  return (log, n) => {
    for (let i = 0; i < n; i++) {
      at += Math.floor(rng() * 5_000);
      // a few peers heard often (their encounters changed by most saves), many heard now and then
      const k = rng() < 0.5 ? Math.floor(rng() * 10) : Math.floor(rng() * rpis.length);
      log.record(
        rpis[k],
        hex(4),
        `c0:00:00:00:${run.toString(16).padStart(2, '0')}:${(k % 40).toString(16).padStart(2, '0')}`,
        50 + Math.floor(rng() * 30),
        at,
        rng() < 0.5,
      );
    }
  };
}
