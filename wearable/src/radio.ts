/**
 * The wearable's GATT peripheral over @stoprocent/bleno (the wearable app's
 * only bleno module): advertises the beepkit pairing service and turns each
 * connection into a MessageLink over the message characteristic (writes in,
 * notifications out, fragmented to the negotiated value size). Open
 * characteristics, no link-layer security: the carer protocol secures content.
 *
 * EN identifiers on the same controller: one legacy advertising set carries at
 * most 31 bytes and the EN advert (flags, FD6F list, FD6F service data) takes
 * all 31, so `advertiseEn(ad)` puts the EN advert in the advertising data and
 * the pairing service UUID in the scan response (noble merges it into the
 * discovered peripheral's service UUIDs, so the carer still finds the wearable).
 * The set stays connectable (the carer connects to it). The address rotates
 * with the RPIs (the random static address derived with each RPI, set with
 * bleno's vendor set-address, as the agent does), never under an open carer
 * link: an observer cannot link the wearable's RPIs by address. The carer finds
 * the wearable by the pairing service and its resolvable address (the pairing's
 * IRK), and knows it by the resume tag only it and the wearable can make.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex } from '@beepkit/protocol/bytes';
import { encodeAdStructures } from '@beepkit/protocol/frames';
import { hciBindingOptions, type HciTarget } from '@beepkit/agent/radio';
import { fragment, PAIRING_MESSAGE_UUID, PAIRING_SERVICE_UUID, Reassembler, type LinkEvents, type MessageLink } from '@beepkit/protocol/carer';

const require = createRequire(import.meta.url);

export interface PeripheralEvents {
  link: [MessageLink];
  state: [string];
  /** Advertising or the address change failed (the next rotation tries again). */
  warning: [string];
}

export class GattPeripheral extends EventEmitter<PeripheralEvents> {
  private bleno: any = null;
  private link: (MessageLink & { open: boolean }) | null = null;
  private notify: ((d: Buffer) => void) | null = null;
  private max = 20;
  private readonly rx = new Reassembler();
  private powered = false;
  private servicesSet = false;
  private en: Uint8Array | null = null;
  /** The address wanted with `en`, and the one set on the controller. */
  private address: string | null = null;
  private applied: string | null = null;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly o: { target: HciTarget; name?: string; powerOnTimeoutMs?: number }) {
    super();
  }

  async start(): Promise<void> {
    process.setMaxListeners(0);
    const b = (this.bleno = require('@stoprocent/bleno').withBindings('hci', hciBindingOptions(this.o.target)));
    const { Characteristic, PrimaryService } = b;
    const chr = new Characteristic({
      uuid: PAIRING_MESSAGE_UUID,
      properties: ['write', 'notify'],
      onWriteRequest: (_c: unknown, data: Buffer, _o: number, _wr: boolean, cb: (r: number) => void) => {
        cb(Characteristic.RESULT_SUCCESS);
        try {
          const m = this.rx.push(new Uint8Array(data));
          if (m) this.link?.emit('message', m);
        } catch {
          this.rx.reset();
        }
      },
      onSubscribe: (_c: unknown, max: number, notify: (d: Buffer) => void) => {
        this.max = Math.max(20, Math.min(180, max));
        this.notify = notify;
        this.openLink();
      },
      onUnsubscribe: () => this.closeLink(),
    });
    const service = new PrimaryService({ uuid: PAIRING_SERVICE_UUID, characteristics: [chr] });
    const powered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BeepkitError('E_IO', 'wearable radio: controller not poweredOn')), this.o.powerOnTimeoutMs ?? 15_000);
      b.on('stateChange', (s: string) => {
        this.emit('state', s);
        if (s === 'poweredOn') {
          clearTimeout(timer);
          this.powered = true;
          this.applyAdvert();
          resolve();
        }
      });
    });
    b.on('advertisingStart', (err: unknown) => {
      if (!err && !this.servicesSet) {
        this.servicesSet = true;
        b.setServices([service]);
      }
    });
    b.on('disconnect', () => this.closeLink());
    await powered;
  }

  /**
   * Advertises `ad` (an EN advert, ≤ 31 bytes) from `address` (random static, lowercase `aa:bb:…`) with the
   * pairing service in the scan response; null: the plain pairing advert. Applied when no carer is connected.
   */
  advertiseEn(ad: Uint8Array | null, address?: string): void {
    if (address !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(address)) throw new BeepkitError('E_FORMAT', `wearable radio: bad address ${address}`);
    this.en = ad;
    if (address !== undefined) this.address = address;
    if (!this.link?.open) this.applyAdvert();
  }

  /** The address the controller advertises from, when it was set here (tests). */
  get currentAddress(): string | null {
    return this.applied;
  }

  /** One advert change at a time: a rotation waits for the previous stop/set-address/start. */
  private applyAdvert(): void {
    this.applying = this.applying.then(() => this.doApply()).catch((err: unknown) => {
      this.emit('warning', `wearable radio: advertising failed: ${(err as Error)?.message ?? String(err)}`);
    });
  }

  private async doApply(): Promise<void> {
    const b = this.bleno;
    if (!b || !this.powered || this.link?.open) return;
    if (!this.en) {
      b.startAdvertising(this.o.name ?? 'beepkit-wearable', [PAIRING_SERVICE_UUID]);
      return;
    }
    const address = this.address;
    if (address && address !== this.applied) {
      await new Promise<void>((resolve) => b.stopAdvertising(() => resolve()));
      if (this.link?.open || this.bleno !== b) return; // a carer connected meanwhile: rotate after it leaves
      await b.setAddressAsync(address);
      this.applied = address;
    }
    const uuid = fromHex(PAIRING_SERVICE_UUID).reverse(); // AD UUIDs are little-endian
    b.startAdvertisingWithEIRData(Buffer.from(this.en), Buffer.from(encodeAdStructures([{ type: 0x07, data: uuid }])));
  }

  private openLink(): void {
    if (this.link?.open) return; // a repeated subscribe on the same connection keeps its link
    this.rx.reset();
    const link = new EventEmitter<LinkEvents>() as MessageLink & { open: boolean };
    link.open = true;
    link.send = async (msg) => {
      if (!link.open || !this.notify) throw new BeepkitError('E_LINK', 'link closed');
      for (const f of fragment(msg, this.max)) this.notify(Buffer.from(f));
    };
    link.close = async () => {
      if (link.open) this.bleno?.disconnect();
    };
    this.link = link;
    this.emit('link', link);
  }

  private closeLink(): void {
    const l = this.link;
    this.link = null;
    this.notify = null;
    if (l?.open) {
      l.open = false;
      l.emit('close');
      if (this.en) setTimeout(() => this.applyAdvert(), 50).unref(); // identifiers rotated while connected
    }
  }

  /** Drops the current connection (tests: "kill the link"). */
  disconnect(): void {
    this.bleno?.disconnect();
  }

  async stop(): Promise<void> {
    this.closeLink();
    try {
      this.bleno?.stopAdvertising();
      this.bleno?.stop?.();
    } finally {
      this.bleno = null;
      this.powered = false;
    }
  }
}
