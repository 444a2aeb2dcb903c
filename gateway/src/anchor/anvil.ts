/**
 * Foundry's anvil (npm `@foundry-rs/anvil-linux-amd64`: the binary ships inside the package)
 * as a child process for tests, benches and `beepkit demo --chain anvil`. anvil's own
 * `--port 0` is not relied on: a free port is taken from the kernel (listen on 0, close), then
 * anvil starts on it; ready = its "Listening on" line. Retried on a lost port race.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createServer } from 'node:net';
import { BeepkitError } from '@beepkit/protocol';

/** anvil's binary, from the gateway's optional dependency (x64 Linux only; not in the packed kit). */
export function anvilBinary(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('@foundry-rs/anvil-linux-amd64/package.json');
  } catch (cause) {
    throw new BeepkitError(
      'E_CONFIG',
      'anvil is not installed: it comes with the npm package @foundry-rs/anvil-linux-amd64 (x64 Linux only), an optional dependency of the gateway installed by npm ci in a checkout, not by the packed kit',
      { cause },
    );
  }
  return join(dirname(pkg), 'bin', 'anvil');
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class Anvil {
  #child?: ChildProcess;
  port = 0;
  constructor(private readonly o: { host?: string; blockTimeSec?: number } = {}) {}

  get rpcUrl(): string {
    return `http://${this.o.host ?? '127.0.0.1'}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<this> {
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort(this.o.host);
      try {
        await this.#spawn();
        return this;
      } catch (e) {
        if (attempt >= 2 || !/in use/i.test((e as Error).message)) throw e;
      }
    }
  }

  #spawn(): Promise<void> {
    const args = ['--host', this.o.host ?? '127.0.0.1', '--port', String(this.port), '--accounts', '0'];
    if (this.o.blockTimeSec) args.push('--block-time', String(this.o.blockTimeSec));
    const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    return new Promise((resolve, reject) => {
      let out = '';
      const onData = (d: string): void => {
        out += d;
        if (out.includes('Listening on')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.setEncoding('utf8').on('data', onData);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.once('error', (cause) => reject(new BeepkitError('E_SPAWN', `anvil did not start: ${cause.message}`, { cause })));
      child.once('exit', (code) => reject(new BeepkitError('E_SPAWN', `anvil exited (${code}) before listening: ${out.slice(-500)}`)));
    });
  }

  async stop(): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }

  /** Lets the parent exit while anvil keeps running (`--keep-chain`). */
  detach(): void {
    this.#child?.unref();
    this.#child?.stdout?.destroy();
    this.#child?.stderr?.destroy();
    this.#child = undefined;
  }
}
