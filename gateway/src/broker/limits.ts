/**
 * Limits of the embedded broker against hostile clients, sized from the
 * protocol's own constants (so a legitimate device never meets them).
 * mosquitto's equivalents are set in gateway/mosquitto/beepkit.conf; the README
 * ("Threats and limits") lists both side by side with the measured figures.
 */
import { CERT_FIXED_LEN } from '@beepkit/protocol/cert';
import { MAX_BATCH_RECORDS, TRACECODE_LEN } from '@beepkit/protocol/tracecode';
import { CORRELATION_ID_BYTES, TOPIC_PREFIX } from '@beepkit/protocol/wire';

/** Largest certificate: fixed part + a 255-byte region path. */
const MAX_CERT = CERT_FIXED_LEN + 255;
/** Largest signed batch: version, day, ephemeral key, u16 cert length + cert, u16 count, records, signature. */
export const MAX_DAY_BATCH_BYTES = 1 + 4 + 32 + 2 + MAX_CERT + 2 + MAX_BATCH_RECORDS * TRACECODE_LEN + 64;
/** Largest uplink topic: beepkit/v1/dev/<64-char id>/up/venue-register. */
const MAX_UPLINK_TOPIC = `${TOPIC_PREFIX}/dev/`.length + 64 + '/up/venue-register'.length;
/**
 * The largest legitimate device packet: a PUBLISH (fixed header ≤ 5, topic
 * length + topic, packet id) carrying an UploadBatch envelope (magic, version,
 * type, correlation id, u32 length) around the largest day batch.
 */
export const MAX_LEGIT_DEVICE_PACKET = 5 + 2 + MAX_UPLINK_TOPIC + 2 + (4 + CORRELATION_ID_BYTES + 4) + MAX_DAY_BATCH_BYTES;
/** Default device packet cap: the largest legitimate packet + 25 %, rounded up to 64 KiB (512 KiB). */
export const DEVICE_MAX_PACKET_BYTES = Math.ceil((MAX_LEGIT_DEVICE_PACKET * 1.25) / 65_536) * 65_536;

export interface BrokerLimits {
  /** Whole-packet cap for devices (fixed header + remaining length); bigger → disconnected before buffering. */
  maxPacketBytes: number;
  /** Whole-packet cap for superusers (the gateway publishes catch-up responses and feed blocks). */
  superuserMaxPacketBytes: number;
  /** Bytes a connection may send before its CONNECT is accepted (CONNECT included). */
  maxPreAuthBytes: number;
  /** ms a new connection has to send its CONNECT. */
  connectTimeoutMs: number;
  /** Retained messages: devices only on their own status topic, at most this payload (0: none at all). */
  maxRetainedBytes: number;
  /** Bytes waiting in a device socket's send buffer before the device is disconnected (a reader that stalls). */
  maxQueuedBytes: number;
  /** Messages queued for an offline persistent device session; more are not queued (the feed has catch-up, uploads are resent). */
  maxOfflineMessages: number;
  /** Inbound bytes per second per device connection (the socket is paused above it); burst = maxPacketBytes × 2. */
  maxBytesPerSecond: number;
  /** New TCP connections per remote address: burst, then per second; more are closed at accept. */
  connectionBurst: number;
  connectionsPerSecond: number;
  /** Open connections in all. */
  maxConnections: number;
  /** Failed logins per remote address before back-off; then refusals (CONNACK 3) for 250 ms × 2^k, ≤ loginBackoffMaxMs. */
  loginFailuresFree: number;
  loginBackoffMaxMs: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: DEVICE_MAX_PACKET_BYTES,
  superuserMaxPacketBytes: 256 * 1024 * 1024,
  maxPreAuthBytes: 8192,
  connectTimeoutMs: 10_000,
  maxRetainedBytes: 1024,
  maxQueuedBytes: 4 * 1024 * 1024,
  maxBytesPerSecond: 1024 * 1024,
  maxOfflineMessages: 1000,
  connectionBurst: 200,
  connectionsPerSecond: 50,
  maxConnections: 10_000,
  loginFailuresFree: 10,
  loginBackoffMaxMs: 60_000,
};

/** Remote addresses with recent failed logins: exponential back-off, bounded memory (LRU). */
export class LoginBackoff {
  readonly #m = new Map<string, { failures: number; lastMs: number; untilMs: number }>();
  constructor(
    readonly free: number,
    readonly maxMs: number,
    readonly maxKeys = 10_000,
  ) {}

  /** ms left of the back-off of `key` (0: may try). */
  blockedFor(key: string, nowMs: number): number {
    const e = this.#m.get(key);
    if (!e) return 0;
    // forgiven after a quiet spell twice the longest back-off
    if (nowMs - e.lastMs > 2 * this.maxMs) {
      this.#m.delete(key);
      return 0;
    }
    return Math.max(0, e.untilMs - nowMs);
  }

  fail(key: string, nowMs: number): void {
    const e = this.#m.get(key) ?? { failures: 0, lastMs: nowMs, untilMs: 0 };
    this.#m.delete(key);
    e.failures++;
    e.lastMs = nowMs;
    const over = e.failures - this.free;
    if (over > 0) e.untilMs = nowMs + Math.min(this.maxMs, 250 * 2 ** Math.min(over - 1, 30));
    if (this.#m.size >= this.maxKeys) this.#m.delete(this.#m.keys().next().value!);
    this.#m.set(key, e);
  }
}
