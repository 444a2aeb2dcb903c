/**
 * `beepkit solver run`: streams the tracing chain of a ledger directory and
 * publishes exposure notices. With --ledger-key it appends them to the
 * notification chain itself (gateway stopped); without, the ledger is opened
 * read-only and the notices are printed as JSON lines, or with --broker sent to
 * the running gateway (NotificationSubmit; the user listed in feed.publishers).
 * Also registers the diagnose, venue and risk commands (registerSolving).
 */
import type { Command } from 'commander';
import { toHex } from '@beepkit/protocol/bytes';
import { decodeNotificationEntry } from '@beepkit/protocol/endorse';
import { EmbeddedLedger, ed25519Signer } from '../ledger/index.ts';
import { registerDiagnose } from '../diagnosis/cli.ts';
import { registerVenue } from '../venues/cli.ts';
import { registerRisk } from '../riskfit/cli.ts';
import { Solver } from './solver.ts';
import { openShardsReadOnly } from './shards.ts';
import { ledgerNotificationSink, ledgerTracingSource, type NotificationSink } from './source.ts';
import { guard, readBytes, readJson } from './cli-util.ts';
import { brokerOptions, gatewayRequest, type BrokerOpts } from '../app/ops-client.ts';
import { BeepkitError } from '@beepkit/protocol';
import { hostNow } from '@beepkit/protocol/clock';

interface RunOpts extends BrokerOpts {
  ledger: string;
  key: string;
  ca: string;
  state: string;
  ledgerKey?: string;
  rules?: string;
  follow?: boolean;
  poll: string;
  trustLedger?: boolean;
  shard: string[];
}

export function registerSolver(program: Command): void {
  const run = program.command('solver').description('the contact-tracing solver').command('run');
  brokerOptions(run)
    .description('decrypt and index the tracing chain, match endorsements, publish fingerprints with risk levels')
    .requiredOption('--ledger <dir>', 'ledger directory')
    .requiredOption('--key <file>', 'solver X25519 private key (32 bytes raw or hex; the gateway creates it in its data dir)')
    .requiredOption('--ca <hex|file>', 'CA Ed25519 public key')
    .requiredOption('--state <file>', 'cursor + dedup state file (created if missing)')
    .option('--ledger-key <file>', 'gateway Ed25519 seed: append notices to the notification chain (only while the gateway is stopped)')
    .option('--rules <file>', 'JSON match rules {highRadiusM, highMinutes, lowRadiusM, lowGapMinutes, venueRisk, venueHighMinutes}')
    .option('--follow', 'keep following the chain')
    .option('--trust-ledger', 'do not re-verify batch signatures/certificates (the gateway verified them before appending; ~5x faster rebuild)')
    .option('--poll <ms>', 'follow poll interval', '2000')
    .option(
      '--shard <dir>',
      "another gateway's ledger directory (several gateways: repeat per shard; read-only, batches only)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action((o: RunOpts) =>
      guard(async () => {
        if (o.ledgerKey && o.broker) throw new BeepkitError('E_CONFIG', 'either --ledger-key (gateway stopped) or --broker (gateway running), not both');
        const ledger = new EmbeddedLedger(
          o.ledgerKey ? { dir: o.ledger, signer: ed25519Signer(readBytes(o.ledgerKey, 'ledger key', 32)), now: hostNow } : { dir: o.ledger, readOnly: true },
        );
        await ledger.open();
        const shards = await openShardsReadOnly(o.shard).catch(async (e: unknown) => {
          await ledger.close();
          throw e;
        });
        const print: NotificationSink = {
          publish: async (entries) => {
            for (const e of entries) {
              const n = decodeNotificationEntry(e);
              process.stdout.write(
                JSON.stringify({
                  hex: toHex(e),
                  ...(n.type === 'exposure' ? { type: n.type, fingerprint: toHex(n.fingerprint), risk: n.risk, day: n.day } : { type: n.type }),
                }) + '\n',
              );
            }
          },
        };
        const solver = new Solver({
          source: ledgerTracingSource(ledger),
          shards: shards.map((s) => ledgerTracingSource(s.ledger)),
          sink: o.ledgerKey ? ledgerNotificationSink(ledger) : o.broker ? brokerSink(o) : print,
          solverKey: readBytes(o.key, 'solver key', 32),
          caPub: readBytes(o.ca, 'CA public key', 32),
          stateFile: o.state,
          rules: o.rules ? (readJson(o.rules) as object) : undefined,
          pollMs: Number(o.poll),
          verifyBatches: !o.trustLedger,
          now: hostNow,
        });
        try {
          if (o.follow) {
            solver.start();
            await new Promise<void>((res) => process.once('SIGINT', () => res()).once('SIGTERM', () => res()));
            await solver.stop();
          } else {
            solver.open();
            await solver.catchUp();
          }
          process.stderr.write(JSON.stringify(solver.stats) + '\n');
        } finally {
          await Promise.allSettled(shards.map((s) => s.ledger.close()));
          await ledger.close();
        }
      }),
    );
}

/** Notices into the running gateway (NotificationSubmit; the --username must be in its feed.publishers). */
function brokerSink(o: BrokerOpts): NotificationSink {
  return {
    publish: async (entries) => {
      for (let k = 0; k < entries.length; k += 256)
        await gatewayRequest(o, 'notification-submit', { type: 'notification-submit', entries: entries.slice(k, k + 256) });
    },
  };
}

/** Every command of the diagnosis-and-solving area. */
export function registerSolving(program: Command): void {
  registerSolver(program);
  registerDiagnose(program);
  registerVenue(program);
  registerRisk(program);
}
