import t from 'tap';
import {
  checksumOk,
  nmeaChecksum,
  decodeNmea,
  encodeSentence,
  splitSentences,
  NmeaEpochAssembler,
  NmeaLineDecoder,
  parseTime,
  type Sentence,
} from '@beepkit/protocol/nmea';
import { BeepkitError } from '@beepkit/protocol';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof BeepkitError ? e.code : 'NOT_BEEPKIT';
  }
}

t.test('checksum and encode', async (t) => {
  t.equal(nmeaChecksum('GPGSV,1,1,00'), '79');
  t.ok(checksumOk('$GPGSV,1,1,00*79'));
  t.ok(checksumOk('$GPRMC,205150.00,V,,,,,,,,,,,V*4a'), 'lower-case hex (magellan)');
  t.ok(checksumOk(' $GPGSV,1,1,00*79\r\n'), 'leading blank and CRLF');
  t.notOk(checksumOk('$GPGSV,1,1,00*78'));
  t.equal(encodeSentence('GP', 'GSV', [1, 1, '00']), '$GPGSV,1,1,00*79\r\n');
  t.equal(encodeSentence('GN', 'GGA', ['', undefined]), `$GNGGA,,*${nmeaChecksum('GNGGA,,')}\r\n`);
  t.same(splitSentences('$GPGGA,1,2$GPGSV,1,1,00*79'), ['$GPGGA,1,2', '$GPGSV,1,1,00*79']);
  t.same(splitSentences('xx$GPGSV,1,1,00*79'), ['xx', '$GPGSV,1,1,00*79']);
  t.same(splitSentences('  $GPGSV,1,1,00*79'), ['$GPGSV,1,1,00*79'], 'leading blank dropped');
});

const bad: [string, string][] = [
  ['$GPGSV,1,1,00*78', 'E_CHECKSUM'],
  ['$GPGSV,3,3,11,24,51,098,,110,50,31,60,230,46*4B', 'E_CHECKSUM'], // com-1289 run-together fields
  ['$GPGGA,005947.00,3715.6616,N,12157.6709,W,,11,0.8,86.0,M,-30.1,M,,*54', 'E_CHECKSUM'], // firefly-II
  ['$GPGGA,123519,4807.038,N', 'E_TRUNCATED'],
  ['', 'E_FORMAT'],
  ['hello world', 'E_FORMAT'],
  ['$GPGGA,1$GPGSV,1,1,00*79', 'E_FORMAT'],
  ['$GPGSV,1,1,00*7G', 'E_FORMAT'],
  [`$${'A'.repeat(2000)}*00`, 'E_FORMAT'],
  [`$GPGGA,1\u0001*${nmeaChecksum('GPGGA,1\u0001')}`, 'E_FORMAT'],
];
for (const [body, want] of [
  ['GPGGA,25xx19,,,,,0,,,', 'E_FORMAT'],
  ['GPGGA,123519,99xx.0,N,,,0,,,', 'E_FORMAT'],
  ['GPGGA,123519,4807.038,Q,01131.000,E,1,08,0.9,545.4', 'E_FORMAT'],
  ['GPGGA,123519,4807.038,N,01131.000,E,1,08', 'E_TRUNCATED'],
  ['GPZDA,250000,1,1,2000', 'E_FORMAT'],
  ['GPGLL,4807.038', 'E_TRUNCATED'],
  ['gpGGA,1', 'E_FORMAT'],
] as const) {
  bad.push([`$${body}*${nmeaChecksum(body)}`, want]);
}
t.test('rejections carry stable codes', async (t) => {
  for (const [line, want] of bad)
    t.equal(
      code(() => decodeNmea(line)),
      want,
      line.slice(0, 60),
    );
});

