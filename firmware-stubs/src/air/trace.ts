/**
 * The trace-driven air (issue 15): recorded RSSI samples of (tx, rx) pairs,
 * reported by the air at their times. Each sample is reported once, at the
 * first advertising event of the transmitter at or after its time (samples
 * due together go out one per event, in order); between samples the pair
 * hears nothing. Pairs without a track stay on the path-loss model.
 */
import type { RssiSource } from './air.ts';

export interface RssiTrack {
  /** Device ids on the air. */
  tx: string;
  rx: string;
  /** Air-clock ms and dBm (127: HCI "not available"), in time order. */
  samples: { atMs: number; rssi: number }[];
}

export class TraceRssi {
  private readonly tracks = new Map<string, { samples: RssiTrack['samples']; next: number }>();
  /** Samples reported so far, per pair "tx|rx". */
  readonly reported = new Map<string, number>();

  constructor(tracks: RssiTrack[]) {
    for (const t of tracks) this.tracks.set(`${t.tx}|${t.rx}`, { samples: [...t.samples].sort((a, b) => a.atMs - b.atMs), next: 0 });
  }

  /** Whether every sample of every track has been reported. */
  get done(): boolean {
    for (const t of this.tracks.values()) if (t.next < t.samples.length) return false;
    return true;
  }

  readonly source: RssiSource = (tx, rx, now) => {
    const key = `${tx}|${rx}`;
    const t = this.tracks.get(key);
    if (!t) return undefined;
    const s = t.samples[t.next];
    if (!s || s.atMs > now) return null;
    t.next++;
    this.reported.set(key, (this.reported.get(key) ?? 0) + 1);
    return s.rssi;
  };
}
