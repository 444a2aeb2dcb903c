/**
 * bench/RESULTS.md from result files: the run's date as given (a wall-clock
 * date, not a monotonic offset), every goal row and every unmet goal listed,
 * and a bench's `headline` keeping the table to its headline rows, with what
 * was left out counted.
 */
import t from 'tap';
import { resultsMarkdown, type ResultFile } from '../report.ts';

const metric = (median: number) => ({ median, min: median, max: median, unit: 'x' });
const run = { date: '2026-12-04T10:16:00.000Z', machine: 'm', loadavg: [1, 2, 3], totalSec: 9, benches: ['a', 'b'], failed: [] };
const files: ResultFile[] = [
  { name: 'a', date: run.date, machine: 'm', metrics: { one: metric(1), two: metric(2) }, goals: {} },
  {
    name: 'b',
    date: run.date,
    machine: 'm',
    metrics: { head: metric(3), goal_row: metric(4), detail_1: metric(5), detail_2: metric(6) },
    goals: { goal_row: { target: '>= 5', met: false } },
    headline: ['head'],
  },
];

t.test('the table: all rows of a bench without headline, headline and goal rows of one with it', async (t) => {
  const md = resultsMarkdown(files, run);
  t.match(md, /- Last run: 2026-12-04T10:16:00\.000Z, 2 bench/);
  for (const row of ['| a | one |', '| a | two |', '| b | head |', '| b | goal_row |']) t.ok(md.includes(row), row);
  t.notOk(md.includes('| b | detail_1 |'), 'a detail row is left out');
  t.match(md, /Left out of the table: b: 2 more metrics/);
  t.match(md, /Goals not met: b goal_row \(>= 5\)\./);
});

t.test('nothing left out: no "Left out" line', async (t) => {
  t.notOk(resultsMarkdown([files[0]], run).includes('Left out'));
});
