/**
 * The Radio contract (radio-contract.ts) on the real HciRadio: each radio a child process (child-radio.ts) with
 * noble and bleno on two VirtualControllers of one Air (UART HCI over PTYs).
 */
import t from 'tap';
import { Air } from '@beepkit/firmware-stubs/air';
import { VirtualController } from '@beepkit/firmware-stubs/hci';
import { ChildRadio } from './fixtures/child-radio.ts';
import { radioContract } from './radio-contract.ts';

radioContract(t, 'HciRadio over virtual controllers', async () => {
  const air = new Air({ seed: 16 });
  const controllers = [0, 1, 2, 3].map(
    (i) => new VirtualController({ air, address: `0a:00:00:00:16:0${i}`, position: { x: i < 2 ? 0 : 1.5, y: i % 2 ? 0.3 : 0 } }),
  );
  for (const c of controllers) c.start();
  const radio = new ChildRadio({ scanner: controllers[0].path, advertiser: controllers[1].path });
  const peer = new ChildRadio({ scanner: controllers[2].path, advertiser: controllers[3].path });
  return {
    radio,
    peer,
    waitMs: 30_000,
    close: async () => {
      radio.kill();
      peer.kill();
      await Promise.all([radio.exited, peer.exited]);
      for (const c of controllers) c.stop();
      air.stop();
    },
  };
});
