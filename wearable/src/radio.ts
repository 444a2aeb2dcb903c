/**
 * The wearable's GATT peripheral: bleno (through the agent's radio port,
 * device-core/src/radio/bleno-port.ts, the only module importing it) serves the
 * beepkit pairing service and turns each connection into a MessageLink over
 * the message characteristic (writes in, notifications out, fragmented to the
 * negotiated value size). Open characteristics, no link-layer security: the
 * carer protocol secures content.
 *
 * Advertising is by standard HCI commands only (the port's LegacyAdvertiser),
 * and one legacy advertising set takes turns between two adverts that never
 * share an address:
 * - the EN advert (flags, FD6F list, FD6F service data: 31 bytes) as
 *   ADV_NONCONN_IND from the interval's non-resolvable private address,
 *   rotated in lockstep with the RPI, as the EN specification asks;
 * - the pairing advert (flags, the pairing service UUID; the name in the scan
 *   response) as connectable ADV_IND, from a resolvable private address of the
 *   carer pairing's IRK once paired (only its carer resolves it; it rotates
 *   with the RPI too, but never under an open carer link), or from the
 *   controller's own address in pairing mode.
 * An unpaired wearable outside pairing mode sends the EN advert only; without
 * EN identifiers (no scanner, a renounced day) only the pairing advert goes out.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { encodeAdStructures } from '@beepkit/protocol/frames';
import {
  openBleno,
  type BtsnoopWriter,
  type GattPeripheralPort,
  type HciTarget,
  type LegacyAdvertiser,
  type PeripheralEvents,
} from '@beepkit/device-core/radio';
import { fragment, PAIRING_MESSAGE_UUID, PAIRING_SERVICE_UUID, Reassembler, type LinkEvents, type MessageLink } from '@beepkit/protocol/carer';

const ADDRESS = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
/** How long each advert stays on air when the two take turns, ms. */
const EN_TURN_MS = 1_500;
const PAIRING_TURN_MS = 700;

export type { PeripheralEvents };

export class GattPeripheral extends EventEmitter<PeripheralEvents> implements GattPeripheralPort {
  private bleno: any = null;
  private link: (MessageLink & { open: boolean }) | null = null;
  private notify: ((d: Buffer) => void) | null = null;
  private max = 20;
  private readonly rx = new Reassembler();
  private powered = false;
  private servicesSet = false;
  private advertiser: LegacyAdvertiser | null = null;
  private en: { ad: Uint8Array; address: string } | null = null;
  /** The pairing advert's address: an RPA of the carer pairing, 'public' (pairing mode), or null (no pairing advert). */
  private pairingAs: string | 'public' | null = 'public';
  private connected = false;
  private turn: 'en' | 'pairing' = 'en';
  private turnTimer: NodeJS.Timeout | null = null;
  /** What is on the controller now (skips repeating the same commands), and the RPA last advertised. */
  private onAir = '';
  private applied: string | null = null;
  private applying: Promise<void> = Promise.resolve();

  /**
   * `quiet`: no advert until `advertiseEn` says what to send (a paired wearable whose recorder gives the carer's RPA:
   * the pairing advert never goes out from the controller's own address).
   */
  /** The controller's advertising TX power, dBm (LE Read Advertising Physical Channel Tx Power), once read. */
  advTxPower?: number;

  constructor(
    private readonly o: {
      target: HciTarget;
      name?: string;
      powerOnTimeoutMs?: number;
      quiet?: boolean;
      btsnoop?: BtsnoopWriter;
      stack?: (opts: Record<string, unknown>) => any;
    },
  ) {
    super();
    if (o.quiet) this.pairingAs = null;
  }

