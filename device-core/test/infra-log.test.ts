import t from 'tap';
import { createLogger } from '@beepkit/device-core/infra/log';

// the CLIs' one pino logger (agent, gateway): service name, level, listed fields never written
t.test('createLogger: JSON lines with svc, below-level lines dropped, redacted fields removed', async (t) => {
  const lines: string[] = [];
  const log = createLogger({ service: 'beepkit-test', level: 'info', redact: ['key', 'lat'] }, { write: (s: string) => void lines.push(s) });
  log.debug({ x: 1 }, 'hidden');
  log.info({ key: 'secret', lat: 52.1, n: 3 }, 'hello');
  t.equal(lines.length, 1, 'debug is below info');
  const j = JSON.parse(lines[0]) as Record<string, unknown>;
  t.equal(j.svc, 'beepkit-test');
  t.equal(j.msg, 'hello');
  t.equal(j.n, 3);
  t.notOk('key' in j || 'lat' in j, 'redacted fields are removed');
  t.notMatch(lines[0], /secret|52\.1/);
});
