/**
 * carer: a rig wearable and the agent of its `carer` device. Pairing through the
 * running agent's HTTP API (a wrong code refused with nothing transferred, then
 * the right one), a sync bringing what the wearable recorded to the carer, a
 * notification for the wearable's fingerprint alerting the carer naming the
 * person, and `beepkit wearable revoke-carer` refusing the next sync.
 * The wearable runs as `beepkit wearable pair|run` children (demo/wearable.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, isBeepkitError } from '@beepkit/protocol';
import { toHex } from '@beepkit/protocol/bytes';
import { fingerprint } from '@beepkit/protocol/tracecode';
import { encodeNotificationEntry } from '@beepkit/protocol/endorse';
import { storageKey } from '@beepkit/agent/app';
import { readKeyFile } from '@beepkit/device-core/keys';
import { CarerStore, wearablePrefixes } from '@beepkit/agent/carer';
import { agentApi, pairThroughAgent, wearableScans, WearableProcess, VISIT_ENTER_WINDOW_MS, VISIT_EXIT_AFTER_MS, type WearableSetup } from '../wearable.ts';
import { runBeepkit, type RigAgent } from '../hil/agents.ts';
import type { AgentEndpoint } from '../agent-child.ts';
import { BIN, Skip, type HilContext } from '../hil/context.ts';
import type { Suite } from '../hil/runner.ts';
import { clockSpecFor } from '../hil/gateway-child.ts';
import type { Rig, RigDevice } from '../rig/index.ts';

/** The wearable's publishing interval here, scenario ms (the minimum it takes): a stay is sealed after 4 of them at the latest. */
export const CARER_PUBLISH_INTERVAL_MS = 60_000;
/** Real ms the wearable gets to hear a venue (3 frames) once it runs. */
const VISIT_WAIT_MS = 45_000;

interface CarerView {
  wearables: { label: string; records: number; days: number; lastSyncMs?: number; lastError?: string }[];
  syncs: number;
}

/** The first wearable of the rig whose carer is an agent device, and that carer. */
export function carerPair(rig: Rig, agentIds: string[]): { wearable: RigDevice; carer: RigDevice } | undefined {
  for (const w of rig.devices) {
    if (w.role !== 'wearable' || !w.carer || !agentIds.includes(w.carer)) continue;
    return { wearable: w, carer: rig.devices.find((d) => d.id === w.carer)! };
  }
  return undefined;
}

/** A code of six digits that is not `shown`. */
export function wrongCode(shown: string): string {
  return String((Number(shown) + 500_001) % 1_000_000).padStart(6, '0');
}

/** The first output line of `w` (kept since it started) that `pred` accepts; E_TIMEOUT naming `what`. */
function lineOf(w: WearableProcess, what: string, pred: (l: string) => boolean, ms: number): Promise<string> {
  return until(`wearable ${w.setup.label}: ${what}`, async () => w.output.find(pred), ms);
}

/** Polls `fn` until it returns a value; E_TIMEOUT naming `what` (with the last value) otherwise. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new BeepkitError('E_TIMEOUT', `${what} not seen in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The rig's clock for the wearable: the sim's clock URL, or the fixed mapping of a rig without a control API. */
function wearableClock(ctx: HilContext): Pick<WearableSetup, 'clockUrl' | 'clock'> {
  const k = clockSpecFor(ctx.rig);
  if (!k) return {};
  if (typeof k.url === 'string') return { clockUrl: k.url };
  return {
    clock: Object.entries(k)
      .map(([f, v]) => `${f}=${v}`)
      .join(','),
  };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new BeepkitError('E_ASSERT', what);
}

