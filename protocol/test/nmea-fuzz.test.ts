// Fuzz: ≥ 100 000 random and mutated lines through the decoder; only BeepkitError may escape.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { decodeNmea, NmeaLineDecoder, nmeaChecksum } from '@beepkit/protocol/nmea';
import { BeepkitError } from '@beepkit/protocol';

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures/gpsd');
const seeds: string[] = existsSync(fixtures)
  ? ['ublox-neo-m9n-nmea.log', 'nmea-rtk.log', 'furuno_gl_ga.log', 'magellan-ec10.log'].flatMap((f) =>
      readFileSync(path.join(fixtures, f), 'latin1')
        .split(/\r?\n/)
        .filter((l) => l.startsWith('$')),
    )
  : ['$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47', '$GPGSV,1,1,00*79'];

function onlyTyped(line: string, counts: Map<string, number>): void {
  try {
    decodeNmea(line);
    counts.set('ok', (counts.get('ok') ?? 0) + 1);
  } catch (e) {
    if (!(e instanceof BeepkitError)) throw new Error(`non-BeepkitError for ${JSON.stringify(line)}: ${String(e)}`, { cause: e });
    counts.set(e.code, (counts.get(e.code) ?? 0) + 1);
  }
}

/** Mutates a real sentence, then (half of the time) fixes its checksum so the field parsers are reached. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 })), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([line, edits, fix]) => {
    let s = line;
    for (const [pos, byte, op] of edits) {
      const i = s.length === 0 ? 0 : pos % s.length;
      const ch = String.fromCharCode(byte);
      if (op === 0) s = s.slice(0, i) + ch + s.slice(i + 1);
      else if (op === 1) s = s.slice(0, i) + s.slice(i + 1);
      else if (op === 2) s = s.slice(0, i) + ch + s.slice(i);
      else s = s.slice(0, i);
    }
    if (fix) {
      const star = s.lastIndexOf('*');
      const body = s.slice(1, star < 0 ? undefined : star);
      s = `$${body}*${nmeaChecksum(body)}`;
    }
    return s;
  });

/** Random field soup with a correct checksum. */
const soup = fc
  .tuple(
    fc.constantFrom('GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'GQ', 'IN'),
    fc.constantFrom('GGA', 'RMC', 'GSA', 'GSV', 'VTG', 'GLL', 'ZDA', 'GNS', 'GST', 'TXT'),
    fc.array(
      fc.oneof(
        fc.constantFrom('', 'A', 'V', 'N', 'S', 'E', 'W', 'M', '-', '.', '1e5', '99.99', '4807.038', '123519.5', '00', '999999'),
        fc.string({ maxLength: 6 }),
      ),
      { maxLength: 22 },
    ),
  )
  .map(([talker, type, fields]) => {
    const body = [talker + type, ...fields.map((f) => f.replace(/[*$,\r\n]/g, ''))].join(',');
    return `$${body}*${nmeaChecksum(body)}`;
  });

t.test('100 000 mutated real sentences', async (t) => {
  const counts = new Map<string, number>();
  fc.assert(
    fc.property(mutated, (l) => onlyTyped(l, counts)),
    { seed: 4101, numRuns: 60_000 },
  );
  t.ok((counts.get('ok') ?? 0) > 1000, `some mutations still decode (${counts.get('ok')})`);
  t.ok((counts.get('E_CHECKSUM') ?? 0) > 1000, 'many checksum failures');
  fc.assert(
    fc.property(soup, (l) => onlyTyped(l, counts)),
    { seed: 4102, numRuns: 30_000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), (l) => onlyTyped(l, counts)),
    { seed: 4103, numRuns: 10_000 },
  );
  t.ok((counts.get('E_FORMAT') ?? 0) > 1000, 'many format failures');
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  t.ok(total >= 100_000, `${total} lines decoded or rejected with a BeepkitError`);
});

t.test('line decoder and assembler never throw on junk', async (t) => {
  const dec = new NmeaLineDecoder({ date: '2020-01-01' });
  let fixes = 0;
  let rejects = 0;
  fc.assert(
    fc.property(fc.oneof(mutated, soup), (l) => {
      const r = dec.line(l);
      fixes += r.fixes.length;
      rejects += r.rejects.length;
      for (const f of r.fixes) if (f.time !== undefined && Number.isNaN(Date.parse(f.time))) throw new Error(`bad time ${f.time}`);
    }),
    { seed: 4104, numRuns: 20_000 },
  );
  t.ok(fixes > 100, `${fixes} epochs assembled`);
  t.ok(rejects > 1000, `${rejects} rejects`);
});
