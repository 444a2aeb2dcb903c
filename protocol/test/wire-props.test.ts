import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { jsonView } from '../src/frames/index.ts';
import { caRequestSigningBytes, decodeAs, decodeMessage, encodeMessage, type CaRequest, type WireType } from '../src/wire/index.ts';
import { messageByType } from './wire-arbitraries.ts';
import { toHex } from '../src/bytes.ts';

/** Deep equality that ignores prototypes (fast-check records and dictionaries have a null prototype). */
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(jsonView(a), jsonView(b));

t.test('decode(encode(m)) == m and encoding is deterministic, for every message type', async (t) => {
  for (const [type, arb] of Object.entries(messageByType)) {
    let runs = 0;
    fc.assert(
      fc.property(arb, (m) => {
        runs++;
        const buf = encodeMessage(m);
        const d = decodeAs(buf, type as WireType);
        return same(d, m) && toHex(encodeMessage(d)) === toHex(buf);
      }),
      { seed: 0x3e1 + type.length, numRuns: 300 },
    );
    t.equal(runs, 300, type);
  }
});

t.test('CaRequest signing bytes are a prefix-tagged copy of the body before the signature', async (t) => {
  let runs = 0;
  fc.assert(
    fc.property(messageByType['ca-request'], fc.uint8Array({ minLength: 64, maxLength: 64 }), (m, sig) => {
      runs++;
      const req = m as CaRequest;
      const sb = caRequestSigningBytes(req);
      const wire = encodeMessage(req);
      const body = wire.subarray(12, wire.length - 64); // after magic|ver|type|correlation id, before signature
      const tag = new TextEncoder().encode('beepkit/v1/ca-request');
      // The signature and the correlation id do not affect the signed bytes.
      const other = { ...req, signature: sig, correlationId: new Uint8Array(8) };
      return toHex(sb) === toHex(tag) + toHex(body) && toHex(caRequestSigningBytes(other)) === toHex(sb) && decodeMessage(wire).type === 'ca-request';
    }),
    { seed: 77, numRuns: 300 },
  );
  t.equal(runs, 300, 'CaRequests checked');
});
