/**
 * The venue beacon: advertises the rotating venue frame (a new frame each
 * slot), optionally alternating with iBeacon / Eddystone-UID frames, through
 * the agent's Radio (HciRadio: the one bleno module). It refuses to start with
 * a clock it cannot trust (E_CLOCK) and re-advertises after a controller reset
 * (on the radio's state events, and by re-asserting the frame every refreshMs).
 */
import { BeepkitError } from '@beepkit/protocol/errors';
import { encodeAdvert, encodeVenueFrame, slotOf, DEFAULT_SLOT_SECONDS } from '@beepkit/protocol/frames';
import { nrpaFrom, type Radio, type RadioStateEvent } from '@beepkit/device-core/radio';
import { checkClock, type ClockProbes, type ClockVerdict } from './clock.ts';
import type { VenueKey } from './provision.ts';

import { silentLogger as silent, type Logger } from '@beepkit/protocol/log';
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
  /** Advertising interval, ms (default 200–270, as the Exposure Notification advertisers). */
  intervalMs?: { min: number; max: number };
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
  /** The controller's advertising TX power, dBm (LE Read Advertising Physical Channel Tx Power), when it reported one. */
  controllerTxPower: number | null;
}

export class BeaconDaemon {
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private turn = 0;
  private running = false;
  private current: { frame: Uint8Array; address: string } | null = null;
  readonly status: BeaconStatus = { advertising: false, clock: null, slot: null, frames: 0, resets: 0, errors: 0, controllerTxPower: null };

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
    this.status.controllerTxPower = this.o.radio.advTxPower ?? null;
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

  /**
   * A non-resolvable private address per frame: derived from the venue key, the slot and the frame's turn, so
   * it changes with the payload and only the key holder could link two of them.
   */
  addressFor(slot: number, turn: number): string {
    const tag = new TextEncoder().encode(`beepkit/v1/beacon-addr/${slot}/${turn}`);
    const seed = new Uint8Array(this.o.venue.key.length + tag.length);
    seed.set(this.o.venue.key);
    seed.set(tag, this.o.venue.key.length);
    return nrpaFrom(seed);
  }

  private async put(cur: { frame: Uint8Array; address: string }, why: string): Promise<void> {
    try {
      await this.o.radio.advertise(cur.frame, undefined, { address: cur.address, connectable: false, intervalMs: this.o.intervalMs });
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
    const turn = this.turn++ % frames.length;
    const slot = slotOf(now / 1000, slotMs / 1000);
    this.status.slot = slot;
    this.current = { frame: frames[turn], address: this.addressFor(slot, turn) };
    await this.put(this.current, 'rotation');
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