const good: [string, Partial<Record<string, unknown>>][] = [
  [
    '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47',
    {
      kind: 'GGA',
      talker: 'GP',
      time: 45_319_000,
      lat: 48 + 7.038 / 60,
      lon: 11 + 31 / 60,
      quality: 1,
      satellitesUsed: 8,
      hdop: 0.9,
      altMSL: 545.4,
      geoidSep: 46.9,
    },
  ],
  ['$GNGGA,003956.00,4552.65403,S,17030.00668,E,1,12,0.64,14.2,M,1.8,M,,*56', { kind: 'GGA', talker: 'GN', lat: -(45 + 52.65403 / 60) }],
  ['$GPGGA,,,,,,0,,,,M,,M,,*66', { kind: 'GGA', time: undefined, lat: undefined, quality: 0 }],
  [
    '$GNRMC,003956.00,A,4552.65403,S,17030.00668,E,0.025,,120419,,,A,V*07',
    { kind: 'RMC', valid: true, speedKnots: 0.025, track: undefined, date: { day: 12, month: 4, yy: 19 }, posMode: 'A', navStatus: 'V' },
  ],
  ['$GPRMC,205150.00,V,,,,,,,,,,,V*4a', { kind: 'RMC', valid: false, lat: undefined, posMode: undefined }],
  ['$INRMC,194101,A,4426.1130,N,07140.5596,W,5.2,77.3,160906,15.8,W*60', { kind: 'RMC', talker: 'IN', time: 70_861_000, magvar: -15.8 }],
  [
    '$GNGSA,A,3,13,16,21,15,10,29,27,20,,,,,1.05,0.64,0.83,1*03',
    { kind: 'GSA', fixMode: 3, prns: [13, 16, 21, 15, 10, 29, 27, 20], pdop: 1.05, hdop: 0.64, vdop: 0.83, systemId: 1 },
  ],
  ['$BDGSA,A,1,,,,,,,,,,,,,,,,*23', { kind: 'GSA', talker: 'BD', fixMode: 1, prns: [] }],
  ['$GPGSV,1,1,00*79', { kind: 'GSV', total: 1, index: 1, inView: 0, satellites: [] }],
  ['$GPGSV,4,4,13,51,37,160,,1*51', { kind: 'GSV', inView: 13, satellites: [{ prn: 51, el: 37, az: 160, snr: undefined }], signalId: '1' }],
  [
    '$GPVTG,77.5,T,93.3,M,5.2,N,9.7,K*4F'.replace('*4F', `*${nmeaChecksum('GPVTG,77.5,T,93.3,M,5.2,N,9.7,K')}`),
    { kind: 'VTG', track: 77.5, speedKnots: 5.2, speedKmh: 9.7 },
  ],
  ['$INGLL,4426.1130,N,07140.5579,W,194102,A*2C', { kind: 'GLL', valid: true, time: 70_862_000, lon: -(71 + 40.5579 / 60) }],
  ['$GPZDA,005947.00,08,07,2010,+00,00*4E', { kind: 'ZDA', day: 8, month: 7, year: 2010 }],
  [
    '$GNGNS,120213.000,5957.0062,N,01100.6429,E,NDD,11,1.3,168.9,39.5,,,V*57',
    { kind: 'GNS', posModes: 'NDD', satellitesUsed: 11, altMSL: 168.9, navStatus: 'V' },
  ],
  ['$GNGST,003956.00,235111,,,,2.3,3.5,4.0*46', { kind: 'GST', rms: 235111, stdLat: 2.3, stdLon: 3.5, stdAlt: 4 }],
  ['$PGRME,15.0,M,45.0,M,25.0,M*1C', { kind: 'unknown', type: 'PGRME' }],
  ['$GYOACC,090624,000653.10,0.004960,-0.001510,0.005386,100,-3.358145,-8.120926,4.427577,100,35,0,100,0*21', { kind: 'unknown', type: 'GYOACC' }],
  ['$GPRMB,V,,,,,,,,,,,,V*66', { kind: 'unknown', type: 'RMB' }],
];
t.test('valid sentences of each type', async (t) => {
  for (const [line, want] of good) {
    let s: Sentence | undefined;
    t.doesNotThrow(() => (s = decodeNmea(line)), line);
    for (const [k, v] of Object.entries(want)) {
      const got = (s as unknown as Record<string, unknown>)[k];
      if (typeof v === 'number') t.ok(Math.abs((got as number) - v) < 1e-12, `${line.slice(0, 30)} ${k} ${String(got)} ≈ ${v}`);
      else t.same(got, v, `${line.slice(0, 30)} ${k}`);
    }
  }
});

