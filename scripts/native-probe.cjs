#!/usr/bin/env node
// The kit's native modules on this CPU, from an installed beepkit package (no tsx, plain CommonJS, so
// it runs on any Node the kit supports, emulated or not):
//   node scripts/native-probe.cjs <installed package dir> <pty A> <pty B>
// Loads the prebuilt binaries of serialport's bindings and of @stoprocent/bluetooth-hci-socket (its raw
// HCI socket binding, and its UART driver's own serialport), then opens a PTY pair (made by the caller,
// e.g. `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`): the HCI UART driver on B sends HCI Reset,
// serialport on A plays the controller and answers Command Complete, and the driver reports the
// controller up. Prints one JSON line per check and exits 0 when all pass (scripts/ci-arm.sh).
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: runs on any Node, no loader */
/* global require */
const { Buffer } = require('node:buffer');
const process = require('node:process');
const { clearTimeout, setTimeout } = require('node:timers');
const { createRequire } = require('node:module');
const { dirname, join, relative } = require('node:path');

const [pkgDir, ptyA, ptyB] = process.argv.slice(2);
if (!pkgDir || !ptyA || !ptyB) {
  process.stderr.write('usage: native-probe.cjs <installed package dir> <pty A> <pty B>\n');
  process.exit(64);
}
const req = createRequire(join(pkgDir, 'package.json'));
let failed = 0;
const report = (check, ok, detail) => {
  if (!ok) failed++;
  process.stdout.write(JSON.stringify({ check, ok, detail }) + '\n');
};

/** The prebuild node-gyp-build picks for the package (the file it loads) and whether it loads. */
function prebuild(name, from = req) {
  const dir = dirname(from.resolve(`${name}/package.json`));
  const gyp = createRequire(join(dir, 'package.json'))('node-gyp-build');
  try {
    const file = gyp.resolve(dir);
    gyp(dir);
    report(`prebuild ${name}`, true, relative(dir, file));
  } catch (err) {
    report(`prebuild ${name}`, false, String(err.message).split('\n')[0]);
  }
  return dir;
}

const info = { node: process.version, arch: process.arch, armVersion: process.config.variables.arm_version ?? null };
process.stdout.write(JSON.stringify({ check: 'platform', ok: true, detail: info }) + '\n');
prebuild('@serialport/bindings-cpp');
const hciDir = prebuild('@stoprocent/bluetooth-hci-socket');
// the HCI socket's UART driver has a serialport of its own (a nested major version)
const hciReq = createRequire(join(hciDir, 'package.json'));
prebuild('@serialport/bindings-cpp', createRequire(hciReq.resolve('serialport')));

const { SerialPort } = req('serialport');
const Uart = req('@stoprocent/bluetooth-hci-socket').loadDriver('uart');
const controller = new SerialPort({ path: ptyA, baudRate: 1000000, autoOpen: false });
const host = new Uart();
const deadline = setTimeout(() => {
  report('hci uart over a pty', false, 'no controller-up within 20 s');
  process.exit(1);
}, 20_000);
controller.open((err) => {
  if (err) {
    report('serialport opens a pty', false, err.message);
    process.exit(1);
  }
  report('serialport opens a pty', true, ptyA);
  controller.on('data', (d) => {
    // HCI Reset (01 03 0c 00) from the host → Command Complete, status 0
    if (d.includes(Buffer.from('01030c00', 'hex'))) controller.write(Buffer.from('040e0401030c00', 'hex'));
  });
  host.on('error', (e) => report('hci uart opens a pty', false, e.message));
  host.on('state', (up) => {
    if (!up) return;
    clearTimeout(deadline);
    report('hci uart over a pty: reset answered, controller up', true, ptyB);
    host.stop();
    controller.close(() => process.exit(failed ? 1 : 0));
  });
  host.bindRaw(null, { uart: { port: ptyB, baudRate: 1000000 } });
  host.start();
});
