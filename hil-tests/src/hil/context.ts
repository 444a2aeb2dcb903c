/**
 * What a suite gets: the rig, a started gateway (embedded broker on a fixed
 * free port so it can restart in place, unless the rig names a broker) whose
 * CA knows the rig's venues, the rig's clock, agents on the rig's devices
 * (started once, shared by the suites), and the control API of a virtual rig.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BeepkitError } from '@beepkit/protocol';
import { toHex, fromHex } from '@beepkit/protocol/bytes';
import { Gateway, resolveConfig, type GatewayConfig } from '@beepkit/gateway/app';
import { VenueRegistry } from '@beepkit/gateway/ca';
import { hashPassword } from '@beepkit/gateway/broker';
import type { Rig } from '../rig/index.ts';
import { RigAgent, agentConfigFor } from './agents.ts';
import { SimControl } from './control.ts';
import { GatewayChild } from './gateway-child.ts';
import { hostNow } from '@beepkit/protocol/clock';

export const BIN = fileURLToPath(new URL('../../../bin/beepkit.js', import.meta.url));
/** TraceCode interval, scenario ms: 5 min. */
export const TC_INTERVAL_MS = 300_000;

/** Thrown by a step (or a suite) that needs what the rig lacks. */
export class Skip extends BeepkitError {
  constructor(readonly reason: string) {
    super('E_SKIP', reason);
  }
}

/**
 * A free TCP port on 127.0.0.1, chosen by the kernel (port 0): the run keeps it for the embedded broker across
 * gateway restarts. Not a scan from a fixed base: HIL runs side by side (CI runs two test files at once) got the
 * same lowest port, and one's gateway restart after kill -9 found the other's broker on it.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', (e) => reject(new BeepkitError('E_PORT', `no free port: ${e.message}`)));
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => (port ? resolve(port) : reject(new BeepkitError('E_PORT', 'no free port'))));
    });
  });
}

export interface ContextOptions {
  rig: Rig;
  dir: string;
  print: (line: string) => void;
  /** Called once the agents are up (a paused virtual rig resumes here). */
  onAgentsReady?: () => Promise<void> | void;
  /** Which agent-role devices to run (default all). */
  agentIds?: string[];
  /** TraceCode interval, scenario ms (default TC_INTERVAL_MS); the gateway's ingest interval follows. */
  tracecodeIntervalMs?: number;
  /** Length of the soak suite, minutes. */
  soakMinutes?: number;
}

export class HilContext {
  readonly rig: Rig;
  readonly dir: string;
  readonly control?: SimControl;
  gateway!: Gateway;
  gatewayConfig!: GatewayConfig;
  readonly agents = new Map<string, RigAgent>();
  readonly #o: ContextOptions;
  readonly #creds = new Map<string, { username: string; password: string }>();
  #agentsUp?: Promise<Map<string, RigAgent>>;

  constructor(o: ContextOptions) {
    this.#o = o;
    this.rig = o.rig;
    this.dir = o.dir;
    if (o.rig.control) this.control = new SimControl(o.rig.control);
  }

  print(line: string): void {
    this.#o.print(line);
  }

  /** The rig's clock (scenario time of a virtual rig), ms. */
  now(): number {
    const c = this.rig.clock;
    const f = this.control?.lastClock();
    if (f) return Math.floor(f());
    return c ? Math.floor(c.startTime + (hostNow() - c.startedAtWallMs) * c.speed) : hostNow();
  }

  /** Real ms for `scenarioMs` of rig time. */
  real(scenarioMs: number): number {
    return scenarioMs / (this.rig.clock?.speed ?? 1);
  }

  get soakMinutes(): number | undefined {
    return this.#o.soakMinutes;
  }

  get tracecodeIntervalMs(): number {
    return this.#o.tracecodeIntervalMs ?? TC_INTERVAL_MS;
  }

  get agentDevices(): Rig['devices'] {
    const ids = this.#o.agentIds;
    return this.rig.devices.filter((d) => d.role === 'agent' && (!ids || ids.includes(d.id)));
  }

