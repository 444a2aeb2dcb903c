/**
 * `beepkit doctor --config <agent.yaml|beacon.yaml|wearable data dir> [--json] [--timeout <s>]`: a
 * self-test with verdicts. Exit 0 when every check passes, 1 when any fails, 2 for a usage error or a
 * config that cannot be read (one JSON line {code, message} on stderr).
 */
import { Command, CommanderError } from 'commander';
import { BeepkitError } from '@beepkit/protocol';
import { hostNow } from '@beepkit/protocol/clock';
import { fail } from '@beepkit/device-core/infra/cli';
import type { Check } from './check.ts';
import { doctorAgent, type DoctorOptions } from './run.ts';
import { doctorBeacon, doctorWearable, kindOf } from './kits.ts';

const positive = (v: string, what: string, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new BeepkitError('E_USAGE', `${what}: expected a number of seconds in (0, ${max}], got ${JSON.stringify(v)}`);
  return n;
};

export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const k = await kindOf(o.target);
  if (k.kind === 'wearable') return doctorWearable(o, o.target);
  if (k.kind === 'beacon') return doctorBeacon(o, k.cfg);
  return doctorAgent(o);
}

export function formatChecks(checks: Check[]): string {
  const w = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(w)}  ${c.detail}${c.ok ? '' : `\n     ${' '.repeat(w)}  → ${c.hint}`}`);
  const bad = checks.filter((c) => !c.ok).length;
  return `${lines.join('\n')}\n${bad ? `${bad} of ${checks.length} checks failed` : `all ${checks.length} checks passed`}\n`;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('self-test of a kit with verdicts: radio, gnss, clock, storage, identity, uplink, carer (exit 0 all pass, 1 any fails, 2 usage)')
    .option('-c, --config <path>', "agent.yaml, beacon.yaml, or a wearable's data dir")
    .option('--json', 'print { "checks": [{ name, ok, detail, hint }] }')
    .option('--timeout <s>', 'the whole run finishes within this', '30')
    .option('--ntp <host[:port]>', 'NTP server to compare the clock with ("off": none)', 'pool.ntp.org')
    .option('--max-skew <s>', "the gateway's skew tolerance (its ingest.maxSkewSec)", '300')
    .addHelpText(
      'after',
      '\nWith an agent running on the config, the radio, GNSS and uplink state come from its /status (its controllers are never opened twice).\nSee agent/README.md "Doctor".',
    )
    .exitOverride((err) => {
      throw new CommanderError(err.exitCode === 0 ? 0 : 2, err.code, err.message);
    })
    .action(async (o: { config?: string; json?: boolean; timeout: string; ntp: string; maxSkew: string }) => {
      let checks: Check[];
      try {
        if (!o.config) throw new BeepkitError('E_USAGE', 'doctor: --config <agent.yaml|beacon.yaml|wearable data dir> is required');
        const opts: DoctorOptions = {
          target: o.config,
          timeoutMs: positive(o.timeout, '--timeout', 3600) * 1000,
          skewMs: positive(o.maxSkew, '--max-skew', 86_400) * 1000,
          ...(o.ntp === 'off' ? {} : { ntp: o.ntp }),
          now: hostNow,
          startedAt: 0, // the process's start: start-up time counts
        };
        checks = await runDoctor(opts);
      } catch (e) {
        fail(e);
        process.exit(2);
      }
      process.stdout.write(o.json ? JSON.stringify({ checks }, null, 2) + '\n' : formatChecks(checks));
      // the BLE stacks keep handles of their own alive: leave explicitly, with the verdict
      process.exit(checks.every((c) => c.ok) ? 0 : 1);
    });
}
