/**
 * GATT central over @stoprocent/noble for the carer: finds a wearable
 * advertising the beepkit pairing service and opens a MessageLink over its
 * message characteristic (write with response from us, notifications back),
 * fragmenting messages to the ATT MTU. Characteristics are open (no link-layer
 * security, design note pitfall 14): the carer protocol secures the content.
 * Either on a controller of its own (`target`), or on the noble instance the
 * agent's HciRadio already owns (`shared`, from `HciRadio.gattCentral()`):
 * one host per controller, and the scan is leased from the radio so finding a
 * wearable never stops the radio's own scan. Emits `seen(address)` for every
 * advert of the pairing service it hears while anyone scans.
 */
import { EventEmitter } from 'node:events';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fragment, PAIRING_MESSAGE_UUID, PAIRING_SERVICE_UUID, Reassembler, type LinkEvents, type MessageLink } from '@beepkit/protocol/carer';
import type { GattCentralPort, HciTarget, PeripheralMatch } from './types.ts';
import { openNobleOn } from './noble-port.ts';

/** A noble instance owned by someone else (the agent's radio) and its scan lease. */
export interface SharedNoble {
  noble: () => any;
  /** Scanning is on (leased) until release(). */
  lease(): Promise<void>;
  release(): Promise<void>;
}

export type GattCentralOptions = ({ target: HciTarget } | { shared: SharedNoble }) & {
  powerOnTimeoutMs?: number;
  /** Connecting and discovering the pairing characteristic (default 15 s). */
  connectTimeoutMs?: number;
  /** Disconnecting (default 5 s): noble's disconnect never resolves when the peripheral's host vanished under an open link. */
  closeTimeoutMs?: number;
  /** Turning the scan lease on or off (default 10 s). */
  scanTimeoutMs?: number;
};

