/**
 * The field trial's outcome, its comparison with the scenario's `expect` block,
 * and the summary printed at the end. Pure: no I/O, no clocks.
 */
import { BeepkitError } from '@beepkit/protocol';

export type Level = 'none' | 'low' | 'high';
const LEVELS: readonly Level[] = ['none', 'low', 'high'];

export interface Expectations {
  /** Device id → venue ids it must have visited ([] = none). */
  visits: Record<string, string[]>;
  /** Device id → acceptable alert levels. */
  alerts: Record<string, Level[]>;
}

export interface DeviceOutcome {
  id: string;
  label: string;
  role: string;
  /** Venue ids visited (in order of entry, distinct). */
  visits: string[];
  /** Minutes (scenario time) spent in each visit, in order. */
  visitMinutes: number[];
  certificate: boolean;
  /** TraceCodes sealed by the device. */
  tracecodes: number;
  /** Highest alert level raised. */
  alert: Level;
  explanation?: string;
  /** Why this device was not run (e.g. the wearable part is not available yet). */
  skipped?: string;
  /** Ran, but what its expectations need did not happen: what is missing (said beside its failed checks). */
  missing?: string;
  /** A wearable: its carer's label (its row says "through <carer>"). */
  carer?: string;
}

/** A wearable and its carer: paired at the start, synced later. */
export interface CarerOutcome {
  wearable: string;
  carer: string;
  paired: boolean;
  /** Complete syncs after the pairing. */
  syncs: number;
  /** Records collected from the wearable (pairing and syncs). */
  records: number;
  error?: string;
}

export interface TrialOutcome {
  scenario: string;
  speed: number;
  short: boolean;
  devices: DeviceOutcome[];
  ledger: { tracingBlocks: number; tracingRecords: number; notificationBlocks: number; verified: boolean; problem?: string };
  diagnosis: { done: boolean; patient?: string; days?: number; visits?: number; venueState?: string; error?: string };
  solver: { done: boolean; records?: number; published?: number; error?: string };
  /** Real time taken, ms. */
  elapsedMs: number;
  /** Parts of the path that were not run, in plain words. */
  skipped: string[];
  carers?: CarerOutcome[];
}

export interface Check {
  what: string;
  ok: boolean;
  expected: string;
  actual: string;
  /** Not counted: a skipped device, or a timing-sensitive detail in short mode. */
  advisory?: string;
}

export interface Comparison {
  ok: boolean;
  checks: Check[];
  /** Plain-language differences that made `ok` false. */
  differences: string[];
}

function levels(v: unknown, field: string): Level[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x): x is Level => typeof x === 'string' && (LEVELS as readonly string[]).includes(x))) {
    throw new BeepkitError('E_CONFIG', `scenario expect.alerts.${field}: must be none|low|high or a list of them`);
  }
  return list;
}

/** The scenario's free-form `expect` block, checked. */
export function parseExpect(raw: Record<string, unknown> | undefined): Expectations {
  const out: Expectations = { visits: {}, alerts: {} };
  const v = raw?.visits;
  if (v !== undefined) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BeepkitError('E_CONFIG', 'scenario expect.visits: must be a mapping');
    for (const [id, list] of Object.entries(v)) {
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
        throw new BeepkitError('E_CONFIG', `scenario expect.visits.${id}: must be a list of venue ids`);
      out.visits[id] = list as string[];
    }
  }
  const a = raw?.alerts;
  if (a !== undefined) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new BeepkitError('E_CONFIG', 'scenario expect.alerts: must be a mapping');
    for (const [id, l] of Object.entries(a)) out.alerts[id] = levels(l, id);
  }
  return out;
}

