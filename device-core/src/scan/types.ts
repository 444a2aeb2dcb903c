/** Typed inputs and outputs of the advert pipeline. */
import type { AdvertKind } from '@beepkit/protocol/frames';

export type AddressType = 'public' | 'random';

/** One received advertising report, as the Radio emits it. */
export interface AdvertEvent {
  /** Lowercase colon-separated address, e.g. "c0:11:22:33:44:55". */
  address: string;
  addressType: AddressType;
  /** dBm as reported by the controller. */
  rssi: number;
  /** Advertising data (AD structures). */
  data: Uint8Array;
  /** TX power the controller reported (extended reports), if any. */
  txPower?: number;
  connectable: boolean;
  /** Receive time, ms since the Unix epoch (injected clock). */
  receivedAt: number;
}

export type { AdvertKind };

/** A venue the agent knows: its key (to verify frames) and registered position. */
export interface VenueInfo {
  /** Venue id, lowercase hex (6 bytes). */
  id: string;
  key: Uint8Array;
  lat: number;
  lon: number;
  /** Registered radius, metres. */
  radiusM: number;
  name?: string;
}

export interface VenueRegistry {
  get(venueId: string): VenueInfo | undefined;
}

/** Map-backed registry (from config or the CA's venue list). */
export class MapVenueRegistry implements VenueRegistry {
  private readonly m = new Map<string, VenueInfo>();
  constructor(venues: Iterable<VenueInfo> = []) {
    for (const v of venues) this.m.set(v.id.toLowerCase(), v);
  }
  get(venueId: string): VenueInfo | undefined {
    return this.m.get(venueId);
  }
  set(v: VenueInfo): void {
    this.m.set(v.id.toLowerCase(), v);
  }
  get size(): number {
    return this.m.size;
  }
}

/** A genuine, fresh venue frame as seen by the agent (evidence for the CA). */
export interface VenueObservation {
  venueId: string;
  slot: number;
  txPower: number;
  /** Raw advert bytes (the CA re-verifies the MAC). */
  frame: Uint8Array;
  rssi: number;
  filteredRssi: number;
  attenuation: number;
  receivedAt: number;
  address: string;
}
