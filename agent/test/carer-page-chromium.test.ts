/**
 * The carer page in headless Chromium (driven as trial/test/demo.test.ts drives it), against a
 * real carer agent (`beepkit agent run`) and a real wearable (bleno) on virtual controllers, with a
 * Gateway on its embedded broker: without the token only its form shows (a wrong one refused); opened
 * from the address `beepkit agent carer token` prints, then by keyboard only: pair with a wrong code
 * (refused, nothing paired on either side), then the right code (the page's code is the wearable's), the person listed with the last sync and records waiting; the
 * gateway publishes a notification for the wearable's fingerprint: the alert appears in plain words;
 * unpair. At each step every control has a label and every text a contrast of at least 4.5:1 against
 * its background (from computed styles). Screenshots in $BEEPKIT_ARTIFACTS/carer-page (default
 * hil-tests/artifacts/carer-page, gitignored; CI keeps them).
 */
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import { chromium, type Page } from 'playwright-core';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import type { Gateway } from '@beepkit/gateway/app';
import { findTool, missing } from '../../scripts/tools.ts';
import { CarerStore, wearablePrefixes } from '../src/carer/index.ts';
import { storageKey } from '../src/app/storage.ts';
import { carerGateway, carerRig, PASS } from './fixtures/carer-agent.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(process.env.BEEPKIT_ARTIFACTS ?? join(root, 'hil-tests', 'artifacts'), 'carer-page');
const CHROMIUM = findTool('chromium');
const NO_CHROMIUM = missing('chromium') || (CHROMIUM ? '' : 'chromium not installed');

/**
 * Controls without a label, and texts under 4.5:1 against the background they are drawn on (computed styles, WCAG 2
 * relative luminance). Plain JS in a string: run in the page as written (tsx would add its helpers to a function).
 */
const A11Y_SCRIPT = `(() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && getComputedStyle(el).visibility !== 'hidden';
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0.99) return c;
    }
    return [255, 255, 255, 1];
  };
  const unlabelled = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (!visible(el)) continue;
    const named = el.tagName === 'BUTTON' ? (el.textContent || '').trim() || el.getAttribute('aria-label')
      : (el.labels && el.labels.length && el.labels[0].textContent.trim()) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) unlabelled.push(el.outerHTML.slice(0, 80));
  }
  const lowContrast = [];
  let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const [l1, l2] = [lum(rgba(getComputedStyle(el).color)), lum(background(el))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    checked++;
    if (ratio < 4.5) lowContrast.push(el.tagName + '#' + el.id + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2) + ':1');
  }
  return { unlabelled, lowContrast, checked };
})()`;

async function accessibility(page: Page): Promise<{ unlabelled: string[]; lowContrast: string[]; checked: number }> {
  return page.evaluate(A11Y_SCRIPT) as Promise<{ unlabelled: string[]; lowContrast: string[]; checked: number }>;
}

async function checkA11y(t: Test, page: Page, step: string): Promise<void> {
  const a = await accessibility(page);
  t.same(a.unlabelled, [], `${step}: every control has a label`);
  t.same(a.lowContrast, [], `${step}: all ${a.checked} texts at least 4.5:1`);
}

const focused = (page: Page): Promise<string> => page.evaluate("(document.activeElement && document.activeElement.id) || ''") as Promise<string>;

/** Moves the focus with Tab (at most 30 presses) to the element `id` (or whose id starts with it, `prefix`). */
async function tabTo(page: Page, id: string, prefix = false): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const at = await focused(page);
    if (prefix ? at.startsWith(id) : at === id) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached #${id}`);
}