/** On a virtual rig: the wearable and its carer side by side, a metre from the beacon nearest the wearable's start. */
async function bringTogether(ctx: HilContext, w: RigDevice, c: RigDevice): Promise<string> {
  if (!ctx.control) return 'no control API: the wearable and its carer are where the rig has them';
  const beacons = ctx.rig.venues.flatMap((v) => v.beacons.map((b) => ({ v, b })));
  const from = w.position ?? ctx.rig.venues[0]?.center ?? { lat: 0, lon: 0 };
  const d2 = (p: { lat: number; lon: number }): number => (p.lat - from.lat) ** 2 + (p.lon - from.lon) ** 2;
  const near = beacons.sort((x, y) => d2(x.b.position) - d2(y.b.position))[0];
  if (!near) return 'the rig has no beacon';
  const at = near.b.position;
  await ctx.control.move(w.id, { lat: at.lat + 9e-6, lon: at.lon });
  await ctx.control.move(c.id, { lat: at.lat, lon: at.lon + 15e-6 });
  return `${w.id} and ${c.id} moved next to ${near.b.id} (${near.v.name})`;
}

export const carer: Suite = {
  name: 'carer',
  ci: true,
  description: 'a wearable paired through its carer agent (wrong code refused), sync, an alert naming the person, revocation',
  requires(ctx) {
    const p = carerPair(
      ctx.rig,
      ctx.agentDevices.map((d) => d.id),
    );
    if (p) return undefined;
    return ctx.rig.devices.some((d) => d.role === 'wearable') ? 'no wearable of the rig has an agent device as its carer' : 'the rig has no wearable device';
  },
  async run(ctx, step) {
    const { wearable: wd, carer: cd } = carerPair(
      ctx.rig,
      ctx.agentDevices.map((d) => d.id),
    )!;
    const agent: RigAgent = (await ctx.agentsUp()).get(cd.id)!;
    const port = (): AgentEndpoint => {
      const api = agent.api;
      if (!api || !agent.running) throw new BeepkitError('E_AGENT', `the carer agent ${cd.id} is not running`);
      return api;
    };
    const label = wd.label;
    const scans = await wearableScans(BIN);
    const setup: WearableSetup = {
      label,
      dataDir: join(ctx.dir, 'wearables', wd.id),
      uart: wd.radio.advertise.path,
      scanUart: wd.radio.scan.path,
      ...wearableClock(ctx),
      solverKey: toHex(ctx.gateway.keys.solverPublicKey),
      publishIntervalMs: CARER_PUBLISH_INTERVAL_MS,
      visitWindowMs: VISIT_ENTER_WINDOW_MS,
      visitExitMs: VISIT_EXIT_AFTER_MS,
      logFile: join(ctx.dir, `${wd.id}-wearable.log`),
    };
    mkdirSync(setup.dataDir, { recursive: true, mode: 0o700 });
    const status = async (): Promise<{ paired: boolean; pending: number; wearableId: string }> =>
      JSON.parse(await runBeepkit(BIN, ['wearable', 'status', '--data-dir', setup.dataDir], 60_000));
    const carerView = async (): Promise<CarerView> => agentApi(port(), 'GET', '/carer', undefined, 10_000);
    let running: WearableProcess | undefined;
    const runWearable = async (): Promise<WearableProcess> => {
      const w = new WearableProcess(setup, 'run', BIN, scans);
      running = w;
      await w.start();
      return w;
    };
    let paired = false;
    try {
      ctx.print(`    ${wd.id} (${label}), carer ${cd.id}; ${await bringTogether(ctx, wd, cd)}`);
      await step('pairing: a wrong code is refused (403 E_CODE), nothing transferred; the right code pairs both sides', async () => {
        const first = new WearableProcess(setup, 'pair', BIN, scans);
        await first.start();
        const wrong = await pairThroughAgent(port(), first, { label, typed: wrongCode }).then(
          () => undefined,
          (e: unknown) => e,
        );
        check(
          isBeepkitError(wrong) && wrong.code === 'E_CODE' && / 403 /.test(wrong.message),
          `a wrong code gave ${isBeepkitError(wrong) ? `${wrong.code}: ${wrong.message}` : String(wrong ?? 'a pairing')}, not 403 E_CODE`,
        );
        const listed = (await agentApi(port(), 'GET', '/carer/wearables', undefined, 10_000)) as unknown[];
        check(listed.length === 0, `after the wrong code the carer lists ${listed.length} wearable(s)`);
        check(!(await status()).paired, 'after the wrong code the wearable says it is paired');
        ctx.print(`    wrong code refused: carer lists none, wearable not paired`);
        const second = new WearableProcess(setup, 'pair', BIN, scans);
        await second.start();
        const p = await pairThroughAgent(port(), second, { label });
        check(p.carerCode === p.shown, `the carer showed ${p.carerCode}, the wearable ${p.shown}`);
        const after = (await agentApi(port(), 'GET', '/carer/wearables', undefined, 10_000)) as { label: string; wearableId: string; days: number[] }[];
        check(
          after.length === 1 && after[0]!.label === label && after[0]!.days.length >= 1,
          `the carer lists ${JSON.stringify(after.map((x) => ({ label: x.label, days: x.days })))}`,
        );
        const s = await status();
        check(
          s.paired && s.wearableId === after[0]!.wearableId,
          `the wearable: paired ${s.paired}, id ${s.wearableId === after[0]!.wearableId ? 'the same' : 'another'}`,
        );
        paired = true;
        ctx.print(`    paired: both showed ${p.shown}; ${p.days} day key(s), ${p.delivered} record(s) transferred`);
      });
      if (!paired) return;
      await step('sync: what the wearable recorded reaches the carer (/carer counts)', async () => {
        const w = await runWearable();
        const before = await carerView();
        const r0 = before.wearables[0]?.records ?? 0;
        let sealed = 0;
        if (scans) {
          const visit = await lineOf(w, 'a venue visit', (l) => l.includes('wearable: venue visit') && l.includes('"enter"'), VISIT_WAIT_MS).catch(
            () => undefined,
          );
          if (visit) {
            const limit = 30_000 + Math.min(90_000, ctx.real(6 * CARER_PUBLISH_INTERVAL_MS));
            await lineOf(w, 'a stay sealed into the outbox', (l) => l.includes('wearable: stay sealed into the outbox'), limit);
            sealed = 1;
          }
        }
        const res = (await agentApi(port(), 'POST', '/carer/sync', { wearable: label })) as {
          results: { label: string; delivered?: number; error?: string }[];
        };
        const r = res.results[0];
        check(!!r && r.error === undefined, `the sync failed: ${JSON.stringify(r)}`);
        const after = (await carerView()).wearables[0]!;
        check(after.lastSyncMs !== undefined && after.lastSyncMs !== before.wearables[0]?.lastSyncMs, 'GET /carer shows no new sync');
        check(after.records === r0 + (r!.delivered ?? 0), `GET /carer counts ${after.records} records, ${r0} before + ${r!.delivered} delivered`);
        ctx.print(`    sync: ${r!.delivered} record(s) delivered, ${after.records} in all at the carer`);
        if (!sealed) {
          const why = !scans
            ? 'the wearable does not record (`beepkit wearable run` has no --scan-uart)'
            : `the wearable heard no venue in ${VISIT_WAIT_MS / 1000} s`;
          throw new Skip(`the sync completed (${after.records} record(s) at the carer), but ${why}, so it had nothing to deliver`);
        }
        check(after.records >= 1, 'the wearable sealed a stay but the carer holds no record of it');
      });
      await step("alert: a notification for the wearable's fingerprint alerts the carer naming the person", async () => {
        const [w] = (await agentApi(port(), 'GET', '/carer/wearables', undefined, 10_000)) as { wearableId: string }[];
        const cfg = join(agent.dir, 'data');
        const key = await storageKey(cfg, { material: await readKeyFile(join(agent.dir, 'agent.key')), kind: 'key' });
        const store = await new CarerStore({ path: join(cfg, 'carer.bks'), key }).load();
        const prefixes = wearablePrefixes(store, w!.wearableId);
        const today = Math.floor(ctx.now() / 86_400_000);
        const p = prefixes.find((x) => x.day === today) ?? prefixes.at(-1);
        if (!p) throw new BeepkitError('E_ASSERT', 'the carer holds no day key of the wearable');
        const before = (await agent.status())?.alerts.total ?? 0;
        const named = (l: string): boolean => l.includes('"alert":') && l.includes(`"msg":"${label}: `);
        const seen = agent.output.filter(named).length;
        const t0 = performance.now();
        await ctx.gateway.publishNotification([encodeNotificationEntry({ type: 'exposure', fingerprint: fingerprint(p.prefix), risk: 2, day: p.day })]);
        await agent.waitFor('an alert', (s) => s.alerts.total > before, 30_000);
        const line = await until('an alert line naming the person', async () => agent.output.filter(named)[seen], 10_000);
        check(!line.includes(toHex(p.prefix)), 'the alert line carries the pseudonym');
        ctx.print(`    alert ${Math.round(performance.now() - t0)} ms after the publish: ${JSON.parse(line).msg.slice(0, 90)}…`);
      });
      await step('revocation: `beepkit wearable revoke-carer`, then the next sync is refused (E_ABORTED) or finds no wearable, and logged', async () => {
        await running?.stop();
        const out = JSON.parse(
          await runBeepkit(
            BIN,
            [
              'wearable',
              'revoke-carer',
              '--data-dir',
              setup.dataDir,
              ...(setup.clockUrl ? ['--clock-url', setup.clockUrl] : setup.clock ? ['--clock', setup.clock] : []),
            ],
            60_000,
          ),
        ) as { hadCarer: boolean; rotatedFromDay: number };
        check(out.hadCarer, 'revoke-carer says the wearable had no carer');
        check(!(await status()).paired, 'the wearable is still paired after revoke-carer');
        const w = await runWearable();
        const denied = lineOf(w, 'the refusal', (l) => l.includes('E_DENIED'), 60_000);
        denied.catch(() => {});
        const res = (await agentApi(port(), 'POST', '/carer/sync', { wearable: label })) as { results: { label: string; error?: string }[] };
        const err = res.results[0]?.error;
        const v = (await carerView()).wearables[0];
        if (err === 'E_TIMEOUT' && scans) {
          // unpaired, a recording wearable advertises from its EN-derived addresses only: they no longer resolve with
          // the pairing's IRK, so the revoked carer cannot even find (or follow) it
          check(v?.lastError === 'E_TIMEOUT', `GET /carer lastError ${v?.lastError}`);
          await until(
            'the failed sync logged by the carer agent',
            async () => agent.output.find((l) => l.includes('carer: sync failed') && l.includes('E_TIMEOUT')),
            10_000,
          );
          check(!w.output.some((l) => l.includes('E_DENIED') || l.includes('wearable: sync complete')), 'the revoked carer reached the wearable');
          ctx.print(
            `    revoked (master rotated from day ${out.rotatedFromDay}); the carer can no longer find the wearable (its addresses do not resolve with the pairing's IRK): E_TIMEOUT, logged`,
          );
          return;
        }
        check(err === 'E_ABORTED', `the sync after the revocation gave ${JSON.stringify(res.results[0])}`);
        check(v?.lastError === 'E_ABORTED', `GET /carer lastError ${v?.lastError}`);
        await denied;
        check(
          agent.output.some((l) => l.includes('carer: sync aborted') && l.includes('E_ABORTED')),
          'the carer agent did not log the refused sync',
        );
        ctx.print(`    revoked (master rotated from day ${out.rotatedFromDay}); the carer's sync refused: E_ABORTED (carer), E_DENIED (wearable), logged`);
      });
    } finally {
      await running?.stop();
      // leave the carer agent as the suite found it
      if (paired && agent.api && agent.running) await agentApi(agent.api, 'POST', '/carer/unpair', { wearable: label, offline: true }, 10_000).catch(() => {});
    }
  },
};
