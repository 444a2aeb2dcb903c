import t from 'tap';
import { hciBindingOptions, hciTarget } from '@beepkit/device-core/radio';

// the one place noble/bleno binding options are built (the agent's radio, the GATT central, the wearable)
t.test('hciBindingOptions: UART with and without a baud rate, a native HCI index', async (t) => {
  t.same(hciBindingOptions({ uart: '/dev/ttyX' }), { hciDriver: 'uart', bindParams: { uart: { port: '/dev/ttyX' } } });
  t.same(hciBindingOptions({ uart: '/dev/ttyX', baudRate: 1_000_000 }), {
    hciDriver: 'uart',
    bindParams: { uart: { port: '/dev/ttyX', baudRate: 1_000_000 } },
  });
  t.same(hciBindingOptions({ hciIndex: 1 }), { hciDriver: 'native', deviceId: 1 });
});

t.test('hciTarget: one reading of a config section or CLI options, the baud rate kept, bad numbers E_CONFIG', async (t) => {
  t.same(hciTarget({ uart: '/dev/ttyX', baudRate: 1_000_000 }), { uart: '/dev/ttyX', baudRate: 1_000_000 });
  t.same(hciTarget({ uart: '/dev/ttyX', baudRate: '115200' }), { uart: '/dev/ttyX', baudRate: 115_200 }, 'a CLI string');
  t.same(hciTarget({ uart: '/dev/ttyX' }), { uart: '/dev/ttyX' });
  t.same(hciTarget({ index: '1' }), { hciIndex: 1 });
  t.same(hciTarget(undefined), { hciIndex: 0 });
  t.same(hciBindingOptions(hciTarget({ uart: '/dev/ttyX', baudRate: 9600 })), {
    hciDriver: 'uart',
    bindParams: { uart: { port: '/dev/ttyX', baudRate: 9600 } },
  });
  t.throws(() => hciTarget({ uart: '/dev/ttyX', baudRate: 'fast' }), { code: 'E_CONFIG', message: /hci baudRate/ });
  t.throws(() => hciTarget({ index: -1 }, 'scan controller'), { code: 'E_CONFIG', message: /scan controller index/ });
});
