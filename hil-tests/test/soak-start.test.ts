// The soak's scenario start: a UTC midnight half way through the run, at any speed and any hour of the host clock.
import t from 'tap';
import { soakStartTime } from '../src/suites/soak.ts';

const DAY = 86_400_000;
const MIN = 60_000;

t.test('the day boundary falls half way through the run, in scenario time', async (t) => {
  for (const wall of [Date.UTC(2026, 11, 4, 3, 0), Date.UTC(2026, 11, 4, 23, 59, 30), Date.UTC(2028, 1, 29, 12, 0)]) {
    for (const [minutes, speed] of [
      [30, 1],
      [24, 60],
      [8, 60],
    ]) {
      const start = soakStartTime(wall, minutes, speed);
      const half = start + (minutes * MIN * speed) / 2;
      t.equal(half % DAY, 0, `${new Date(wall).toISOString()}, ${minutes} min ×${speed}: midnight at half way`);
      t.ok(half > wall, 'the next midnight after the host clock');
    }
  }
  t.equal(soakStartTime(Date.UTC(2026, 11, 4, 10, 0), 24), Date.UTC(2026, 11, 4, 23, 48), 'speed 1 by default');
});
