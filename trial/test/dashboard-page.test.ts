// The dashboard page in headless Chromium (Debian's chromium, found on PATH) driven by
// playwright-core: loads offline, follows the café scenario live over SSE.
import t from 'tap';
import { findTool, missing } from '../../scripts/tools.ts';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DashboardServer, scenarioEvent } from '@beepkit/trial/dashboard';
import { loadScenarioFile, positionAt, type Scenario } from '@beepkit/firmware-stubs/scenario';

/** The dashboard's port: kernel-chosen at the first start, reused by the restarted server (the open page reconnects to it). */
let PORT = 0;
const CHROMIUM = findTool('chromium');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOT = path.join(ROOT, 'trial/artifacts/dashboard.png');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const NO_CHROMIUM = missing('chromium');
if (NO_CHROMIUM || !CHROMIUM) {
  t.plan(0, NO_CHROMIUM || 'chromium not installed');
} else {
  t.test('the dashboard follows the café trial live', { timeout: 120_000 }, async (t) => {
    const server = new DashboardServer({ port: 0, title: 'beepkit — café field trial' });
    await server.start();
    PORT = Number(new URL(server.url).port);
    t.teardown(() => server.stop());
    const profile = mkdtempSync(path.join(os.tmpdir(), 'beepkit-dashboard-'));
    const ctx: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 1000 },
    });
    t.teardown(async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    });

    const requests: string[] = [];
    const errors: string[] = [];
    const watch = (page: Page): Page => {
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      return page;
    };
    const page = watch(ctx.pages()[0] ?? (await ctx.newPage()));
    let seq = 0;
    const publish = (e: unknown) => (seq = server.publish(e));
    const settled = (p: Page) => p.waitForFunction((s) => (globalThis as any).document.body.dataset.seq === String(s), seq);

    await page.goto(server.url);
    await page.locator('#conn.conn-live').waitFor();
    t.equal(await page.locator('#map-waiting').textContent(), 'waiting for the field trial…', 'an empty trial says so');
    t.ok(await page.locator('#map-waiting').isVisible());
    t.equal(await page.locator('#alerts li.empty').textContent(), 'no alerts yet');

    const cafe: Scenario = loadScenarioFile(path.join(ROOT, 'firmware-stubs/scenarios/cafe.yaml'));
    const positionsAt = (time: number) => {
      for (const d of cafe.devices) publish({ type: 'position', device: d.id, role: d.role, label: d.label, ...positionAt(d.path, time), t: time });
    };
    publish(scenarioEvent(cafe));
    positionsAt(1150);
    await settled(page);
    t.notOk(await page.locator('#map-waiting').isVisible(), 'the waiting notice goes once the trial starts');
    const venue = page.locator('path.venue[data-venue="beep-cafe"]');
    t.equal(await venue.getAttribute('data-state'), 'empty');
    t.equal(await venue.getAttribute('fill'), '#8a8f98', 'an empty venue is grey');
    t.equal(
      await page.locator('.beacon-icon').count(),
      cafe.venues.reduce((n, v) => n + v.beacons.length, 0),
      'every beacon of the scenario (two at the café, one in the lounge)',
    );
    for (const d of cafe.devices) {
      t.equal(await page.locator(`.dev[data-device="${d.id}"] .lbl`).textContent(), d.label, `${d.label} has a labelled marker`);
    }

    const alice = page.locator('.dev[data-device="alice"] .dot');
    const before = await alice.boundingBox();
    publish({ type: 'position', device: 'alice', role: 'agent', label: 'Alice', ...positionAt(cafe.devices[0].path, 2120), t: 2120 });
    await settled(page);
    const after = await alice.boundingBox();
    t.ok(before && after && after.x - before.x > 20, `Alice's marker moves east live (${before?.x} -> ${after?.x})`);
    t.ok(before && after && after.y - before.y > 5, 'and south (down the screen)');
    publish({ type: 'position', device: 'alice', role: 'agent', label: 'Alice', x: 1, y: 1, t: 2125 });

    for (const [device, state, reason] of [
      ['alice', 'trusted', 'GNSS fix and café beacon agree'],
      ['bob', 'trusted', 'GNSS fix and café beacon agree'],
      ['carol', 'untrusted', 'no fresh beacon frame yet'],
      ['dave', 'trusted', 'GNSS fix only, second source pending'],
      ['grace', 'lost', 'carer out of range'],
    ]) {
      publish({ type: 'trust', device, state, reason });
      if (state === 'trusted') publish({ type: 'certificate', device, day: 20522 });
    }
    publish({ type: 'rssi', device: 'carol', peer: 'enc-2', rssi: -81, attenuation: 77, t: 1150 });
    for (let i = 0; i <= 46; i++) {
      const wobble = 3 * Math.sin(i / 2.5) + (i % 5) - 2;
      publish({ type: 'rssi', device: 'bob', peer: 'enc-1', rssi: Math.round(-64 + wobble), attenuation: Math.round(60 - wobble), t: 500 + i * 30 });
    }
    let height = 0;
    for (let time = 0; time <= 3300; time += 60) {
      const rate = time < 400 ? 0.2 : 1.5 + Math.sin(time / 400);
      height += Math.round(rate * 4);
      publish({ type: 'throughput', tracecodesPerSec: rate, ledgerHeight: height, t: time });
    }
    for (const [time, text] of [
      [360, 'Alice sits down at The Beep Café'],
      [500, 'Bob and Grace join the next table'],
      [1150, 'Carol passes the counter'],
      [3000, 'Alice tests positive; a diagnostician endorses her pseudonyms'],
      [3060, 'The solver publishes fingerprints on the notification chain'],
    ] as const)
      publish({ type: 'log', text, t: time });

    publish({ type: 'alert', device: 'carol', level: 'low', explanation: 'brief visit to a venue with a case', t: 3100 });
    publish({ type: 'alert', device: 'bob', level: 'high', explanation: '23 min within 2 m of a case (attenuation 60 dB)', t: 3105 });
    publish({ type: 'alert', device: 'grace', level: 'high', explanation: 'raised for her carer Dave: 23 min near a case', t: 3110 });
    publish({ type: 'venue-state', venue: 'beep-cafe', state: 'infected' });
    await settled(page);

    const alerts = page.locator('#alerts li.alert');
    t.equal(await alerts.count(), 3, 'every alert is listed');
    t.equal(await alerts.first().getAttribute('data-device'), 'grace', 'newest first');
    t.match(await alerts.nth(1).textContent(), /high\s*Bob\s*23 min within 2 m/, 'level, label and explanation');
    t.ok((await alerts.nth(1).getAttribute('class'))?.includes('level-high'), 'level coloured');
    t.equal(await venue.getAttribute('data-state'), 'infected');
    t.equal(await venue.getAttribute('fill'), '#d64545', 'an infected venue turns red');
    t.match(await page.locator('.dev[data-device="alice"]').getAttribute('class'), /trust-trusted/, 'trust shows on the marker');
    t.match(await page.locator('#trust tr[data-device="carol"]').textContent(), /untrusted/, 'trust table');
    await page.locator('#rssi-chart canvas').waitFor(); // the panel redraws at most every 250 ms
    t.equal(await page.locator('#rssi-chart canvas').count(), 1, 'an RSSI chart is drawn');
    t.equal(await page.locator('#throughput-chart canvas').count(), 1, 'a throughput chart is drawn');
    t.equal(await page.locator('#log li.log').count(), 5, 'narration');
    // a device picked on the map: the encounter panel shows its pairs
    await page.locator('.dev[data-device="carol"] .dot').dispatchEvent('click');
    t.equal(await page.locator('#pair-search').inputValue(), 'Carol', 'a click on a device on the map searches for it');
    t.same(await page.locator('#pairs li.pair .who').allTextContents(), ['Carol ↔ enc-2'], 'and lists its pairs only');
    await page.locator('#pair-search').fill('');
    t.same((await page.locator('#pairs li.pair .who').allTextContents()).sort(), ['Bob ↔ enc-1', 'Carol ↔ enc-2'], 'an empty search lists the top pairs');

    mkdirSync(path.dirname(SHOT), { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });
    t.ok(existsSync(SHOT), `screenshot written to ${path.relative(ROOT, SHOT)}`);

    // A page opened late shows everything from the snapshot.
    const late = watch(await ctx.newPage());
    await late.goto(server.url);
    await late.locator('#conn.conn-live').waitFor();
    await settled(late);
    t.equal(await late.locator('.dev .lbl').count(), cafe.devices.length, 'late page: every device');
    t.equal(await late.locator('#alerts li.alert').count(), 3, 'late page: every alert');
    t.equal(await late.locator('path.venue[data-venue="beep-cafe"]').getAttribute('data-state'), 'infected', 'late page: venue state');

    // The server restarts (a new run): the open page notices on reconnect and starts over.
    await server.stop();
    await page.locator('#conn.conn-lost').waitFor();
    const again = new DashboardServer({ port: PORT, title: 'beepkit — café field trial, run 2' });
    await again.start();
    t.teardown(() => again.stop());
    again.publish(scenarioEvent(cafe));
    seq = again.publish({ type: 'position', device: 'dave', role: 'agent', label: 'Dave', x: 3, y: -2, t: 10 });
    await page.locator('#conn.conn-live').waitFor();
    await settled(page);
    t.equal(await page.locator('.dev .lbl').count(), 1, 'after a restart the page shows the new run only');
    t.equal(await page.locator('#alerts li.alert').count(), 0, 'and its (empty) alerts');
    t.equal(await page.locator('#title').textContent(), 'beepkit — café field trial, run 2');

    t.same(errors, [], 'no console errors');
    const foreign = requests.filter((u) => new URL(u).host !== `127.0.0.1:${PORT}`);
    t.same(foreign, [], `all ${requests.length} requests stay on 127.0.0.1:${PORT}`);
  });
}
