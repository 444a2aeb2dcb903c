/**
 * The platform report (issue 26 item 3): Node, CPU and each native module with the binary it loaded;
 * a module that does not load is an E_PREBUILD error naming it and its fallback, in the report and in
 * the start-up log.
 */
import t from 'tap';
import { logPlatform, NATIVE_MODULES, platformReport, probeNative } from '@beepkit/device-core/infra/native';
import { checkPlatform } from '../src/doctor/local.ts';

t.test('every native module a device needs loads here, with the binary named', async (t) => {
  const r = platformReport();
  t.equal(r.node, process.version);
  t.equal(r.arch, process.arch);
  t.equal(r.native.length, NATIVE_MODULES.length);
  for (const m of r.native) {
    t.not(m.source, 'missing', `${m.via}: ${m.error ?? m.binary}`);
    t.match(m.binary, /\.node$/, `${m.via}: a .node binary`);
    if (m.source === 'prebuild') t.match(m.binary, new RegExp(`^prebuilds/${process.platform}-${process.arch}`), 'the prebuild of this platform');
  }
  t.equal(checkPlatform(r).ok, true);
});

t.test('a module without a loadable binary: E_PREBUILD naming it and its fallback, logged as an error, the doctor check fails', async (t) => {
  // a real package without any native binary (yaml): node-gyp-build finds none, as on a CPU without a prebuild
  const spec = { chain: ['yaml'], role: 'test', fallback: 'build it from source' };
  const m = probeNative(spec);
  t.equal(m.source, 'missing');
  t.equal(m.code, 'E_PREBUILD');
  t.match(m.error, /yaml@2\.9\.1: no binary loads for/);
  t.equal(m.fallback, 'build it from source');
  const absent = probeNative({ chain: ['no-such-native-module-beepkit'], role: 'test', fallback: 'none' });
  t.equal(absent.code, 'E_NATIVE_MISSING');
  const lines: { level: string; o: Record<string, unknown>; msg: string }[] = [];
  const log = {
    info: (o: object, msg: string) => void lines.push({ level: 'info', o: o as Record<string, unknown>, msg }),
    error: (o: object, msg: string) => void lines.push({ level: 'error', o: o as Record<string, unknown>, msg }),
  };
  const r = { ...platformReport([]), native: [m] };
  logPlatform(log, 'agent', r);
  t.equal(lines[0].msg, 'agent: platform');
  t.same(lines[0].o.native, ['yaml@2.9.1: MISSING']);
  const err = lines.find((l) => l.level === 'error')!;
  t.equal(err.o.code, 'E_PREBUILD');
  t.equal(err.o.module, 'yaml');
  t.match(err.msg, /native module yaml did not load; fallback: build it from source/);
  const c = checkPlatform(r);
  t.equal(c.ok, false);
  t.match(c.hint, /yaml \(test\): build it from source/);
});
