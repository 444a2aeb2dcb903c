/** Prometheus text rendering of an AgentStatus (counts and states only). */
import type { AgentStatus } from './types.ts';

type Labels = Record<string, string>;
const esc = (v: string) => v.replace(/["\\\n]/g, '_');
const lt = (l: Labels) => {
  const e = Object.entries(l);
  return e.length ? `{${e.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
};

class Text {
  readonly lines: string[] = [];
  metric(name: string, type: 'gauge' | 'counter', help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP beepkit_agent_${name} ${help}`, `# TYPE beepkit_agent_${name} ${type}`);
    for (const [l, v] of samples) this.lines.push(`beepkit_agent_${name}${lt(l)} ${Number.isFinite(v) ? v : 0}`);
  }
  map(name: string, type: 'gauge' | 'counter', help: string, label: string, m: Record<string, number>, extra: Labels = {}): void {
    this.metric(
      name,
      type,
      help,
      Object.entries(m).map(([k, v]) => [{ ...extra, [label]: k }, v]),
    );
  }
}

const STATES = ['connecting', 'open', 'silent', 'closed', 'reconnecting'];
const POWER = ['poweredOn', 'poweredOff', 'unknown', 'unsupported', 'unauthorized', 'resetting', 'none'];
const TRUST = ['untrusted', 'trusted', 'lost'];

export function renderMetrics(s: AgentStatus): string {
  const t = new Text();
  t.metric('up', 'gauge', '1 while the agent runs', [[{}, s.state === 'running' ? 1 : 0]]);
  t.metric('uptime_seconds', 'gauge', 'seconds since start', [[{}, s.uptimeSeconds]]);
  t.metric(
    'gnss_state',
    'gauge',
    'GNSS source state (1 = current)',
    STATES.map((st) => [{ type: s.gnss.type, state: st }, s.gnss.state === st ? 1 : 0]),
  );
  t.metric('gnss_fix_usable', 'gauge', '1 when the last GNSS fix is usable', [[{}, s.gnss.usable ? 1 : 0]]);
  t.map('gnss_events_total', 'counter', 'GNSS source counters (lines, fixes, rejects by code)', 'kind', s.gnss.counters);
  t.metric(
    'radio_state',
    'gauge',
    'controller power state (1 = current)',
    (['scanner', 'advertiser'] as const).flatMap((role) => POWER.map((p): [Labels, number] => [{ role, state: p }, s.radio[role] === p ? 1 : 0])),
  );
  t.metric('radio_scanning', 'gauge', '1 while a scan is wanted', [[{}, s.radio.scanning ? 1 : 0]]);
  t.metric('radio_advertising', 'gauge', '1 while own EN identifiers are advertised', [[{}, s.radio.advertising ? 1 : 0]]);
  t.map('radio_events_total', 'counter', 'radio counters (adverts, resets, restarts, rotations)', 'kind', s.radio.counters);
  const tx = s.radio.txPower;
  if (tx && tx.advertised !== null)
    t.metric('radio_tx_power_dbm', 'gauge', "TX power in the AEM (source: the controller's, corrected, or the configured one)", [
      [{ source: tx.source ?? 'config' }, tx.advertised],
    ]);
  t.metric('adverts_total', 'counter', 'adverts received', [[{}, s.scan.total]]);
  t.map('adverts_by_kind_total', 'counter', 'accepted adverts by kind', 'kind', s.scan.byKind);
  t.map('rejects_total', 'counter', 'rejected inputs by error code', 'code', { ...s.scan.rejects });
  t.metric('peers', 'gauge', 'peers tracked by the scan pipeline', [[{}, s.scan.peers]]);
  t.metric(
    'trust_state',
    'gauge',
    'trust state (1 = current)',
    TRUST.map((st) => [{ state: st }, s.trust.state === st ? 1 : 0]),
  );
  t.map('trust_verdicts_total', 'counter', 'cross-verification verdicts by reason', 'reason', s.trust.counters);
  t.metric('certificate_today', 'gauge', '1 when a certificate for today is held', [[{}, s.certificate.today ? 1 : 0]]);
  t.metric('ca_requests_total', 'counter', 'CA requests sent', [[{}, s.certificate.requests]]);
  t.map('ca_refusals_total', 'counter', 'CA refusals and rejections by code', 'code', s.certificate.codes);
  t.metric('encounters', 'gauge', 'encounters in the log', [[{}, s.encounters]]);
  if (s.proximity)
    t.metric('proximity_close_minutes', 'gauge', 'minutes the proximity estimator called close, over the encounters in the log', [
      [{}, s.proximity.closeMinutes],
    ]);
  t.metric('visits_open', 'gauge', 'venue visits in progress', [[{}, s.visits.open]]);
  t.metric('visits', 'gauge', 'venue visits in the log', [[{}, s.visits.total]]);
  t.map('publisher_decisions_total', 'counter', 'publisher decisions by reason', 'reason', s.publisher);
  t.metric('outbox_depth', 'gauge', 'TraceCodes waiting for upload', [[{}, s.outbox.depth]]);
  t.metric('outbox_bytes', 'gauge', 'bytes waiting for upload', [[{}, s.outbox.bytes]]);
  t.map('network_events_total', 'counter', 'MQTT/uplink counters', 'kind', s.network.counters);
  t.map('upload_events_total', 'counter', 'upload counters', 'kind', s.upload.counters);
  t.metric('time_trusted', 'gauge', '1 while the clock may seal and sign (agent/src/time)', [[{ source: s.time.source }, s.time.trusted ? 1 : 0]]);
  t.metric('clock_offset_seconds', 'gauge', 'correction applied to the host clock (GNSS time − host)', [[{}, s.time.offsetMs / 1000]]);
  t.metric('time_corrections_total', 'counter', 'host clock corrections to GNSS time', [[{}, s.time.corrections]]);
  t.map('time_held_total', 'counter', 'ticks held while time was not trusted', 'kind', s.time.held);
  t.metric('time_backlog', 'gauge', 'publisher ticks waiting for good time', [[{}, s.time.backlog.size]]);
  t.metric('alerts_total', 'counter', 'alerts raised', [[{}, s.alerts.total]]);
  t.map('alerts_by_level_total', 'counter', 'alerts by risk level', 'level', s.alerts.byLevel);
  t.map('api_refusals_total', 'counter', 'local API requests refused by code', 'code', s.api?.refusals ?? {});
  t.map('errors_total', 'counter', 'internal errors by code', 'code', s.errors);
  return t.lines.join('\n') + '\n';
}
