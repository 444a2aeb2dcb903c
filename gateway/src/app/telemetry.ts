/** The gateway's Prometheus metrics. */
import { Counter, Gauge, Histogram, Registry } from './metrics.ts';

export class Telemetry {
  readonly registry = new Registry();
  readonly heights: Record<string, number> = { tracing: -1, notification: -1 };
  readonly mqttConnected: () => number;
  readonly batches: Counter;
  readonly records: Counter;
  readonly rejects: Counter;
  readonly commitLatency: Histogram;
  readonly caIssued: Counter;
  readonly caRefused: Counter;
  readonly broadcasts: Counter;
  readonly requests: Counter;

  constructor(mqttConnected: () => number) {
    const r = this.registry;
    this.mqttConnected = mqttConnected;
    this.batches = r.add(new Counter('beepkit_ingest_batches_total', 'Upload batches handled, by result code (OK appended, DUPLICATE a replay answered with its original receipt, or E_*)'));
    this.records = r.add(new Counter('beepkit_ingest_records_total', 'TraceCodes appended to the ledger (replays not counted; rate() = ingest rate)'));
    this.rejects = r.add(new Counter('beepkit_ingest_rejects_total', 'Rejected upload batches by error code'));
    this.commitLatency = r.add(new Histogram('beepkit_ledger_commit_seconds', 'Ledger append latency (group commit, durable)', [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]));
    this.caIssued = r.add(new Counter('beepkit_ca_issued_total', 'Certificates issued'));
    this.caRefused = r.add(new Counter('beepkit_ca_refused_total', 'Certificate requests refused, by error code'));
    this.broadcasts = r.add(new Counter('beepkit_feed_blocks_broadcast_total', 'Notification blocks broadcast on the feed'));
    this.requests = r.add(new Counter('beepkit_requests_total', 'Uplink messages by kind'));
    r.add(new Gauge('beepkit_ledger_height', 'Height of the last block per chain (-1: empty)', () => Object.entries(this.heights).map(([chain, value]) => ({ labels: { chain }, value }))));
    r.add(new Gauge('beepkit_mqtt_connections_up', 'Gateway MQTT connections currently connected', () => [{ value: this.mqttConnected() }]));
  }
}
