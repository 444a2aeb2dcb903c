/**
 * The published vectors (protocol/vectors/*.json, SPEC.md §15), both ways:
 * the implementation reproduces every file byte for byte from its fixed
 * inputs, and the decoders/verifiers accept every valid example and refuse
 * every invalid one with the code the file lists. Plus spot checks that the
 * files say what the spec says (vbytes/lbytes widths, the TraceCode opens to
 * the listed geodata, the key schedule's first chain key is the master).
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex, toHex } from '../src/index.ts';
import { decodeGeodata, encodeGeodata } from '../src/geodata/index.ts';
import { openTraceCode } from '../src/tracecode/index.ts';
import { decodeMessage } from '../src/wire/index.ts';
import { allVectors, type VectorFile } from '../vectors/index.ts';
import { outcome } from '../vectors/checks.ts';

const DIR = fileURLToPath(new URL('../vectors/', import.meta.url));
const read = (name: string): VectorFile => JSON.parse(readFileSync(`${DIR}${name}.json`, 'utf8')) as VectorFile;

t.test('every vector file is what the implementation produces, byte for byte', async (t) => {
  const built = allVectors();
  const onDisk = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
  t.same(onDisk, Object.keys(built).sort(), 'one file per kind, no stale file');
  for (const [name, f] of Object.entries(built)) {
    t.equal(readFileSync(`${DIR}${name}.json`, 'utf8'), JSON.stringify(f, null, 1) + '\n', `${name}.json reproduced`);
  }
});

t.test('decoders accept every valid example and refuse every invalid one with its code', async (t) => {
  let valid = 0;
  let invalid = 0;
  for (const name of Object.keys(allVectors())) {
    const f = read(name);
    t.ok(f.valid.length >= 1 && f.invalid.length >= 1, `${name}: valid and invalid examples`);
    for (const v of f.valid) t.equal(outcome(v.check, fromHex(v.hex), f.context), 'OK', `${name}: ${v.name}`);
    for (const v of f.invalid) t.equal(outcome(v.check, fromHex(v.hex), f.context), v.code, `${name}: ${v.name} → ${v.code}`);
    valid += f.valid.length;
    invalid += f.invalid.length;
  }
  t.ok(valid >= 20 && invalid >= 30, `${valid} valid, ${invalid} invalid examples`);
});

t.test('the files say what SPEC.md says', async (t) => {
  const keys = read('key-schedule');
  const days = keys.inputs.days as { day: number; chainKey: string }[];
  t.equal(days[0].chainKey, keys.inputs.master, 'the first chain key is the master secret');
  const tc = read('tracecode');
  const g = openTraceCode(fromHex(tc.context.solverPrivateKey as string), fromHex(tc.valid[1].hex), fromHex(tc.context.ephemeralPublicKey as string));
  t.equal(toHex(encodeGeodata(g)), tc.inputs.geodata, 'the TraceCode opens to the listed geodata');
  t.equal(decodeGeodata(fromHex(tc.inputs.geodata as string)).level, 2, 'grid 50 m');
  const ca = read('ca');
  const req = fromHex(ca.valid[0].hex);
  const m = decodeMessage(req);
  if (m.type !== 'ca-request') throw new Error('ca-request expected');
  const frameAt = 12 + 1 + 8 + 4 + 4 + 4 + 1 + 1 + 2 + 1; // envelope, gnss, venue count
  t.same([req[frameAt], req[frameAt + 1]], [0, 31], 'vbytes: a u16 length (the 31-byte venue advert)');
  t.equal(toHex(req.subarray(4, 12)), ca.inputs.correlationId, 'correlation id after magic, version, type');
  const batch = read('batch');
  const up = fromHex(batch.inputs.uploadBatchMessage as string);
  t.equal(new DataView(up.buffer, up.byteOffset).getUint32(12), up.length - 16, 'lbytes: a u32 length');
});