/** `p`, or E_TIMEOUT after `ms` (the operation is left to settle on its own). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BeepkitError('E_TIMEOUT', `gatt central: ${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export class GattCentral extends EventEmitter<{ seen: [string] }> implements GattCentralPort {
  private noble: any = null;
  private readonly seen = new Map<string, any>();
  private readonly onDiscover = (p: any): void => {
    const uuids: string[] = p.advertisement?.serviceUuids ?? [];
    if (!uuids.map((u) => u.replace(/-/g, '').toLowerCase()).includes(PAIRING_SERVICE_UUID)) return;
    this.seen.set(p.address, p);
    this.emit('seen', p.address as string);
  };

  constructor(private readonly o: GattCentralOptions) {
    super();
  }

  async start(): Promise<void> {
    process.setMaxListeners(0);
    if ('shared' in this.o) this.noble = this.o.shared.noble();
    else this.noble = openNobleOn(this.o.target);
    if (!this.noble) throw new BeepkitError('E_STATE', 'gatt central: the radio has no scanner stack');
    await this.noble.waitForPoweredOnAsync(this.o.powerOnTimeoutMs ?? 15_000).catch((cause: Error) => {
      throw new BeepkitError('E_IO', `gatt central: controller not poweredOn: ${cause.message}`, { cause });
    });
    this.noble.on('discover', this.onDiscover);
  }

  private async scanOn(): Promise<void> {
    const on = 'shared' in this.o ? this.o.shared.lease() : this.noble.startScanningAsync([], true);
    await withTimeout(on as Promise<void>, this.o.scanTimeoutMs ?? 10_000, 'scan start');
  }

  private async scanOff(): Promise<void> {
    const off = 'shared' in this.o ? this.o.shared.release() : this.noble.stopScanningAsync().catch(() => {});
    await withTimeout(off as Promise<void>, this.o.scanTimeoutMs ?? 10_000, 'scan stop').catch(() => {});
  }

  /**
   * Gives up a connection attempt or a connection. A connect still pending is cancelled (LE Create Connection
   * Cancel): disconnecting it instead left the controller initiating and noble's connection queue holding the
   * attempt, so every later connect to anyone waited behind it and timed out (a carer that missed its wearable
   * once never synced again). A connection is disconnected, bounded.
   */
  private async abandon(p: any): Promise<void> {
    if (p.state === 'connecting') {
      try {
        p.cancelConnect();
      } catch {
        // best effort: the controller may be gone
      }
      return;
    }
    await this.disconnect(p);
  }

  /** Disconnects, bounded: a vanished peripheral leaves noble's disconnect pending forever. */
  private async disconnect(p: any): Promise<void> {
    await withTimeout(Promise.resolve(p.disconnectAsync()), this.o.closeTimeoutMs ?? 5_000, 'disconnect').catch(() => {
      try {
        p.cancelConnect?.();
      } catch {
        // best effort
      }
    });
  }

  /**
   * Scans until a peripheral advertising the pairing service shows up (at `address`, or one `address`
   * accepts: a paired wearable's resolvable private address); resolves with its address. `signal` aborts the
   * search (E_ABORTED) and turns the scan (lease) off.
   */
  async find(timeoutMs = 30_000, address?: PeripheralMatch, signal?: AbortSignal): Promise<string> {
    if (!this.noble) throw new BeepkitError('E_STATE', 'gatt central not started');
    if (signal?.aborted) throw new BeepkitError('E_ABORTED', 'gatt central: search cancelled');
    const want = typeof address === 'string' ? address.toLowerCase() : address;
    const found = await new Promise<string>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | null, a?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.removeListener('seen', on);
        signal?.removeEventListener('abort', onAbort);
        void this.scanOff()
          .catch(() => {})
          .then(() => (err ? reject(err) : resolve(a!)));
      };
      const timer = setTimeout(() => done(new BeepkitError('E_TIMEOUT', `no wearable found within ${timeoutMs} ms`)), timeoutMs);
      const on = (a: string): void => {
        if (!want || (typeof want === 'string' ? a === want : want(a))) done(null, a);
      };
      const onAbort = (): void => done(new BeepkitError('E_ABORTED', 'gatt central: search cancelled'));
      this.on('seen', on);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.scanOn().catch((e: Error) => done(new BeepkitError('E_IO', `gatt central: scan failed: ${e.message}`, { cause: e })));
    });
    return found;
  }

  /**
   * find() then connect(); when the connect fails (a wearable rotates its address with its RPIs, and may have
   * moved to a new one between the advert and the connect), finds it again by a fresh advert and connects once more.
   */
  async reach(timeoutMs: number, address?: PeripheralMatch, signal?: AbortSignal): Promise<{ address: string; link: MessageLink }> {
    const first = await this.find(timeoutMs, address, signal);
    try {
      return { address: first, link: await this.connect(first) };
    } catch {
      const again = await this.find(timeoutMs, address, signal);
      return { address: again, link: await this.connect(again) };
    }
  }

  /** Connects and returns a link; the link closes when the connection drops (or close() gives up waiting). */
  async connect(address: string): Promise<MessageLink> {
    const p = this.seen.get(address);
    if (!p) throw new BeepkitError('E_NOT_FOUND', `gatt central: ${address} not discovered`);
    const link = new EventEmitter<LinkEvents>() as MessageLink;
    let open = true;
    const closed = (): void => {
      if (!open) return;
      open = false;
      link.emit('close');
    };
    try {
      const { chr, mtu } = await withTimeout(
        (async () => {
          await p.connectAsync();
          p.once('disconnect', closed);
          const { characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync([PAIRING_SERVICE_UUID], [PAIRING_MESSAGE_UUID]);
          const c = characteristics.find((x: any) => x.uuid === PAIRING_MESSAGE_UUID);
          if (!c) throw new BeepkitError('E_NOT_FOUND', 'gatt central: no pairing characteristic');
          const rx = new Reassembler();
          c.on('data', (d: Buffer) => {
            try {
              const m = rx.push(new Uint8Array(d));
              if (m) link.emit('message', m);
            } catch {
              rx.reset();
            }
          });
          await c.subscribeAsync();
          return { chr: c, mtu: p.mtu as number | undefined };
        })(),
        this.o.connectTimeoutMs ?? 15_000,
        'connect',
      );
      const max = Math.max(20, Math.min(180, (mtu ?? 23) - 3));
      let chain: Promise<void> = Promise.resolve();
      link.send = (msg) => {
        const run = chain.then(async () => {
          if (!open) throw new BeepkitError('E_LINK', 'link closed');
          try {
            for (const f of fragment(msg, max)) await chr.writeAsync(Buffer.from(f), false);
          } catch (cause) {
            throw new BeepkitError('E_LINK', `gatt write failed: ${(cause as Error)?.message}`, { cause });
          }
        });
        chain = run.catch(() => {});
        return run;
      };
      link.close = async () => {
        if (!open) return;
        await this.disconnect(p);
        closed();
      };
      return link;
    } catch (e) {
      open = false;
      await this.abandon(p);
      throw e;
    }
  }

  async stop(): Promise<void> {
    try {
      this.noble?.removeListener('discover', this.onDiscover);
      if (!('shared' in this.o)) this.noble?.stop?.();
    } finally {
      this.noble = null;
    }
  }
}
