// CPU time of this process's threads, grouped by thread name (/proc/self/task/<tid>/stat, Linux only): which part of
// `process.cpuUsage()` the main thread, the worker threads, libuv's pool and V8's platform threads (concurrent
// marking, compilers) account for. Profiling aid, not a bench.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const TICK_US = 1e6 / 100; // USER_HZ: 100 on Linux
export type ThreadCpu = Map<string, { threads: Set<string>; us: number }>;

/** utime + stime of every live thread of this process, keyed by tid, with its name. */
export function threadTimes(): Map<string, { name: string; us: number; sys: number }> {
  const out = new Map<string, { name: string; us: number; sys: number }>();
  if (os.platform() !== 'linux') return out;
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state); utime is field 14, stime 15
    const name = tid === String(process.pid) ? 'main' : stat.slice(open + 1, close);
    out.set(tid, { name, us: (Number(f[11]) + Number(f[12])) * TICK_US, sys: Number(f[12]) * TICK_US });
  }
  return out;
}

/** CPU µs each thread name used between two `threadTimes()` readings (threads started in between count from 0). */
export function threadDelta(before: ReturnType<typeof threadTimes>, after: ReturnType<typeof threadTimes>): ThreadCpu {
  const by: ThreadCpu = new Map();
  for (const [tid, a] of after) {
    const us = a.us - (before.get(tid)?.us ?? 0);
    const e = by.get(a.name) ?? { threads: new Set<string>(), us: 0 };
    e.threads.add(tid);
    e.us += us;
    by.set(a.name, e);
  }
  return by;
}

/** One line: each thread name's µs per message and share. */
export function formatThreads(by: ThreadCpu, n: number): string {
  const total = [...by.values()].reduce((s, e) => s + e.us, 0);
  return [...by]
    .filter(([, e]) => e.us > 0)
    .sort((a, b) => b[1].us - a[1].us)
    .map(([name, e]) => `${name}×${e.threads.size} ${(e.us / n).toFixed(1)} µs/msg (${((100 * e.us) / total).toFixed(1)} %)`)
    .join(', ');
}
