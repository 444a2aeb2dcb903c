/**
 * forgetStalePeers (radio/noble-port.ts): noble 2.8 never empties its per-address caches, so the radio
 * forgets the peers it has not heard for a while. Against noble's own cleanup method and maps: a noble
 * instance of the installed package (the real `_createPeripheral` / `_cleanupPeriperals`) with its HCI
 * bindings and GAP replaced by plain objects of their shape (the layer below, never opened).
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { forgetStalePeers } from '../src/radio/noble-port.ts';

const require = createRequire(import.meta.url);
const NobleClass = require('@stoprocent/noble/lib/noble.js');

function fakeNoble(): any {
  const bindings = Object.assign(new (require('node:events').EventEmitter)(), {
    _addresses: {} as Record<string, string>,
    _addresseTypes: {} as Record<string, string>,
    _connectable: {} as Record<string, boolean>,
    scannable: {} as Record<string, boolean>,
    _gap: { _discoveries: {} as Record<string, unknown> },
  });
  const noble = new NobleClass(bindings);
  return noble;
}

function hear(noble: any, address: string): void {
  const uuid = address.replace(/:/g, '');
  noble._bindings._addresses[uuid] = address;
  noble._bindings._addresseTypes[uuid] = 'random';
  noble._bindings._connectable[uuid] = false;
  noble._bindings.scannable[uuid] = false;
  noble._bindings._gap._discoveries[address] = { address };
  noble._createPeripheral(uuid, address, 'random', false, {}, -60, false);
  noble._discoveredPeripherals.add(uuid);
}

t.test('peers not heard since the cut-off leave every cache; recent and connected ones stay', async (t) => {
  const noble = fakeNoble();
  const heard = new Map<string, number>();
  const addrs = Array.from({ length: 50 }, (_, i) => `c0:00:00:00:00:${i.toString(16).padStart(2, '0')}`);
  addrs.forEach((a, i) => {
    hear(noble, a);
    heard.set(a, i * 1000);
  });
  // one old peer is connected (the carer's GATT link): kept
  noble._peripherals.get(addrs[3].replace(/:/g, '')).state = 'connected';
  const n = forgetStalePeers(noble, heard, 30_000);
  t.equal(n, 29, 'the 30 peers heard before 30 s, but the connected one');
  const kept = [...noble._peripherals.keys()].sort();
  t.same(kept, [addrs[3], ...addrs.slice(30)].map((a) => a.replace(/:/g, '')).sort());
  t.equal(Object.keys(noble._services).length, 21);
  t.equal(Object.keys(noble._characteristics).length, 21);
  t.equal(Object.keys(noble._descriptors).length, 21);
  t.equal(noble._discoveredPeripherals.size, 21);
  t.equal(Object.keys(noble._bindings._addresses).length, 21);
  t.equal(Object.keys(noble._bindings._addresseTypes).length, 21);
  t.equal(Object.keys(noble._bindings._gap._discoveries).length, 20, 'the GAP entry of the connected peer goes (it is not a peripheral map)');
  t.equal(heard.size, 20, 'the stale heard entries go too');
  t.equal(forgetStalePeers(noble, heard, 30_000), 0, 'idempotent');
  // heard again after being forgotten: noble makes a fresh peripheral
  hear(noble, addrs[0]);
  heard.set(addrs[0], 60_000);
  t.equal(forgetStalePeers(noble, heard, 30_000), 0);
  t.ok(noble._peripherals.has(addrs[0].replace(/:/g, '')));
});

t.test('no noble (an advertiser-only radio) or missing maps: nothing to do', async (t) => {
  t.equal(forgetStalePeers(null, new Map(), 0), 0);
  t.equal(forgetStalePeers({ _peripherals: new Map(), _bindings: {} }, new Map([['a', 1]]), 10), 0);
});
