import t from 'tap';
import { openSync, readSync, writeSync, closeSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { openPty, PtyWriter } from '../src/pty.ts';

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
  const w = new PtyWriter(pty.fd);
  await w.write(Buffer.from('emu->host\n'));
  t.equal(w.backlog, 0, 'all bytes taken by the kernel');
  const buf = Buffer.alloc(64);
  const n = readSync(fd, buf);
  t.match(buf.subarray(0, n).toString(), /emu->host/);
  closeSync(fd);
});

t.test('the writer never blocks when the host stops reading, and stays bounded by dropping droppable buffers', async (t) => {
  const pty = openPty();
  const fd = openSync(pty.path, 'r+'); // attached but never read
  t.teardown(() => {
    closeSync(fd);
    pty.close();
  });
  const w = new PtyWriter(pty.fd);
  const chunk = Buffer.alloc(4096, 0x41);
  // far above the kernel buffer: 256 KiB, and more while the line discipline still takes bytes (a busy kernel may
  // move the flip buffers on between two writes), at most 16 MiB; then 8 more, so that whole droppable buffers
  // wait behind the head (the first backlog may be the partly written head alone, which is never dropped)
  for (let i = 0, behind = 0; i < 4096 && (i < 64 || behind < 8); i++) {
    void w.write(chunk, true);
    if (w.backlog > 0) behind++;
  }
  t.ok(w.backlog > 0, `bytes wait in our queue (${w.backlog}), the event loop is free`);
  const dropped = w.dropQueued();
  t.ok(dropped > 0, `${dropped} droppable buffers dropped`);
  t.ok(w.backlog < 4096, 'at most a partly written head remains');
  w.close();
  t.equal(w.backlog, 0);
});
