// Flame summary of a V8 .cpuprofile (Profiler.stop or --cpu-prof): self time by function and by module
// (an npm package, a workspace file, or node's internals), idle excluded, as a share of the busy samples.
// Usage: node --import tsx bench/profile/summary.ts <file.cpuprofile> [top, default 30]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node --import tsx bench/profile/summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 30);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));

/** A module's short name: the npm package, a workspace path, or node's own. */
function moduleOf(url: string): string {
  if (!url) return '(native/VM)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const ws = url.match(/\/(protocol|device-core|agent|gateway|infra|bench|firmware-stubs|sim|hil-tests|trial)\/(src\/)?(.*)$/);
  return ws ? `${ws[1]}/${ws[3]}` : url.replace(/^file:\/\//, '');
}

const fn = new Map<string, number>();
const mod = new Map<string, number>();
let busy = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || '(anonymous)';
  if (name === '(idle)') continue;
  busy += us;
  const m = moduleOf(n.callFrame.url);
  const key = `${name}  ${m}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  mod.set(m, (mod.get(m) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * us) / busy).toFixed(1).padStart(6)} %  ${k}`);
};
console.log(`${file}: ${(busy / 1000).toFixed(0)} ms busy of ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms`);
show('self time by module', mod);
show('self time by function', fn);
