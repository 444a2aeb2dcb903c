import t from 'tap';
import { missing } from '../../scripts/tools.ts';
import { freePort } from '../../scripts/ports.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { generateTestPki, renderPasswordFile, TUNED_QUEUE_LINES, waitForPort } from '../src/broker/index.ts';
import { client, collect, CREDENTIALS, MOSQUITTO, tempDir } from './broker-helpers.ts';

const here = fileURLToPath(new URL('../mosquitto/', import.meta.url));
const conf = readFileSync(join(here, 'beepkit.conf'), 'utf8');

t.test('deployment config carries the tuned queue profile', async (t) => {
  for (const line of TUNED_QUEUE_LINES) t.match(conf, new RegExp(`^${line}$`, 'm'), line);
  t.match(conf, /^allow_anonymous false$/m);
});

t.test('gateway/mosquitto/beepkit.conf + acl run in a real mosquitto', { skip: missing('mosquitto') || missing('openssl') }, async (t) => {
  const tmp = tempDir('deploy');
  t.teardown(tmp.remove);
  const pki = await generateTestPki(tmp.dir);
  const [port, tlsPort] = [await freePort(), await freePort()]; // beepkit.conf's listeners cannot say 0
  const text =
    conf
      .replaceAll('/etc/mosquitto/beepkit/ca.crt', pki.caFile)
      .replaceAll('/etc/mosquitto/beepkit/server.crt', pki.certFile)
      .replaceAll('/etc/mosquitto/beepkit/server.key', pki.keyFile)
      .replaceAll('/etc/mosquitto/beepkit/', `${tmp.dir}/`)
      .replaceAll('/var/lib/mosquitto/', `${tmp.dir}/`)
      .replace('listener 1883 127.0.0.1', `listener ${port} 127.0.0.1`)
      .replace('listener 8883', `listener ${tlsPort} 127.0.0.1`) + `user ${os.userInfo().username}\nlog_dest file ${tmp.dir}/log\n`;
  writeFileSync(join(tmp.dir, 'beepkit.conf'), text, { mode: 0o600 });
  writeFileSync(join(tmp.dir, 'acl'), readFileSync(join(here, 'acl')), { mode: 0o600 });
  writeFileSync(join(tmp.dir, 'passwd'), renderPasswordFile(CREDENTIALS), { mode: 0o600 });
  const child = spawn(MOSQUITTO!, ['-c', join(tmp.dir, 'beepkit.conf')], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await waitForPort(port, 15_000, () => child.exitCode === null);
  await waitForPort(tlsPort, 15_000, () => child.exitCode === null);
  const gw = client(`mqtt://127.0.0.1:${port}`, 'gateway', 'gw-deploy');
  const seen = collect(gw);
  await gw.start();
  t.teardown(() => gw.stop());
  await gw.subscribe('beepkit/v1/dev/+/up/+');
  const dev = client(`mqtts://127.0.0.1:${tlsPort}`, 'dev1', 'dev1-deploy', { ca: readFileSync(pki.caFile) });
  await dev.start();
  t.teardown(() => dev.stop());
  await dev.publish('beepkit/v1/dev/dev2/up/batch', 'forged');
  await dev.publish('beepkit/v1/dev/dev1/up/batch', 'batch');
  await seen.waitFor((g) => g.length >= 1);
  t.same(seen.got, [{ topic: 'beepkit/v1/dev/dev1/up/batch', payload: 'batch' }]);
});