  async start(): Promise<void> {
    await this.control?.startClock();
    const gwDir = join(this.dir, 'gateway');
    mkdirSync(gwDir, { recursive: true, mode: 0o700 });
    for (const d of this.rig.devices)
      this.#creds.set(d.id, { username: `hil-${d.id.toLowerCase().replace(/[^a-z0-9]/g, '')}-device`, password: randomBytes(18).toString('base64url') });
    writeFileSync(
      join(gwDir, 'devices.passwd'),
      [...this.#creds.values()].map((c) => `${c.username}:${hashPassword(c.password, { iterations: 1000 })}`).join('\n') + '\n',
      { mode: 0o600 },
    );
    const venues = new VenueRegistry(join(gwDir, 'venues.json')).load();
    for (const v of this.rig.venues) {
      const region = (v.region ?? 'hil').split('/').filter(Boolean).slice(0, 4);
      venues.add({
        id: v.venueId,
        name: v.name,
        region,
        lat: v.center.lat,
        lon: v.center.lon,
        radiusM: Math.max(1, Math.ceil(v.radius)),
        key: fromHex(v.venueKey),
      });
    }
    const port = this.rig.broker ? 0 : await freePort();
    this.gatewayConfig = resolveConfig({
      dataDir: gwDir,
      // a known superuser password: the receipt observer connects with it (gateway-child.ts)
      broker: {
        ...(this.rig.broker ? { url: this.rig.broker } : { password: randomBytes(18).toString('base64url') }),
        embedded: { host: '127.0.0.1', port, passwordFile: join(gwDir, 'devices.passwd') },
      },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'warn' },
      ingest: { maxSkewSec: 3600, intervalSeconds: this.tracecodeIntervalMs / 1000 },
      ca: { slotWindow: 5, frameMaxAgeMs: 600_000, fixMaxAgeMs: 600_000, requestsPerPseudonymDay: 50 },
    });
    await this.startGateway();
  }

  async startGateway(): Promise<void> {
    this.gateway = new Gateway({ config: this.gatewayConfig, now: () => this.now() });
    await this.gateway.start();
  }

  /** Graceful gateway (and embedded broker) restart in place. */
  async restartGateway(downMs = 0): Promise<void> {
    await this.gateway.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.startGateway();
  }

  /**
   * Swaps the in-process gateway for a `beepkit gateway run` child on the same data
   * directory and broker port, following the rig's clock (`gatewayInProcess` swaps back);
   * `whileDown` runs between the two (no gateway, no embedded broker).
   */
  async gatewayAsChild(whileDown?: () => Promise<void>): Promise<GatewayChild> {
    await this.gateway.stop();
    const c = new GatewayChild(this.gatewayConfig, this.rig, BIN);
    try {
      await whileDown?.();
      await c.start();
    } catch (e) {
      await c.kill();
      await this.startGateway();
      throw e;
    }
    return c;
  }

  /** Stops a gateway child (gracefully) and starts the in-process gateway again. */
  async gatewayInProcess(c: GatewayChild): Promise<void> {
    await c.stop();
    await this.startGateway();
  }

  /** Agents on every agent-role device, started once; resolves when all radios are on. */
  agentsUp(): Promise<Map<string, RigAgent>> {
    this.#agentsUp ??= this.#startAgents();
    return this.#agentsUp;
  }

  async #startAgents(): Promise<Map<string, RigAgent>> {
    const devs = this.agentDevices;
    if (devs.length === 0) throw new Skip('the rig has no agent devices');
    for (const d of devs) this.agentFor(d.id);
    this.print(`  starting ${devs.length} agent(s) on ${devs.map((d) => d.id).join(', ')}…`);
    await Promise.all([...this.agents.values()].map((a) => a.start()));
    await Promise.all([...this.agents.values()].map((a) => a.waitFor('radio powered on', (s) => s.radio.scanner === 'poweredOn', 120_000)));
    this.print('  agents ready');
    await this.#o.onAgentsReady?.();
    return this.agents;
  }

  /** The (not yet started) agent of a device, with its generated config. */
  agentFor(id: string): RigAgent {
    let a = this.agents.get(id);
    if (a) return a;
    const d = this.rig.devices.find((x) => x.id === id);
    if (!d) throw new BeepkitError('E_CONFIG', `rig has no device ${id}`);
    const c = this.#creds.get(id)!;
    const k = this.gateway.keys;
    const dir = join(this.dir, 'agents', id);
    a = new RigAgent(
      d,
      dir,
      agentConfigFor(this.rig, d, dir, {
        brokerUrl: this.gateway.brokerUrl,
        username: c.username,
        password: c.password,
        tracecodeIntervalMs: this.tracecodeIntervalMs,
        anchors: { caPublicKey: toHex(k.caPublicKey), gatewayPublicKey: toHex(k.gateway.publicKey) },
      }),
      BIN,
    );
    this.agents.set(id, a);
    return a;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.agents.values()].map((a) => a.stop()));
    await this.gateway?.stop().catch(() => {});
    this.control?.stopClock();
  }
}
