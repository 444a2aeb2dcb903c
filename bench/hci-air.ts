/**
 * hci-air: 40 real hosts (20 bleno advertising every 100 ms + 20 noble
 * scanning with duplicates) on 40 virtual controllers and one simulated air.
 * Measures discover events per second, loss against the model's expectation,
 * and the CPU share / memory of the air process and of the hosts' process.
 * Full run: one 60 s window (the scenario is long, so it is not repeated);
 * smoke: 5 s.
 */
import { summarise, goal, type Bench } from './lib.ts';
import { runLoad } from '@beepkit/firmware-stubs/testing';

const bench: Bench = {
  name: 'hci-air',
  description: '40 noble/bleno hosts on virtual HCI controllers sharing one air',
  async run(ctx) {
    const seconds = ctx.smoke ? 5 : 60;
    const r = await runLoad({ pairs: 20, seconds, advIntervalMs: 100, log: ctx.log });
    ctx.log(JSON.stringify(r));
    const m = (v: number, unit: string) => summarise([v], unit);
    return {
      metrics: {
        discoversPerSec: m(r.discoversPerSec, 'discover/s'),
        expectedPerSec: m(r.expectedPerSec, 'discover/s'),
        lossVsModel: m(r.loss, 'ratio'),
        airCpuShare: m(r.airCpuShare, 'cores'),
        hostCpuShare: m(r.hostCpuShare, 'cores'),
        airRssMB: m(r.airRssMB, 'MiB'),
        hostRssMB: m(r.hostRssMB, 'MiB'),
        startupMs: m(r.startupMs, 'ms'),
      },
      goals: {
        discoversPerSec: goal(r.discoversPerSec, '>=', 2000),
        lossVsModel: goal(r.loss, '<=', 0.2),
        airCpuShare: goal(r.airCpuShare, '<=', 0.5),
      },
      notes: [`${r.hosts} hosts, ${seconds} s window, every noble saw ${r.minSeen} of 20 bleno; hciErrors=${r.hciErrors}, droppedEvents=${r.droppedEvents}`],
    };
  },
};
export default bench;
