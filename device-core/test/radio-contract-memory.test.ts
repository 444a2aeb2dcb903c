/** The Radio contract (radio-contract.ts) on MemoryRadio: two radios on one MemoryAir. */
import t from 'tap';
import { MemoryAir, MemoryRadio } from '../src/radio/index.ts';
import { radioContract } from './radio-contract.ts';

radioContract(t, 'MemoryRadio', async () => {
  const air = new MemoryAir({ rssi: -55, intervalMs: 5 });
  return { radio: new MemoryRadio({ air }), peer: new MemoryRadio({ air }), waitMs: 5_000, close: async () => {} };
});
