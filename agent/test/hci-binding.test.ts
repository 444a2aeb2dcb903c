import t from 'tap';
import { hciBindingOptions } from '@beepkit/agent/radio';

// the one place noble/bleno binding options are built (the agent's radio, the GATT central, the wearable)
t.test('hciBindingOptions: UART with and without a baud rate, a native HCI index', async (t) => {
  t.same(hciBindingOptions({ uart: '/dev/ttyX' }), { hciDriver: 'uart', bindParams: { uart: { port: '/dev/ttyX' } } });
  t.same(hciBindingOptions({ uart: '/dev/ttyX', baudRate: 1_000_000 }), { hciDriver: 'uart', bindParams: { uart: { port: '/dev/ttyX', baudRate: 1_000_000 } } });
  t.same(hciBindingOptions({ hciIndex: 1 }), { hciDriver: 'native', deviceId: 1 });
});
