/**
 * The radio port to @stoprocent/bleno: the ONLY shipped module that
 * imports bleno. bleno 0.12 advertises ADV_IND from the public address at a
 * fixed 100 ms and rotates addresses only through vendor commands chosen by
 * the controller's manufacturer ID (none on most controllers), so the
 * advertising path does not use bleno's advertising API at all: it sends the
 * standard HCI commands itself through bleno's own HCI transport (UART or
 * native socket), one at a time, and waits for each Command Complete:
 *
 *   LE Set Advertising Enable (off) → LE Set Random Address → LE Set
 *   Advertising Parameters (type, own address type random, channels 37/38/39,
 *   interval) → LE Set Advertising Data → LE Set Scan Response Data →
 *   LE Set Advertising Enable (on)
 *
 * Address and payload change while advertising is off, so they go on air
 * together. No vendor-specific command is sent. bleno still owns GATT,
 * connections and ACL on the same controller (the wearable).
 */
import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol/errors';
import { tapHciSocket, type BtsnoopWriter } from './btsnoop.ts';
import { hciBindingOptions } from './binding.ts';
import { EN_INTERVAL_MS, type AdvertiseOptions, type HciTarget } from './types.ts';
import { OP } from '@beepkit/protocol/hci';

const require = createRequire(import.meta.url);

/** The HCI commands this port sends (protocol's one opcode table). */
export const OPCODE = OP;

const ADV_IND = 0x00;
const ADV_NONCONN_IND = 0x03;
/** HCI raw transport of a stack: bleno's socket (write H4 packets, 'data' per received packet). */
interface RawSocket {
  write(b: Buffer): void;
  on(ev: 'data', f: (b: Buffer) => void): unknown;
  removeListener(ev: 'data', f: (b: Buffer) => void): unknown;
}

export interface CommandResult {
  status: number;
  ret: Buffer;
}

/** Sends HCI commands one at a time on a stack's transport and resolves with their Command Complete. */
export class HciCommander {
  private chain: Promise<unknown> = Promise.resolve();
  readonly counters = { commands: 0, failures: 0, timeouts: 0 };
  constructor(
    private readonly socket: () => RawSocket | undefined,
    private readonly timeoutMs = 3_000,
  ) {}

  send(opcode: number, params: Uint8Array = new Uint8Array(0)): Promise<CommandResult> {
    const run = this.chain.then(() => this.once(opcode, params));
    this.chain = run.catch(() => {});
    return run;
  }

