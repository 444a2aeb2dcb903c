/**
 * `--btsnoop <file>`: the HCI traffic of this process's controllers in a
 * btsnoop capture (datalink 2001, Linux monitor: one index per controller),
 * for Wireshark / tshark and btmon (`btmon -r file`). Taps each stack's HCI
 * transport: what the host writes, and every packet it receives. A capture
 * holds the device's addresses and RPIs: the file is created 0600, and only
 * when asked for.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { header, newIndex, packet } from '@beepkit/protocol/btsnoop';

export class BtsnoopWriter {
  private readonly out: WriteStream;
  private nextIndex = 0;
  readonly counters = { packets: 0, bytes: 0 };
  constructor(
    readonly path: string,
    private readonly now: () => number,
  ) {
    this.out = createWriteStream(path, { flags: 'w', mode: 0o600 });
    this.out.on('error', () => {}); // a capture that cannot be written never stops the radio
    this.out.write(header());
  }

  /** Announces a controller and returns its index. */
  add(name: string, address = '00:00:00:00:00:00'): number {
    const i = this.nextIndex++;
    this.out.write(newIndex(i, address, name, this.now()));
    return i;
  }

  /** One H4 packet (indicator byte first) of controller `index`. */
  packet(index: number, h4: Uint8Array, toController: boolean): void {
    const r = packet(index, h4, toController, this.now());
    if (!r) return;
    this.counters.packets++;
    this.counters.bytes += r.length;
    this.out.write(r);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}

/** Taps a stack's HCI socket (write + 'data', as noble's and bleno's hci layers use it) into `snoop`. */
export function tapHciSocket(
  socket: { write(b: Buffer): unknown; on(ev: 'data', f: (b: Buffer) => void): unknown } | undefined,
  snoop: BtsnoopWriter,
  name: string,
): void {
  if (!socket || typeof socket.write !== 'function') return;
  const index = snoop.add(name);
  const write = socket.write.bind(socket);
  socket.write = (b: Buffer) => {
    snoop.packet(index, b, true);
    return write(b);
  };
  socket.on('data', (b: Buffer) => snoop.packet(index, b, false));
}
