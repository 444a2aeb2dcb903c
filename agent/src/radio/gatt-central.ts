/**
 * GATT central over @stoprocent/noble for the carer: finds a wearable
 * advertising the beepkit pairing service and opens a MessageLink over its
 * message characteristic (write with response from us, notifications back),
 * fragmenting messages to the ATT MTU. Characteristics are open (no link-layer
 * security, design note pitfall 14): the carer protocol secures the content.
 * The agent's only other noble module is hci-radio.ts (one host per UART: use
 * a separate controller for this central).
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { BeepkitError } from '@beepkit/protocol/errors';
import { fragment, PAIRING_MESSAGE_UUID, PAIRING_SERVICE_UUID, Reassembler } from '../carer/messages.ts';
import type { LinkEvents, MessageLink } from '../carer/link.ts';
import type { HciTarget } from './hci-radio.ts';

const require = createRequire(import.meta.url);


function bindingOptions(t: HciTarget): Record<string, unknown> {
  if ('uart' in t) return { hciDriver: 'uart', bindParams: { uart: { port: t.uart, ...(t.baudRate ? { baudRate: t.baudRate } : {}) } } };
  return { hciDriver: 'native', deviceId: t.hciIndex };
}

export class GattCentral {
  private noble: any = null;
  private readonly seen = new Map<string, any>();
  constructor(private readonly o: { target: HciTarget; powerOnTimeoutMs?: number }) {}

  async start(): Promise<void> {
    process.setMaxListeners(0);
    this.noble = require('@stoprocent/noble').withBindings('hci', bindingOptions(this.o.target));
    await this.noble.waitForPoweredOnAsync(this.o.powerOnTimeoutMs ?? 15_000).catch((cause: Error) => {
      throw new BeepkitError('E_IO', `gatt central: controller not poweredOn: ${cause.message}`, { cause });
    });
  }

  /** Scans until a peripheral advertising the pairing service shows up; resolves with its address. */
  async find(timeoutMs = 30_000, address?: string): Promise<string> {
    const n = this.noble;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        n.removeListener('discover', on);
        void n.stopScanningAsync().catch(() => {});
        reject(new BeepkitError('E_TIMEOUT', `no wearable found within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (p: any) => {
        const uuids: string[] = p.advertisement?.serviceUuids ?? [];
        if (!uuids.map((u) => u.replace(/-/g, '').toLowerCase()).includes(PAIRING_SERVICE_UUID)) return;
        if (address && p.address !== address.toLowerCase()) return;
        this.seen.set(p.address, p);
        clearTimeout(timer);
        n.removeListener('discover', on);
        void n.stopScanningAsync().catch(() => {}).then(() => resolve(p.address as string));
      };
      n.on('discover', on);
      n.startScanningAsync([], true).catch(reject);
    });
  }

  /** Connects and returns a link; the link closes when the connection drops. */
  async connect(address: string): Promise<MessageLink> {
    const p = this.seen.get(address);
    if (!p) throw new BeepkitError('E_NOT_FOUND', `gatt central: ${address} not discovered`);
    await p.connectAsync();
    const link = new EventEmitter<LinkEvents>() as MessageLink;
    let open = true;
    p.once('disconnect', () => {
      open = false;
      link.emit('close');
    });
    try {
      const { characteristics } = await p.discoverSomeServicesAndCharacteristicsAsync([PAIRING_SERVICE_UUID], [PAIRING_MESSAGE_UUID]);
      const chr = characteristics.find((c: any) => c.uuid === PAIRING_MESSAGE_UUID);
      if (!chr) throw new BeepkitError('E_NOT_FOUND', 'gatt central: no pairing characteristic');
      const rx = new Reassembler();
      chr.on('data', (d: Buffer) => {
        try {
          const m = rx.push(new Uint8Array(d));
          if (m) link.emit('message', m);
        } catch {
          rx.reset();
        }
      });
      await chr.subscribeAsync();
      const max = Math.max(20, Math.min(180, (p.mtu ?? 23) - 3));
      let chain: Promise<void> = Promise.resolve();
      link.send = (msg) => {
        const run = chain.then(async () => {
          if (!open) throw new BeepkitError('E_LINK', 'link closed');
          for (const f of fragment(msg, max)) await chr.writeAsync(Buffer.from(f), false);
        });
        chain = run.catch(() => {});
        return run;
      };
      link.close = async () => {
        if (open) await p.disconnectAsync().catch(() => {});
      };
      return link;
    } catch (e) {
      await p.disconnectAsync().catch(() => {});
      throw e;
    }
  }

  async stop(): Promise<void> {
    try {
      this.noble?.stop?.();
    } finally {
      this.noble = null;
    }
  }
}
