import t from 'tap';
import { openSync, readSync, writeSync, closeSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { openPty } from '../src/pty.ts';

t.test('bytes cross a PTY both ways', async (t) => {
  const pty = openPty();
  t.teardown(() => pty.close());
  t.match(pty.path, /^\/dev\/pts\/\d+$/);
  t.ok(existsSync(pty.path));
  const fd = openSync(pty.path, 'r+');
  // make the slave raw enough for the test: bytes with no newline translation come through after a newline
  const got = once(pty.stream, 'data');
  writeSync(fd, 'host->emu\n');
  const [chunk] = await got;
  t.match(String(chunk), /host->emu/);
  pty.stream.write('emu->host\n');
  const buf = Buffer.alloc(64);
  const n = readSync(fd, buf);
  t.match(buf.subarray(0, n).toString(), /emu->host/);
  closeSync(fd);
});
