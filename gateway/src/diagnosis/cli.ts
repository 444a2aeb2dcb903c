/**
 * `beepkit diagnose challenge|verify|endorse`: the diagnostician's steps as
 * JSON files in and out. `endorse` writes the entries it produced (tracing:
 * the endorsement record; notification: TEKs and venue exposures, hex) and,
 * with --ledger and --ledger-key, appends them itself.
 */
import type { Command } from 'commander';
import { fromHex, toHex } from '@beepkit/protocol/bytes';
import { recordHash } from '@beepkit/protocol/tracecode';
import { EmbeddedLedger, ed25519Signer } from '../ledger/index.ts';
import type { AppendInput, AppendResult } from '../ledger/types.ts';
import { emit, guard, readBytes, readJson } from '../solver/cli-util.ts';
import { Diagnostician } from './diagnostician.ts';
import { challengeToJson, consentFromJson } from './json.ts';
import { hostNow } from '@beepkit/protocol/clock';

interface KeyOpts {
  key: string;
  cert: string;
  ca: string;
  out?: string;
}

function diagnostician(o: KeyOpts, capture: { tracing: string[]; notification: string[] }, ttl?: number): Diagnostician {
  const append = async (_chain: string, entries: AppendInput[]): Promise<AppendResult[]> => {
    capture.tracing.push(...entries.map((e) => toHex(e.data)));
    return entries.map(() => ({ chain: 'tracing', entryHash: new Uint8Array(32), leafIndex: -1, blockHeight: -1, inclusionProof: [], sth: undefined as never }));
  };
  return new Diagnostician({
    signingSeed: readBytes(o.key, 'diagnostician key', 32),
    certificate: readBytes(o.cert, 'diagnostician certificate'),
    caPub: readBytes(o.ca, 'CA public key', 32),
    ledger: { append },
    sink: { publish: async (e) => void capture.notification.push(...e.map(toHex)) },
    requireIssued: false,
    challengeTtlSeconds: ttl,
    now: hostNow,
  });
}

export function registerDiagnose(program: Command): void {
  const d = program.command('diagnose').description('diagnostician: challenge, verify a consent, endorse');
  const keyed = (c: Command) =>
    c
      .requiredOption('--key <file>', 'diagnostician Ed25519 seed (raw or hex)')
      .requiredOption('--cert <file>', 'its CA certificate (hex), role diagnostician')
      .requiredOption('--ca <hex|file>', 'CA public key')
      .option('--out <file>', 'write JSON here instead of stdout');
  keyed(d.command('challenge').description('issue a challenge for the patient agent'))
    .option('--ttl <s>', 'validity in seconds', '900')
    .action((o: KeyOpts & { ttl: string }) => guard(() => emit(challengeToJson(diagnostician(o, { tracing: [], notification: [] }, Number(o.ttl)).challenge()), o.out)));
  keyed(d.command('verify').description('verify a consent bundle (signatures, freshness, window)').argument('<consent.json>'))
    .action((file: string, o: KeyOpts) =>
      guard(() => {
        const c = consentFromJson(readJson(file));
        diagnostician(o, { tracing: [], notification: [] }).verify(c);
        emit({ ok: true, days: c.days.map((x) => x.day), teks: c.teks.length, visits: c.visits.length }, o.out);
      }),
    );
  keyed(d.command('endorse').description('endorse a verified consent').argument('<consent.json>'))
    .option('--ledger <dir>', 'append to this ledger directory (gateway stopped)')
    .option('--ledger-key <file>', 'gateway Ed25519 seed for --ledger')
    .action((file: string, o: KeyOpts & { ledger?: string; ledgerKey?: string }) =>
      guard(async () => {
        const capture = { tracing: [] as string[], notification: [] as string[] };
        await diagnostician(o, capture).endorse(consentFromJson(readJson(file)));
        if (o.ledger && o.ledgerKey) {
          const l = new EmbeddedLedger({ dir: o.ledger, signer: ed25519Signer(readBytes(o.ledgerKey, 'ledger key', 32)), now: hostNow });
          await l.open();
          try {
            await l.append('tracing', capture.tracing.map((h) => ({ data: fromHex(h), keys: [recordHash(fromHex(h))] })));
            if (capture.notification.length) await l.append('notification', capture.notification.map((h) => ({ data: fromHex(h) })));
          } finally {
            await l.close();
          }
        }
        emit({ type: 'beepkit-endorsement', ...capture }, o.out);
      }),
    );
}