t.test('time rounding is exact to the ms', async (t) => {
  t.equal(parseTime('000000.0005'), 1);
  t.equal(parseTime('123456.789'), 45_296_789);
  t.equal(parseTime('235959.9996'), 86_400_000);
  t.equal(parseTime('113258'), 41_578_000);
  t.equal(parseTime(''), undefined);
});

function feed(lines: string[], date?: string) {
  const d = new NmeaLineDecoder({ date });
  const fixes = lines.flatMap((l) => d.line(l).fixes);
  return [...fixes, ...d.flush()];
}
const enc = (talker: string, type: string, f: (string | number)[]) => encodeSentence(talker, type, f);

t.test('epoch assembly: status map, modes, date sources', async (t) => {
  const gga = (tm: string, q: number, alt: string) =>
    enc('GN', 'GGA', [tm, '4134.49795459', 'N', '09345.06498', 'W', q, 12, '0.9', alt, 'M', '-30.0', 'M', '', '']);
  for (const [q, st] of [
    [1, 1],
    [2, 2],
    [3, 9],
    [4, 3],
    [5, 4],
    [6, 5],
  ] as const) {
    const [f] = feed([gga('120000.00', q, '100.0')], '2020-03-18');
    t.equal(f?.status, st, `quality ${q} → status ${st}`);
    t.equal(f?.mode, 3);
    t.equal(f?.time, '2020-03-18T12:00:00.000Z');
  }
  const [noFix] = feed([gga('120000.00', 0, '')], '2020-03-18');
  t.equal(noFix?.mode, 1);
  t.equal(noFix?.lat, undefined, 'no position without a fix');
  const [twoD] = feed([gga('120000.00', 1, '')], '2020-03-18');
  t.equal(twoD?.mode, 2, 'GGA without altitude is 2D');
  t.equal(twoD?.accuracy, 0.9 * 15, 'accuracy = hdop × UERE');
  // no reference date: time unknown until RMC gives one
  const [nodate] = feed([gga('120000.00', 1, '5')]);
  t.equal(nodate?.time, undefined);
  // GGA first, RMC of the same epoch gives the date; # Date: comment; midnight rollover
  const fx = feed([
    '# Date: 2010-07-07',
    gga('235959.50', 1, '5'),
    gga('000000.50', 1, '5'),
    enc('GP', 'RMC', ['000001.50', 'A', '3715.6616', 'N', '12157.6709', 'W', '10.0', '90.0', '090710', '', '']),
  ]);
  t.same(
    fx.map((f) => f.time),
    ['2010-07-07T23:59:59.500Z', '2010-07-08T00:00:00.500Z', '2010-07-09T00:00:01.500Z'],
  );
  t.equal(fx[2]?.mode, 3, 'RMC-only epoch after a 3D fix stays 3D (like gpsd)');
  t.ok(Math.abs(fx[2]!.speed! - 5.144444) < 1e-5, 'knots → m/s');
  const asm = new NmeaEpochAssembler();
  asm.setReferenceDate('1900-01-01');
  t.same(asm.push(decodeNmea(gga('120000.00', 1, '5'))), [], 'first sentence opens an epoch');
  t.equal(asm.flush()[0]?.time, undefined, 'out-of-range # Date: ignored');
  t.same(asm.flush(), [], 'flush twice yields nothing');
});

t.test('GSA mode 3 and GST accuracy', async (t) => {
  const [f] = feed([
    enc('GN', 'RMC', ['081411.000', 'A', '5541.1955', 'N', '03737.2872', 'E', '0.60', '301.29', '260514', '', '', 'A']),
    enc('GN', 'GSA', ['A', 3, 3, 19, 27, 13, '', '', '', '', '', '', '', '', '2.75', '2.56', '1.00']),
    enc('GN', 'GST', ['081411.000', '1', '', '', '', '3', '4', '5']),
  ]);
  t.equal(f?.mode, 3);
  t.equal(f?.satellitesUsed, 4);
  t.equal(f?.accuracy, 5);
  t.equal(f?.pdop, 2.75);
});
