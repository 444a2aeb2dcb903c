/** The gateway's Prometheus metrics. */
import type { EventEmitter } from 'node:events';
import type { EmbeddedBrokerStats, Logger } from '../broker/index.ts';
import { Counter, CounterFn, Gauge, Histogram, Registry } from './metrics.ts';

/** Losses of a gateway MQTT connection within this window that raise the takeover alarm. */
const ALARM_WINDOW_MS = 10 * 60_000;
const ALARM_LOSSES = 3;

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
  readonly connectionLost: Counter;
  /** Times (ms) of recent connection losses and superuser takeovers, for the alarm. */
  readonly #losses: number[] = [];
  #takeovers = 0;
  #takeoverAtMs = -Infinity;
  #broker?: EmbeddedBrokerStats;
  #now: () => number = () => 0;

  constructor(mqttConnected: () => number) {
    const r = this.registry;
    this.mqttConnected = mqttConnected;
    this.batches = r.add(
      new Counter(
        'beepkit_ingest_batches_total',
        'Upload batches handled, by result code (OK appended, DUPLICATE a replay answered with its original receipt, or E_*)',
      ),
    );
    this.records = r.add(new Counter('beepkit_ingest_records_total', 'TraceCodes appended to the ledger (replays not counted; rate() = ingest rate)'));
    this.rejects = r.add(new Counter('beepkit_ingest_rejects_total', 'Rejected upload batches by error code'));
    this.commitLatency = r.add(
      new Histogram(
        'beepkit_ledger_commit_seconds',
        'Ledger append latency (group commit, durable)',
        [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ),
    );
    this.caIssued = r.add(new Counter('beepkit_ca_issued_total', 'Certificates issued'));
    this.caRefused = r.add(new Counter('beepkit_ca_refused_total', 'Certificate requests refused, by error code'));
    this.broadcasts = r.add(new Counter('beepkit_feed_blocks_broadcast_total', 'Notification blocks broadcast on the feed'));
    this.requests = r.add(new Counter('beepkit_requests_total', 'Uplink messages by kind'));
    r.add(
      new Gauge('beepkit_ledger_height', 'Height of the last block per chain (-1: empty)', () =>
        Object.entries(this.heights).map(([chain, value]) => ({ labels: { chain }, value })),
      ),
    );
    this.connectionLost = r.add(
      new Counter('beepkit_mqtt_connection_lost_total', 'Gateway MQTT connections closed by the broker (takeover of the client id, broker restart, network)'),
    );
    r.add(
      new Gauge(
        'beepkit_mqtt_takeover_alarm',
        `1 when the gateway lost its broker connection ${ALARM_LOSSES}+ times in ${ALARM_WINDOW_MS / 60_000} min or the embedded broker saw its session taken over`,
        () => [{ value: this.alarm() ? 1 : 0 }],
      ),
    );
    r.add(new Gauge('beepkit_mqtt_connections_up', 'Gateway MQTT connections currently connected', () => [{ value: this.mqttConnected() }]));
  }

  /** Is the takeover alarm up (see beepkit_mqtt_takeover_alarm)? */
  alarm(): boolean {
    const now = this.#now();
    if (this.#broker && this.#broker.superuserTakeovers > this.#takeovers) {
      this.#takeovers = this.#broker.superuserTakeovers;
      this.#takeoverAtMs = now;
    }
    while (this.#losses.length && now - this.#losses[0] > ALARM_WINDOW_MS) this.#losses.shift();
    return this.#losses.length >= ALARM_LOSSES || now - this.#takeoverAtMs <= ALARM_WINDOW_MS;
  }

  /**
   * Counts and logs every loss of a gateway connection the gateway did not ask
   * for. MQTT 3.1.1 does not tell why a broker closed the connection; a client
   * id takeover shows as repeated losses (the taker reconnects in a loop), so
   * the alarm is on repeated losses.
   */
  watchConnection(client: EventEmitter, log: Logger, now: () => number): void {
    this.#now = now;
    let prev = '';
    client.on('state', (s: string) => {
      if (prev === 'connected' && s === 'reconnecting') {
        this.connectionLost.inc();
        this.#losses.push(now());
        log.warn(
          { recentLosses: this.#losses.length, alarm: this.alarm() },
          'gateway MQTT connection closed by the broker (client id taken over by another client, broker restart or network): reconnecting',
        );
      }
      prev = s;
    });
  }

  /** Exposes the embedded broker's refusal counters; a superuser takeover raises the alarm. */
  watchBroker(stats: EmbeddedBrokerStats): void {
    const r = this.registry;
    const c = (name: string, help: string, read: () => { labels?: Record<string, string>; value: number }[]): void =>
      void r.add(new CounterFn(name, help, read));
    c('beepkit_broker_connect_refused_total', 'CONNECTs refused by the embedded broker, by reason', () => [
      { labels: { reason: 'bad_credentials' }, value: stats.connectionsRefused },
      { labels: { reason: 'client_id' }, value: stats.clientIdsRefused },
      { labels: { reason: 'login_backoff' }, value: stats.loginsThrottled },
    ]);
    c('beepkit_broker_connections_throttled_total', 'Connections closed at accept (per-address rate, maxConnections)', () => [
      { value: stats.connectionsThrottled },
    ]);
    c('beepkit_broker_guard_closed_total', 'Connections closed by the packet guard, by reason', () =>
      Object.entries(stats.guard).map(([reason, value]) => ({ labels: { reason }, value })),
    );
    c('beepkit_broker_retained_refused_total', 'Retained publishes refused (not the own status topic, or too big)', () => [{ value: stats.retainedRefused }]);
    c('beepkit_broker_publishes_denied_total', 'Publishes denied by the ACL (acknowledged and dropped)', () => [{ value: stats.publishesDenied }]);
    c('beepkit_broker_offline_dropped_total', 'Messages not queued for an offline device session past maxOfflineMessages', () => [
      { value: stats.offlineDropped },
    ]);
    c('beepkit_broker_superuser_takeovers_total', 'Gateway sessions replaced by a new connection with the same client id', () => [
      { value: stats.superuserTakeovers },
    ]);
    this.#broker = stats;
  }
}
