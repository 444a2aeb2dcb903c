import t from 'tap';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { loadModelTable, parseModelTable, deviceCalibration, DEFAULT_TABLE_FILE } from '@beepkit/device-core/rssi';
import { resolveConfig } from '../src/config/index.ts';
import { readUnitCalibration, receiverCalibration, writeUnitCalibration } from '../src/app/calibration.ts';

t.test('the shipped table: version, size, attribution beside it', async (t) => {
  const table = loadModelTable();
  t.equal(table.version, '2020-12-14');
  t.equal(table.size, 551);
  for (const f of ['NOTICE.md', 'PROVENANCE.txt', 'LICENSES/CC-BY-4.0.txt', 'LICENSES/Apache-2.0.txt']) t.ok(existsSync(new URL(f, DEFAULT_TABLE_FILE)), f);
});

t.test('lookup by model, then device, then OEM median, then table median', async (t) => {
  const table = loadModelTable();
  t.match(table.lookup('Pixel 3'), { rssiCorrection: 5, txPower: -33, source: 'model' });
  t.match(table.lookup('sm-g965f'), { rssiCorrection: 8, txPower: -27, source: 'model' }, 'case-insensitive');
  t.match(table.lookup('blueline'), { rssiCorrection: 5, txPower: -33, source: 'device', name: 'Pixel 3' });
  t.match(table.lookup('oneplus Nord N10'), { source: 'oem', name: 'oneplus' });
  t.match(table.lookup('rpi4-nrf52840'), { rssiCorrection: 4, txPower: -26, source: 'fallback', name: 'median' });
  t.match(table.lookup(undefined), { source: 'fallback' });
});

t.test('EN attenuation: TX of the transmitter model minus (RSSI + receiver correction)', async (t) => {
  const rx = deviceCalibration({ model: 'Pixel 3', unitCorrection: 1.5 });
  const tx = deviceCalibration({ model: 'SM-G965F' });
  t.equal(rx.rssiCorrection, 6.5);
  t.equal(tx.txPower, -27);
  t.equal(tx.txPower - (-70 + rx.rssiCorrection), 36.5);
  t.match(deviceCalibration({}), { rssiCorrection: 0, txPower: -8 }, 'no model: no correction, -8 dBm');
});

t.test('a bad table is E_CALIBRATION with its line', async (t) => {
  t.throws(() => parseModelTable('model,rssi_correction_db\nx,1\n', 'v'), { code: 'E_CALIBRATION', message: /tx_power_correction_db/ });
  t.throws(() => parseModelTable('model,rssi_correction_db,tx_power_correction_db\nx,1,\n', 'v'), { code: 'E_CALIBRATION', message: /line 2/ });
  t.throws(() => loadModelTable('/nonexistent/table.csv'), BeepkitError);
});

t.test('config radio.model: the AEM announces the model TX power; an explicit txPower wins; another table version', async (t) => {
  t.equal(resolveConfig({ radio: { model: 'Pixel 3' } }).radio.txPower, -33);
  t.equal(resolveConfig({ radio: { model: 'Pixel 3', txPower: -10 } }).radio.txPower, -10);
  t.equal(resolveConfig({}).radio.txPower, -8);
  const dir = mkdtempSync(join(tmpdir(), 'bk-cal-'));
  writeFileSync(join(dir, 'en-calibration-2021-06-01.csv'), 'model,rssi_correction_db,tx_power_correction_db\nPixel 3,1,-20\n');
  const cfg = resolveConfig({ dataDir: dir, radio: { model: 'Pixel 3', calibrationTable: 'en-calibration-2021-06-01.csv' } }, {}, dir);
  t.equal(cfg.radio.txPower, -20);
  t.match(receiverCalibration(cfg), { rssiCorrection: 1, tableVersion: '2021-06-01' });
  t.throws(() => resolveConfig({ radio: { model: 'x', calibrationTable: '/nonexistent.csv' } }), { code: 'E_CONFIG', message: /radio.calibrationTable/ });
});

t.test('the unit file of `agent calibrate` adds on top of the model and wins over radio.rssiCorrection', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bk-unit-'));
  const cfg = resolveConfig({ dataDir: dir, radio: { model: 'Pixel 3', rssiCorrection: 2 } });
  t.equal(receiverCalibration(cfg, await readUnitCalibration(dir)).rssiCorrection, 7, 'no file: config unit correction');
  await writeUnitCalibration(dir, {
    unitCorrection: -3.5,
    model: 'Pixel 3',
    tableVersion: '2020-12-14',
    medianRssi: -60,
    spreadDb: 1,
    samples: 60,
    expectedRssiAt1m: -59,
    at: 0,
  });
  t.equal(receiverCalibration(cfg, await readUnitCalibration(dir)).rssiCorrection, 1.5);
  writeFileSync(join(dir, 'calibration.json'), '{"unitCorrection":"x"}');
  await t.rejects(readUnitCalibration(dir), { code: 'E_CONFIG' });
});