/** Compares the outcome with the expectations; `short` makes visit checks advisory (timing-sensitive on a loaded machine). */
export function compareOutcome(exp: Expectations, o: TrialOutcome): Comparison {
  const checks: Check[] = [];
  const byId = new Map(o.devices.map((d) => [d.id, d]));
  const skipOf = (id: string): string | undefined => {
    const d = byId.get(id);
    return !d ? 'not in the run' : d.skipped;
  };
  const missingOf = (id: string): string | undefined => {
    const d = byId.get(id);
    return d?.missing ? `missing: ${d.missing}` : undefined;
  };
  for (const [id, want] of Object.entries(exp.visits)) {
    const got = byId.get(id)?.visits ?? [];
    const ok = want.length === got.length && want.every((x) => got.includes(x));
    const skip = skipOf(id);
    checks.push({
      what: `visits of ${byId.get(id)?.label ?? id}`,
      ok,
      expected: want.join(', ') || 'none',
      actual: skip ? 'not run' : got.join(', ') || 'none',
      ...(skip ? { advisory: `skipped: ${skip}` } : !ok && o.short && !missingOf(id) ? { advisory: 'timing-sensitive in --short' } : {}),
    });
  }
  for (const [id, want] of Object.entries(exp.alerts)) {
    const got = byId.get(id)?.alert ?? 'none';
    const skip = skipOf(id);
    const ok = want.includes(got);
    const missing = !ok && !skip ? missingOf(id) : undefined;
    checks.push({
      what: `alert of ${byId.get(id)?.label ?? id}`,
      ok,
      expected: want.join(' or '),
      actual: skip ? 'not run' : `${got}${missing ? ` (${missing})` : ''}`,
      ...(skip ? { advisory: `skipped: ${skip}` } : {}),
    });
  }
  for (const c of o.carers ?? []) {
    checks.push({
      what: `${c.carer} pairs with ${c.wearable}`,
      ok: c.paired,
      expected: 'paired',
      actual: c.paired ? 'paired' : `not paired${c.error ? ` (${c.error})` : ''}`,
    });
    if (c.paired) {
      checks.push({
        what: `${c.carer} syncs ${c.wearable}`,
        ok: c.syncs > 0,
        expected: 'synced',
        actual: `${c.syncs} sync(s), ${c.records} record(s)${c.error ? `, last error ${c.error}` : ''}`,
      });
    }
  }
  checks.push({ what: 'ledger verifies', ok: o.ledger.verified, expected: 'ok', actual: o.ledger.verified ? 'ok' : (o.ledger.problem ?? 'failed') });
  if (!o.skipped.some((s) => /diagnos/i.test(s))) {
    checks.push({ what: 'diagnosis endorsed', ok: o.diagnosis.done, expected: 'done', actual: o.diagnosis.done ? 'done' : (o.diagnosis.error ?? 'not done') });
  }
  if (!o.skipped.some((s) => /solver/i.test(s))) {
    checks.push({ what: 'solver ran', ok: o.solver.done, expected: 'done', actual: o.solver.done ? 'done' : (o.solver.error ?? 'not done') });
  }
  const differences = checks.filter((c) => !c.ok && !c.advisory).map((c) => `${c.what}: expected ${c.expected}, got ${c.actual}`);
  return { ok: differences.length === 0, checks, differences };
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** Minutes:seconds of a real duration. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** The summary block printed at the end of the demo, as lines. */
export function formatSummary(o: TrialOutcome, c: Comparison, venueName: (id: string) => string = (id) => id): string[] {
  const lines: string[] = [];
  lines.push('', `=== Field trial summary: scenario ${o.scenario} (speed ×${o.speed}${o.short ? ', short' : ''}) ===`);
  lines.push(`${pad('person', 10)}${pad('visits', 34)}${pad('certificate', 13)}${pad('TraceCodes', 12)}alert`);
  for (const d of o.devices) {
    if (d.skipped) {
      lines.push(`${pad(d.label, 10)}(not run: ${d.skipped})`);
      continue;
    }
    const visits = d.visits.map((v, i) => `${venueName(v)}${d.visitMinutes[i] !== undefined ? ` ${Math.round(d.visitMinutes[i])} min` : ''}`).join(', ') || '—';
    lines.push(
      `${pad(d.label, 10)}${pad(`${visits} `, 34)}${pad(d.certificate ? 'yes' : 'no', 13)}${pad(String(d.tracecodes), 12)}${d.alert}${d.carer ? ` (through ${d.carer})` : ''}`,
    );
  }
  lines.push(
    `Tracing chain: ${o.ledger.tracingRecords} entries (TraceCodes and endorsements) in ${o.ledger.tracingBlocks} blocks; notification chain: ${o.ledger.notificationBlocks} blocks`,
  );
  lines.push(`Ledger verify: ${o.ledger.verified ? 'ok' : `FAILED (${o.ledger.problem ?? 'unknown'})`}`);
  if (o.diagnosis.done)
    lines.push(
      `Diagnosis: ${o.diagnosis.patient} endorsed (${o.diagnosis.days} day(s), ${o.diagnosis.visits} venue visit(s))${o.diagnosis.venueState ? `; venue now ${o.diagnosis.venueState}` : ''}`,
    );
  else lines.push(`Diagnosis: not done${o.diagnosis.error ? ` (${o.diagnosis.error})` : ''}`);
  if (o.solver.done) lines.push(`Solver: ${o.solver.records} records decrypted, ${o.solver.published} exposure notice(s) published`);
  else lines.push(`Solver: not run${o.solver.error ? ` (${o.solver.error})` : ''}`);
  for (const c of o.carers ?? []) {
    lines.push(
      `Carer: ${c.carer} ${c.paired ? `paired with ${c.wearable}'s wearable; ${c.syncs} sync(s), ${c.records} record(s) collected` : `could not pair with ${c.wearable}'s wearable`}${c.error ? ` (last error ${c.error})` : ''}`,
    );
  }
  for (const d of o.devices) if (d.missing) lines.push(`Missing: ${d.label}: ${d.missing}`);
  for (const s of o.skipped) lines.push(`Skipped: ${s}`);
  lines.push(`Time taken: ${formatDuration(o.elapsedMs)}`);
  lines.push('', 'Expected vs observed:');
  for (const k of c.checks)
    lines.push(
      `  ${k.advisory ? '~' : k.ok ? '✓' : '✗'} ${pad(k.what, 22)} expected ${pad(k.expected, 16)} got ${k.actual}${k.advisory ? `  (${k.advisory})` : ''}`,
    );
  lines.push('', c.ok ? 'RESULT: the outcome matches the scenario' : `RESULT: the outcome differs: ${c.differences.join('; ')}`);
  return lines;
}
