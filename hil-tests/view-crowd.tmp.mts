import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
const logf = process.argv[2];
let url = '';
for (let i = 0; i < 300 && !url; i++) {
  const m = /dashboard: (http:\/\/\S+)/.exec(readFileSync(logf, 'utf8'));
  if (m) url = m[1]; else await new Promise((r) => setTimeout(r, 1000));
}
const ctx = await chromium.launchPersistentContext('/tmp/view-prof2', { executablePath: '/usr/bin/chromium', headless: true, args: ['--headless','--no-sandbox','--disable-gpu'], viewport: { width: 1280, height: 1000 } });
const page = ctx.pages()[0] ?? await ctx.newPage();
await page.goto(url);
const cdp = await ctx.newCDPSession(page);
await cdp.send('Performance.enable');
const met = async () => Object.fromEntries(((await cdp.send('Performance.getMetrics')) as any).metrics.map((m: any) => [m.name, m.value]));
let prev = await met(); let prevT = performance.now();
let prevSeq = 0;
for (let i = 0; i < 40; i++) {
  await new Promise((r) => setTimeout(r, 10000));
  const m = await met(); const now = performance.now();
  let h: any = {}; let st: any = { rssi: [] }; let size = 0;
  try { h = await (await fetch(url + 'healthz')).json(); const txt = await (await fetch(url + 'state')).text(); size = txt.length; st = JSON.parse(txt); } catch { break; }
  const samples = st.rssi.reduce((n: number, r: any) => n + r.samples.length, 0);
  console.log(JSON.stringify({ t: Math.round(i * 10 + 10), pageCpu: +((m.TaskDuration - prev.TaskDuration) / ((now - prevT) / 1000)).toFixed(3), pageHeapMiB: +(m.JSHeapUsedSize / 2 ** 20).toFixed(1), evps: Math.round((h.seq - prevSeq) / ((now - prevT) / 1000)), pairs: st.rssi.length, samples, stateKiB: Math.round(size / 1024), clock: st.log?.at(-1)?.t }));
  prev = m; prevT = now; prevSeq = h.seq;
  if (/RESULT/.test(readFileSync(logf, 'utf8')) && i > 3) { const last = readFileSync(logf, 'utf8'); if (/keeping everything up/.test(last)) break; }
}
await ctx.close();
