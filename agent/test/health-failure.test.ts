/** A network part that stopped for good (the uplink loop's fatal error) turns /healthz red (503, named in the detail). */
import t from 'tap';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/index.ts';
import { Agent, type AgentNetwork } from '../src/app/index.ts';

t.test('/healthz: 200 while the network runs, 503 after the uplink failed', async (t) => {
  const dir = t.testdir();
  const s: { failure?: string } = {};
  const net: AgentNetwork = {
    state: 'connected',
    get failure() {
      return s.failure;
    },
    counters: () => ({}),
    start: async () => {},
    stop: async () => {},
    certificate: () => undefined,
    authorise: async () => {
      throw new Error('not here');
    },
  };
  const agent = new Agent(
    resolveConfig({ dataDir: join(dir, 'data'), keystore: { passphrase: 'health failure' }, log: { level: 'silent' }, http: { port: 0 } }, {}),
    { network: async () => net },
  );
  await agent.start();
  t.teardown(() => agent.stop());
  const healthz = async (): Promise<{ status: number; body: { status: string; failure?: string } }> => {
    const r = await fetch(`http://127.0.0.1:${agent.httpPort}/healthz`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: (await r.json()) as { status: string } };
  };
  t.match(await healthz(), { status: 200, body: { status: 'ok' } });
  s.failure = 'uplink stopped: E_IO';
  t.match(await healthz(), { status: 503, body: { status: 'unavailable', failure: 'uplink stopped: E_IO' } });
});
