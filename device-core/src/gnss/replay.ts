/** Replays a captured NMEA file through the same decode path as the serial source (as fast as possible). */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GnssSourceBase, type GnssSourceBaseOptions } from './base.ts';

export interface ReplayGnssOptions extends GnssSourceBaseOptions {
  file: string;
}

export class ReplayGnssSource extends GnssSourceBase {
  readonly kind = 'replay' as const;
  private rl: ReturnType<typeof createInterface> | undefined;
  /** Resolves when the whole file has been played (or the source stopped). */
  done: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ReplayGnssOptions) {
    super(opts);
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.setState('connecting', `reading ${this.opts.file}`);
    const input = createReadStream(this.opts.file, { encoding: 'latin1' });
    const rl = createInterface({ input, crlfDelay: Infinity });
    this.rl = rl;
    this.done = new Promise<void>((resolve) => {
      input.once('open', () => this.setState('open', 'file opened'));
      input.once('error', (err) => {
        this.bump('E_IO');
        this.setState('closed', `cannot read: ${err.message}`);
        resolve();
      });
      rl.on('line', (l) => this.onLine(l));
      rl.once('close', () => {
        this.flushEpoch();
        this.stopped = true;
        if (this.state !== 'closed') this.setState('closed', 'end of file');
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.rl?.close();
    await this.done;
  }
}