t.test(
  'the carer page: pair by keyboard (a wrong code refused, then the right one), see the alert, unpair',
  { skip: NO_CHROMIUM || false, timeout: 180_000 },
  async (t) => {
    const t0 = performance.now();
    let gw!: Gateway;
    const rig = await carerRig(t, 43, 0, async (dir) => {
      const g = await carerGateway(t, dir, 0, 'carer-page-test-1');
      gw = g.gw;
      return {
        ...g.config,
        carer: { enabled: true, syncIntervalMs: 0, autoSync: false, findTimeoutMs: 30_000, sessionTimeoutMs: 15_000, page: { timeZone: 'UTC' } },
      };
    });
    const { wearable, api } = rig;
    const setupS = (performance.now() - t0) / 1000;

    // the address the carer is given
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'beepkit.js'), 'agent', 'carer', 'token', '--config', join(rig.dataDir, '..', 'agent.json')],
      { timeout: 60_000 },
    );
    const { url } = JSON.parse(stdout) as { url: string };
    t.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${rig.port}/carer/page/#token=[0-9a-f]{64}$`));

    mkdirSync(SHOTS, { recursive: true });
    const profile = mkdtempSync(join(os.tmpdir(), 'beepkit-carer-page-'));
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
      viewport: { width: 900, height: 1000 },
    });
    t.teardown(async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = async (name: string): Promise<void> => {
      const p = join(SHOTS, name);
      await page.screenshot({ path: p, fullPage: true });
      t.ok(existsSync(p), `screenshot ${name}`);
    };

    // without the token: only the token form; a wrong one typed is refused
    await page.goto(url.split('#')[0]);
    await page.locator('#token-box').waitFor();
    t.ok(await page.locator('#pair-box').isHidden(), 'nothing but the token form without the token');
    await checkA11y(t, page, 'token form');
    await tabTo(page, 'token');
    await page.keyboard.type('0'.repeat(64));
    await page.keyboard.press('Enter');
    await page.locator('#token-h', { hasText: 'the token was wrong' }).waitFor();
    t.ok(await page.locator('#people-box').isHidden(), 'a wrong token shows nothing');

    await page.goto('about:blank');
    await page.goto(url);
    await page.locator('#pair-box').waitFor();
    t.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    t.equal(await page.locator('#no-people').textContent(), 'Nobody yet: pair a wearable above.');
    await checkA11y(t, page, 'start');

    // 1. a wrong code, by keyboard: Tab to Pair, Enter; the page shows its code and focuses the code field
    let wm = wearable.mark();
    await tabTo(page, 'pair');
    await page.keyboard.press('Enter');
    const shown = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'wearable code', wm);
    await page.locator('#carer-code').waitFor();
    t.equal((await page.locator('#carer-code').textContent())!.replace(/\s/g, ''), shown.code, 'the page shows the same six digits as the wearable');
    t.equal(await focused(page), 'wearable-code', 'the focus moves to the code field');
    await checkA11y(t, page, 'comparing codes');
    await shot('1-compare.png');
    wearable.send({ op: 'confirm', ok: true });
    await page.keyboard.type(shown.code === '000000' ? '000001' : '000000');
    await page.keyboard.press('Enter');
    await page.locator('#message.bad', { hasText: 'The codes did not match, so nothing was paired.' }).waitFor({ timeout: 60_000 });
    await wearable.waitFor((e) => e.ev === 'failed', 60_000, 'the wearable aborts', wm);
    t.same((await api('GET', '/carer/wearables')).body, [], 'nothing paired at the carer');
    t.notOk(await page.locator('#people li').count(), 'nobody listed');
    t.equal(await focused(page), 'pair', 'the focus is back on Pair');
    await checkA11y(t, page, 'refused');
    await shot('2-wrong-code.png');

    // 2. the right code, with the person's name typed in
    wm = wearable.mark();
    await tabTo(page, 'pair-name');
    await page.keyboard.type('Grace');
    await page.keyboard.press('Enter');
    const code = await wearable.waitFor((e) => e.ev === 'code', 60_000, 'code again', wm);
    await page.locator('#carer-code').waitFor();
    t.equal((await page.locator('#carer-code').textContent())!.replace(/\s/g, ''), code.code, 'the same digits again');
    wearable.send({ op: 'confirm', ok: true });
    await page.keyboard.type(`${code.code.slice(0, 3)} ${code.code.slice(3)}`); // as shown, with the space
    await page.keyboard.press('Enter');
    await page.locator('#message', { hasText: 'Paired with Grace.' }).waitFor({ timeout: 60_000 });
    const person = page.locator('#people li.person', { hasText: 'Grace' });
    await person.waitFor();
    t.match(await person.textContent(), /Last synced: just now\.Records waiting to upload: \d+\./, 'the person, the last sync and the records waiting');
    t.match((await api('GET', '/carer/wearables')).body, [{ label: 'Grace' }], 'paired at the carer');

    // 3. a notification for the wearable's fingerprint of today: the alert in plain words
    const key = await storageKey(rig.dataDir, { material: new TextEncoder().encode(PASS), kind: 'passphrase' });
    const store = await new CarerStore({ path: join(rig.dataDir, 'carer.bks'), key }).load();
    const [today] = wearablePrefixes(store, store.list()[0].wearableId);
    await gw.publishNotification([encodeNotificationEntry({ type: 'exposure', fingerprint: fingerprint(today.prefix), risk: 2, day: today.day })]);
    const alert = page.locator('#alerts li.alert.high');
    await alert.waitFor({ timeout: 60_000 });
    // the alert's day is the key's UTC day: "today", or "yesterday" should UTC midnight pass meanwhile
    t.match(
      await alert.textContent(),
      /^Grace was somewhere at about the same time as someone who later tested positive, (today|yesterday)\. This is a high risk: please follow your local health guidance\.$/,
      'the alert in plain words',
    );
    await checkA11y(t, page, 'paired, with an alert');
    await shot('3-alert.png');

    // 4. unpair, by keyboard: the question, then yes
    await tabTo(page, 'unpair-', true);
    await page.keyboard.press('Enter');
    t.match(await focused(page), /^unpair-yes-/, "the focus moves to the question's yes");
    await checkA11y(t, page, 'unpair question');
    await page.keyboard.press('Enter');
    await page.locator('#message', { hasText: /^Grace is unpaired/ }).waitFor({ timeout: 60_000 });
    await page.locator('#no-people').waitFor();
    t.same((await api('GET', '/carer/wearables')).body, [], 'unpaired at the carer');
    t.equal(await page.locator('#alerts li').count(), 0, 'her alerts are forgotten with her');
    await shot('4-unpaired.png');
    t.same(errors, [], 'no page errors');
    t.comment(`rig ready in ${setupS.toFixed(1)} s; whole test ${((performance.now() - t0) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
  },
);
