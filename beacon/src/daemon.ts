/**
 * The venue beacon: advertises the rotating venue frame (a new frame each
 * slot), optionally alternating with iBeacon / Eddystone-UID frames, through
 * the agent's Radio (HciRadio: the one bleno module). It refuses to start with
 * a clock it cannot trust (E_CLOCK) and re-advertises after a controller reset
 * (on the radio's state events, and by re-asserting the frame every refreshMs).
 */
import { BeepkitError } from '@beepkit/protocol/errors';
import { encodeAdvert, encodeVenueFrame, slotOf, DEFAULT_SLOT_SECONDS } from '@beepkit/protocol/frames';
import type { Radio, RadioStateEvent } from '@beepkit/agent/radio';
import { checkClock, type ClockProbes, type ClockVerdict } from './clock.ts';
import type { VenueKey } from './provision.ts';

import { silentLogger as silent, type Logger } from '@beepkit/agent/alerts';
import { hostNow } from '@beepkit/protocol/clock';

export interface InteropFrames {
  ibeacon?: { uuid: string; major: number; minor: number };
  eddystoneUid?: { namespace: Uint8Array; instance: Uint8Array };
}

export interface BeaconOptions {
  radio: Radio;
  venue: VenueKey;
  /** Calibrated TX power at 0 m (dBm), carried in every frame. */
  txPower: number;
  slotSeconds?: number;
  interop?: InteropFrames;
  /** How long each frame kind stays on air when alternating (default 1000 ms). */
  alternateMs?: number;
  /**
   * Re-asserts the current frame at least this often (default 10 000 ms). A
   * controller that resets by itself (power glitch, firmware watchdog) clears
   * its advertising state and bleno does not report it; re-asserting bounds the
   * silence to this period.
   */
  refreshMs?: number;
  trustClock?: boolean;
  probes?: ClockProbes;
  buildDateS?: number;
  /** ms since the epoch. */
  now: () => number;
  logger?: Logger;
}

export interface BeaconStatus {
  advertising: boolean;
  clock: ClockVerdict | null;
  slot: number | null;
  frames: number;
  resets: number;
  errors: number;
}

export class BeaconDaemon {
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private turn = 0;
  private running = false;
  private current: Uint8Array | null = null;
  readonly status: BeaconStatus = { advertising: false, clock: null, slot: null, frames: 0, resets: 0, errors: 0 };

  constructor(private readonly o: BeaconOptions) {
    this.log = o.logger ?? silent;
    this.now = o.now ?? hostNow;
  }

  /** The frames of one rotation at `nowMs`: the venue frame first, then the interop ones. */
  framesAt(nowMs: number): Uint8Array[] {
    const slot = slotOf(nowMs / 1000, this.o.slotSeconds ?? DEFAULT_SLOT_SECONDS);
    const list = [encodeVenueFrame({ venueId: this.o.venue.venueId, slot, txPower: this.o.txPower }, this.o.venue.key)];
    const i = this.o.interop;
    if (i?.ibeacon) list.push(encodeAdvert({ kind: 'ibeacon', ...i.ibeacon, txPower: this.o.txPower }));
    if (i?.eddystoneUid) list.push(encodeAdvert({ kind: 'eddystone-uid', ...i.eddystoneUid, txPower: this.o.txPower }));
    return list;
  }

  async start(): Promise<void> {
    const verdict = await checkClock({ nowS: this.now() / 1000, trustClock: this.o.trustClock, buildDateS: this.o.buildDateS, probes: this.o.probes });
    this.status.clock = verdict;
    if (!verdict.trusted) {
      this.log.error({ reason: verdict.reason }, 'beacon: refusing to advertise with an untrusted clock');
      throw new BeepkitError('E_CLOCK', `refusing to advertise: ${verdict.reason}`);
    }
    this.log.info({ source: verdict.source }, 'beacon: clock trusted');
    this.o.radio.on('state', this.onState);
    await this.o.radio.start();
    this.running = true;
    await this.tick();
  }

  private readonly onState = (s: RadioStateEvent): void => {
    if (s.role !== 'advertiser' || !this.running) return;
    if (s.resetDetected) {
      this.status.resets++;
      this.status.advertising = false;
      this.log.warn({ state: s.state }, 'beacon: controller reset');
    }
    if (s.state === 'poweredOn' && this.current) void this.put(this.current, 'controller back on');
  };

  private async put(frame: Uint8Array, why: string): Promise<void> {
    try {
      await this.o.radio.advertise(frame);
      this.status.advertising = true;
      this.status.frames++;
    } catch (e) {
      this.status.errors++;
      this.status.advertising = false;
      this.log.warn({ why, code: (e as BeepkitError).code }, 'beacon: advertising failed (retrying next turn)');
    }
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const now = this.now();
    const slotMs = (this.o.slotSeconds ?? DEFAULT_SLOT_SECONDS) * 1000;
    const frames = this.framesAt(now);
    const frame = frames[this.turn++ % frames.length];
    this.status.slot = slotOf(now / 1000, slotMs / 1000);
    this.current = frame;
    await this.put(frame, 'rotation');
    if (!this.running) return;
    // next change: the slot boundary, or the end of this frame's turn when alternating
    const toSlot = slotMs - (now % slotMs) + 5;
    const wait = frames.length > 1 ? Math.min(this.o.alternateMs ?? 1000, toSlot) : toSlot;
    if (frames.length > 1 && wait === toSlot) this.turn = 0; // a new slot starts with the venue frame
    const refresh = this.o.refreshMs ?? 10_000;
    if (frames.length === 1 && refresh < wait) this.turn = 0;
    this.timer = setTimeout(() => void this.tick(), Math.min(wait, refresh));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.o.radio.off('state', this.onState);
    await this.o.radio.stopAdvertising().catch(() => {});
    await this.o.radio.stop();
    this.status.advertising = false;
  }
}
