/**
 * `beepkit sim --btsnoop <file>`: every hosted device's controllers' HCI
 * traffic, controller side, in one btsnoop capture (datalink 2001, one index
 * per controller, named `<device>/scan|adv` up to 8 bytes), for Wireshark /
 * tshark and btmon. Timestamps from the scenario clock.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { header, newIndex, packet } from '@beepkit/protocol/btsnoop';
import type { VirtualController } from '../hci/controller.ts';

export class SimCapture {
  private readonly out: WriteStream;
  private next = 0;
  packets = 0;
  constructor(
    path: string,
    private readonly now: () => number,
  ) {
    this.out = createWriteStream(path, { flags: 'w', mode: 0o600 });
    this.out.on('error', () => {});
    this.out.write(header());
  }

  attach(ctl: VirtualController, name: string): void {
    const index = this.next++;
    this.out.write(newIndex(index, ctl.address, name, this.now()));
    ctl.snoop = (h4, toController) => {
      const r = packet(index, h4, toController, this.now());
      if (!r) return;
      this.packets++;
      this.out.write(r);
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
