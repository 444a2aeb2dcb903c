/** The pieces of the hostile-client defences on their own: ids, log escaping, back-off, config. */
import t from 'tap';
import { isOwnClientId, logId, LoginBackoff, DEFAULT_BROKER_LIMITS } from '../src/broker/index.ts';
import { resolveConfig } from '../src/app/config.ts';

t.test('isOwnClientId: the username or <username>:<suffix>, nothing else', async (t) => {
  t.ok(isOwnClientId('dev-aaaa0001', 'dev-aaaa0001'));
  t.ok(isOwnClientId('dev-aaaa0001', 'dev-aaaa0001:ui'));
  for (const id of ['beepkit-gateway', 'dev-aaaa0001x', 'dev-aaaa0001:', 'dev-aaaa0001:a/b', 'dev-aaaa0001:a:b', 'x:dev-aaaa0001', 'DEV-AAAA0001']) {
    t.notOk(isOwnClientId('dev-aaaa0001', id), JSON.stringify(id));
  }
});

t.test('logId: truncated, escaped, length of the rest', async (t) => {
  t.equal(logId('dev-1'), 'dev-1');
  t.equal(logId(undefined), undefined);
  t.equal(logId('\u001b[2J\n\\é'), '\\u001b[2J\\u000a\\\\\\u00e9');
  const long = logId('x'.repeat(65_000))!;
  t.equal(long, `${'x'.repeat(64)}…(+64936)`);
});

t.test('LoginBackoff: free failures, then doubling waits up to the cap, forgiven after a quiet spell', async (t) => {
  const b = new LoginBackoff(3, 1000);
  let now = 0;
  for (let i = 0; i < 3; i++) b.fail('a', now);
  t.equal(b.blockedFor('a', now), 0, '3 free failures');
  b.fail('a', now);
  t.equal(b.blockedFor('a', now), 250, '4th: 250 ms');
  b.fail('a', now);
  t.equal(b.blockedFor('a', now), 500, '5th: 500 ms');
  for (let i = 0; i < 10; i++) b.fail('a', now);
  t.equal(b.blockedFor('a', now), 1000, 'capped');
  t.equal(b.blockedFor('b', now), 0, 'other addresses unaffected');
  now += 2001;
  t.equal(b.blockedFor('a', now), 0, 'forgiven');
  b.fail('a', now);
  t.equal(b.blockedFor('a', now), 0, 'counting starts again');
});

t.test('config: broker.embedded.limits and tls validated', async (t) => {
  const c = resolveConfig(
    { broker: { embedded: { limits: { maxPacketBytes: 65_536 }, tls: { port: 8883, certFile: 'c.pem', keyFile: 'k.pem' } } } },
    {},
    '/srv',
  );
  t.equal(c.broker.embedded.limits.maxPacketBytes, 65_536);
  t.equal(c.broker.embedded.limits.maxPreAuthBytes, DEFAULT_BROKER_LIMITS.maxPreAuthBytes, 'the other limits keep their defaults');
  t.equal(c.broker.embedded.tls?.certFile, '/srv/c.pem', 'paths relative to the config file');
  t.equal(
    resolveConfig({}, { BEEPKIT_GATEWAY_BROKER__EMBEDDED__LIMITS__CONNECTIONS_PER_SECOND: '5' }).broker.embedded.limits.connectionsPerSecond,
    5,
    'env override',
  );
  t.throws(() => resolveConfig({ broker: { embedded: { limits: { maxPacketBytes: 0 } } } }), {
    code: 'E_CONFIG',
    message: /broker\.embedded\.limits\.maxPacketBytes/,
  });
  t.throws(() => resolveConfig({ broker: { embedded: { limits: { maxPackets: 1 } } } }), { code: 'E_CONFIG', message: /unknown field/ });
  t.throws(() => resolveConfig({ broker: { embedded: { tls: { port: 1, certFile: 'c' } } } }), { code: 'E_CONFIG', message: /tls\.keyFile/ });
  t.throws(() => resolveConfig({ broker: { embedded: { tls: { port: 1, certFile: 'c', keyFile: 'k', requestClientCert: true } } } }), {
    code: 'E_CONFIG',
    message: /tls\.caFile/,
  });
});
