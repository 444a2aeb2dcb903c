/**
 * The running wearable's control socket and the data directory lock: the socket sits in a short
 * private directory however deep the data directory is (Unix socket paths stop at 108 bytes), is
 * 0600, its path recorded in the data dir; bad input gets E_FORMAT and the server goes on; a lock
 * held by a live process is E_BUSY naming it, a lock of a dead process is taken over.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol/errors';
import { ControlServer, controlRequest, DirLock, CONTROL_FILE, LOCK_FILE } from '../src/control.ts';

const raw = (path: string, text: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const s = createConnection(path, () => s.write(text));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });

t.test('control socket: short private path for a deep data dir, 0600, requests answered, bad input survived', async (t) => {
  const deep = join(t.testdir(), ...Array.from({ length: 12 }, (_, i) => `a-rather-long-directory-name-${i}`));
  mkdirSync(deep, { recursive: true, mode: 0o700 });
  t.ok(Buffer.byteLength(deep) > 200, `data dir of ${Buffer.byteLength(deep)} bytes`);
  t.equal(await controlRequest(deep, { op: 'status' }), undefined, 'no wearable running: undefined');
  const calls: string[] = [];
  const server = new ControlServer({
    dataDir: deep,
    handler: async (req) => {
      calls.push(req.op);
      if (req.op === 'revoke-carer') return { hadCarer: true };
      throw new BeepkitError('E_UNKNOWN_OP', `unknown ${req.op}`);
    },
  });
  const path = await server.start();
  t.teardown(() => server.stop());
  t.ok(Buffer.byteLength(path) <= 100, `socket path ${Buffer.byteLength(path)} bytes`);
  t.notOk(path.startsWith(deep), 'not inside the data dir');
  t.equal(statSync(path).mode & 0o777, 0o600, 'socket 0600');
  t.equal(statSync(dirname(path)).mode & 0o777, 0o700, 'its directory 0700');
  t.same(JSON.parse(readFileSync(join(deep, CONTROL_FILE), 'utf8')), { socket: path, pid: process.pid }, 'path recorded in the data dir');
  t.same(await controlRequest(deep, { op: 'revoke-carer' }), { hadCarer: true });
  await t.rejects(controlRequest(deep, { op: 'frobnicate' }), { code: 'E_UNKNOWN_OP' });
  t.match(JSON.parse(await raw(path, 'not json\n')), { ok: false, code: 'E_FORMAT' });
  t.match(JSON.parse(await raw(path, '{"no":"op"}\n')), { ok: false, code: 'E_FORMAT' });
  t.match(JSON.parse(await raw(path, 'x'.repeat(5000))), { ok: false, code: 'E_RANGE' });
  t.same(await controlRequest(deep, { op: 'revoke-carer' }), { hadCarer: true }, 'still serving');
  t.same(calls, ['revoke-carer', 'frobnicate', 'revoke-carer']);
  await server.stop();
  t.notOk(existsSync(path), 'socket removed');
  t.notOk(existsSync(join(deep, CONTROL_FILE)), 'record removed');
  t.equal(await controlRequest(deep, { op: 'status' }), undefined);
  // a stale record (the wearable was killed): nobody answers, undefined
  writeFileSync(join(deep, CONTROL_FILE), JSON.stringify({ socket: path, pid: 1 }));
  t.equal(await controlRequest(deep, { op: 'status' }), undefined, 'stale record: nobody there');
});

t.test("directory lock: E_BUSY while a live process holds it, a dead holder's lock is taken over, released on release", async (t) => {
  const dir = t.testdir();
  const lockPath = join(dir, LOCK_FILE);
  writeFileSync(lockPath, JSON.stringify({ pid: process.ppid })); // a live process that is not us
  await t.rejects(new DirLock(dir).acquire(), { code: 'E_BUSY', message: new RegExp(`process ${process.ppid}`) });
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  writeFileSync(lockPath, JSON.stringify({ pid: dead }));
  const lock = new DirLock(dir);
  await lock.acquire();
  t.same(JSON.parse(readFileSync(lockPath, 'utf8')), { pid: process.pid }, 'taken over from a dead pid');
  writeFileSync(join(dir, 'x'), '');
  lock.releaseSync();
  t.notOk(existsSync(lockPath), 'released');
  writeFileSync(lockPath, 'garbage');
  await new DirLock(dir).acquire().then(
    (l) => l,
    () => t.fail('an unreadable lock is stale'),
  );
});