  async start(): Promise<void> {
    process.setMaxListeners(0);
    const port = openBleno(this.o.target, this.o.stack, this.o.btsnoop);
    const b = (this.bleno = port.bleno);
    this.advertiser = port.advertiser;
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
          this.onAir = ''; // a controller back on has nothing set
          this.advertiser?.forget();
          if (!this.servicesSet) {
            this.servicesSet = true;
            b.setServices([service]);
          }
          this.applyAdvert();
          resolve();
        } else this.powered = false;
      });
    });
    b.on('accept', () => {
      this.connected = true;
      this.onAir = ''; // the controller stopped advertising on the connection
      this.applyAdvert();
    });
    b.on('disconnect', () => {
      this.connected = false;
      this.onAir = '';
      this.closeLink();
      this.applyAdvert();
    });
    await powered;
    this.advTxPower = await port.advertiser.readTxPower().catch(() => undefined);
  }

  /**
   * Sets the adverts: `ad` (an EN advert, ≤ 31 bytes; null: none) from `enAddress` (non-resolvable private,
   * lowercase `aa:bb:…`), and the pairing advert from `pairingAs` (an RPA of the carer pairing, 'public' in
   * pairing mode, null: none). They take turns on air when both are set.
   */
  advertiseEn(ad: Uint8Array | null, enAddress?: string, pairingAs: string | 'public' | null = 'public'): void {
    if (ad && (enAddress === undefined || !ADDRESS.test(enAddress))) throw new BeepkitError('E_FORMAT', `wearable radio: bad EN address ${enAddress}`);
    if (pairingAs !== null && pairingAs !== 'public' && !ADDRESS.test(pairingAs))
      throw new BeepkitError('E_FORMAT', `wearable radio: bad address ${pairingAs}`);
    this.en = ad ? { ad, address: enAddress! } : null;
    this.pairingAs = pairingAs;
    this.applyAdvert();
  }

  /** The RPA the pairing advert went out from last (tests). */
  get currentAddress(): string | null {
    return this.applied;
  }

  /** One advert change at a time: each waits for the previous one's commands. */
  private applyAdvert(): void {
    this.applying = this.applying
      .then(() => this.doApply())
      .catch((err: unknown) => {
        this.onAir = '';
        this.emit('warning', `wearable radio: advertising failed: ${(err as Error)?.message ?? String(err)}`);
      });
  }

  private nextTurn(ms: number): void {
    if (this.turnTimer) clearTimeout(this.turnTimer);
    this.turnTimer = setTimeout(() => {
      this.turnTimer = null;
      this.turn = this.turn === 'en' ? 'pairing' : 'en';
      this.applyAdvert();
    }, ms);
    this.turnTimer.unref?.();
  }

  private async doApply(): Promise<void> {
    const adv = this.advertiser;
    if (!adv || !this.bleno || !this.powered) return;
    // no connectable advert while a carer is connected (rotation of its RPA waits for the link to end)
    const pairing = this.connected ? null : this.pairingAs;
    const both = !!this.en && pairing !== null;
    const what = !this.en ? (pairing === null ? 'none' : 'pairing') : !both ? 'en' : this.turn;
    if (both) this.nextTurn(what === 'en' ? EN_TURN_MS : PAIRING_TURN_MS);
    if (what === 'en') {
      const key = `en/${this.en!.address}/${toHex(this.en!.ad)}`;
      if (key === this.onAir) return;
      await adv.advertise(this.en!.ad, undefined, { address: this.en!.address, connectable: false });
      this.onAir = key;
    } else if (what === 'pairing') {
      const key = `pairing/${pairing}`;
      if (key === this.onAir) return;
      const uuid = fromHex(PAIRING_SERVICE_UUID).reverse(); // AD UUIDs are little-endian
      const ad = encodeAdStructures([
        { type: 0x01, data: Uint8Array.of(0x06) },
        { type: 0x07, data: uuid },
      ]);
      const rsp = encodeAdStructures([{ type: 0x09, data: new TextEncoder().encode((this.o.name ?? 'beepkit-wearable').slice(0, 29)) }]);
      await adv.advertise(ad, rsp, pairing === 'public' ? { connectable: true, publicAddress: true } : { connectable: true, address: pairing! });
      if (pairing !== 'public') this.applied = pairing;
      this.onAir = key;
    } else if (this.onAir !== 'none') {
      await adv.stop();
      this.onAir = 'none';
    }
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
    }
  }

  /** Drops the current connection (tests: "kill the link"). */
  disconnect(): void {
    this.bleno?.disconnect();
  }

  async stop(): Promise<void> {
    this.closeLink();
    if (this.turnTimer) clearTimeout(this.turnTimer);
    this.turnTimer = null;
    try {
      await this.applying;
      if (this.powered) await this.advertiser?.stop().catch(() => {});
      this.bleno?.stop?.();
    } finally {
      this.bleno = null;
      this.advertiser = null;
      this.powered = false;
    }
  }
}