  private once(opcode: number, params: Uint8Array): Promise<CommandResult> {
    const s = this.socket();
    if (!s) return Promise.reject(new BeepkitError('E_IO', 'radio: no HCI transport'));
    const name = `HCI 0x${opcode.toString(16).padStart(4, '0')}`;
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, r?: CommandResult) => {
        clearTimeout(timer);
        s.removeListener('data', on);
        if (err) reject(err);
        else resolve(r!);
      };
      const on = (b: Buffer) => {
        if (b[0] !== 0x04) return;
        if (b[1] === 0x0e && b.length >= 7 && b.readUInt16LE(4) === opcode) done(null, { status: b[6], ret: b.subarray(7) });
        else if (b[1] === 0x0f && b.length >= 7 && b.readUInt16LE(5) === opcode && b[3] !== 0) done(null, { status: b[3], ret: Buffer.alloc(0) });
      };
      const timer = setTimeout(() => {
        this.counters.timeouts++;
        done(new BeepkitError('E_IO', `radio: ${name}: no Command Complete within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      s.on('data', on);
      const pkt = Buffer.alloc(4 + params.length);
      pkt[0] = 0x01;
      pkt.writeUInt16LE(opcode, 1);
      pkt[3] = params.length;
      pkt.set(params, 4);
      this.counters.commands++;
      try {
        s.write(pkt);
      } catch (cause) {
        done(new BeepkitError('E_IO', `radio: ${name}: write failed`, { cause }));
      }
    });
  }

  /** Sends and throws E_HCI on a non-zero status. */
  async must(opcode: number, params?: Uint8Array): Promise<Buffer> {
    const r = await this.send(opcode, params);
    if (r.status !== 0) {
      this.counters.failures++;
      throw new BeepkitError('E_HCI', `radio: HCI 0x${opcode.toString(16).padStart(4, '0')} failed with status 0x${r.status.toString(16).padStart(2, '0')}`);
    }
    return r.ret;
  }
}

/** HCI Read Local Version Information: the controller's HCI/LMP versions, manufacturer (company id) and subversion (its firmware). */
export interface ControllerVersion {
  hciVersion: number;
  hciRevision: number;
  lmpVersion: number;
  manufacturer: number;
  lmpSubversion: number;
}

export async function readLocalVersion(hci: HciCommander): Promise<ControllerVersion> {
  const r = await hci.must(0x1001);
  if (r.length < 8) throw new BeepkitError('E_HCI', 'radio: Read Local Version Information: short reply');
  return { hciVersion: r[0], hciRevision: r.readUInt16LE(1), lmpVersion: r[3], manufacturer: r.readUInt16LE(4), lmpSubversion: r.readUInt16LE(6) };
}

/** 'aa:bb:cc:dd:ee:ff' → 6 bytes little-endian (HCI wire order). */
export function addressToWire(address: string): Buffer {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(address)) throw new BeepkitError('E_FORMAT', `radio: bad address ${address}`);
  return Buffer.from(address.split(':').reverse().join(''), 'hex');
}

function intervalUnits(ms: { min: number; max: number }): [number, number] {
  const lo = Math.round(ms.min / 0.625);
  const hi = Math.round(ms.max / 0.625);
  if (!(lo >= 0x20 && hi <= 0x4000 && lo <= hi)) throw new BeepkitError('E_RANGE', `radio: advertising interval ${ms.min}–${ms.max} ms out of 20–10240 ms`);
  return [lo, hi];
}

function data31(d: Uint8Array): Buffer {
  if (d.length > 31) throw new BeepkitError('E_RANGE', 'radio: legacy advertising data is at most 31 bytes');
  const b = Buffer.alloc(32);
  b[0] = d.length;
  b.set(d, 1);
  return b;
}

/** Legacy advertising by standard HCI commands on a bleno instance's transport. */
export class LegacyAdvertiser {
  readonly hci: HciCommander;
  /** Set while our own LE Set Advertising Parameters is in flight (bleno calls its CC "poweredOn"). */
  paramsInFlight = 0;
  private enabled = false;
  private randomSet = false;
  constructor(private readonly bleno: () => any) {
    this.hci = new HciCommander(() => this.bleno()?._bindings?._hci?._socket as RawSocket | undefined);
  }

  /** The controller's advertising TX power, dBm (LE Read Advertising Physical Channel Tx Power). */
  async readTxPower(): Promise<number> {
    const ret = await this.hci.must(OPCODE.LE_READ_ADV_TX_POWER);
    if (ret.length < 1) throw new BeepkitError('E_HCI', 'radio: LE Read Advertising Physical Channel Tx Power: short reply');
    return ret.readInt8(0);
  }

  async advertise(adData: Uint8Array, scanRspData: Uint8Array | undefined, o: AdvertiseOptions = {}): Promise<void> {
    const [lo, hi] = intervalUnits(o.intervalMs ?? EN_INTERVAL_MS);
    const addr = o.address !== undefined ? addressToWire(o.address) : undefined;
    const ad = data31(adData);
    const rsp = data31(scanRspData ?? new Uint8Array(0));
    await this.stop();
    if (addr) await this.hci.must(OPCODE.LE_SET_RANDOM_ADDRESS, addr);
    const p = Buffer.alloc(15);
    p.writeUInt16LE(lo, 0);
    p.writeUInt16LE(hi, 2);
    p[4] = o.connectable ? ADV_IND : ADV_NONCONN_IND;
    p[5] = !o.publicAddress && (addr || this.randomSet) ? 0x01 : 0x00; // own address type: random once one was set
    p[13] = 0x07; // channels 37, 38, 39
    this.paramsInFlight++;
    try {
      await this.hci.must(OPCODE.LE_SET_ADV_PARAMS, p);
    } finally {
      this.paramsInFlight--;
    }
    if (addr) this.randomSet = true;
    await this.hci.must(OPCODE.LE_SET_ADV_DATA, ad);
    await this.hci.must(OPCODE.LE_SET_SCAN_RSP_DATA, rsp);
    await this.hci.must(OPCODE.LE_SET_ADV_ENABLE, Uint8Array.of(1));
    this.enabled = true;
  }

  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.enabled = false;
    await this.hci.must(OPCODE.LE_SET_ADV_ENABLE, Uint8Array.of(0));
  }

  /** The controller was reset: nothing is set on it any more. */
  forget(): void {
    this.enabled = false;
    this.randomSet = false;
  }
}

/**
 * A bleno instance on `target`, with its advertising path replaced by a LegacyAdvertiser. bleno reports
 * "poweredOn" on every LE Set Advertising Parameters CC: those caused by our own commands are not re-emitted.
 */
export function openBleno(
  target: HciTarget,
  build?: (opts: Record<string, unknown>) => any,
  snoop?: BtsnoopWriter,
): { bleno: any; advertiser: LegacyAdvertiser } {
  const opts = hciBindingOptions(target);
  const bleno = build ? build(opts) : require('@stoprocent/bleno').withBindings('hci', opts);
  // bleno builds its HCI socket at once and opens it on the first state listener: everything is captured
  if (snoop) tapHciSocket(bleno?._bindings?._hci?._socket, snoop, 'adv');
  const advertiser = new LegacyAdvertiser(() => bleno);
  if (bleno instanceof EventEmitter) {
    const emit = bleno.emit.bind(bleno);
    (bleno as any).emit = (ev: string | symbol, ...args: unknown[]) => {
      if (ev === 'stateChange' && args[0] === 'poweredOn' && advertiser.paramsInFlight > 0) return false;
      return emit(ev, ...args);
    };
  }
  return { bleno, advertiser };
}
