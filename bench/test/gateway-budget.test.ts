/** The CPU budget the gateway-ingest bench reports beside the TraceCodes/s goal (day28_gateway_cpu_budget_us). */
import t from 'tap';
import { budgetUs } from '../gateway-ingest.ts';

t.test('budget: cores x 1 s per (100 000 / 28) messages, less the agents and mosquitto', async (t) => {
  // 2 cores: 2e6 µs / 3 571.4 msg = 560 µs a message, less 150 + 80
  t.equal(Math.round(budgetUs({ self: 999, gen: 150, broker: 80 }, 2)), 330);
  t.equal(Math.round(budgetUs({ self: 0, gen: 0, broker: 0 }, 4)), 1120, 'scales with the cores; the gateway own CPU is not an input');
  t.ok(budgetUs({ self: 0, gen: 400, broker: 200 }, 2) < 0, 'agents and broker alone past the budget: negative, the goal out of reach on that box');
});
