/** `beepkit ledger …`: verify, tail, get, proof on a ledger directory (read-only). */
import type { Command } from 'commander';
import { BeepkitError, fromHex } from '@beepkit/protocol';
import { EmbeddedLedger } from './embedded.ts';
import { blockToJson, entryToJson, receiptToJson } from './json.ts';
import { verifyLedgerDir } from './verify.ts';
import { verifyAnchors } from '../anchor/verify.ts';
import { randomBytes } from 'node:crypto';
import { CHAINS, type ChainName } from '@beepkit/protocol/ledger';
import { fail, print } from '@beepkit/device-core/infra/cli';
import { countShards, openShardsReadOnly } from '../solver/shards.ts';

function chainOf(s: string | undefined): ChainName[] {
  if (s === undefined) return [...CHAINS];
  if (!(CHAINS as readonly string[]).includes(s)) throw new BeepkitError('E_CONFIG', `--chain must be one of ${CHAINS.join(', ')}`);
  return [s as ChainName];
}

function hash32(s: string): Uint8Array {
  const b = fromHex(s, 'entry-hash');
  if (b.length !== 32) throw new BeepkitError('E_FORMAT', 'entry-hash: expected 64 hex digits');
  return b;
}

async function withLedger(dir: string, fn: (l: EmbeddedLedger) => Promise<void>): Promise<void> {
  const l = new EmbeddedLedger({ dir, readOnly: true });
  try {
    await l.open();
    await fn(l);
  } catch (err) {
    fail(err);
  } finally {
    await l.close();
  }
}

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('inspect and verify an embedded ledger directory (read-only)');
  ledger
    .command('count')
    .description('batches, records and endorsements on the tracing chain of one or several log shards, each entry hash once (README "Several gateways")')
    .argument('<dirs...>', 'ledger directories, one per gateway process')
    .action(async (dirs: string[]) => {
      try {
        const shards = await openShardsReadOnly(dirs);
        try {
          print(await countShards(shards));
        } finally {
          await Promise.allSettled(shards.map((s) => s.ledger.close()));
        }
      } catch (err) {
        fail(err);
      }
    });
  ledger
    .command('verify')
    .description(
      'check every record checksum, entry hash, block signature and link, Merkle root and signed tree head; exit 0 when valid, 1 with the first problem',
    )
    .argument('<dir>', 'ledger directory (holds ledger.json with the gateway public key)')
    .option('--anchor <rpc-url>', 'also check every tree head this gateway anchored on the EVM chain (signature, RFC 9162 consistency with the local log)')
    .option('--contract <address>', 'the AnchorRegistry address (with --anchor)')
    .action(async (dir: string, o: { anchor?: string; contract?: string }) => {
      try {
        if (o.anchor !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(o.contract ?? ''))
          throw new BeepkitError('E_CONFIG', '--anchor needs --contract <0x + 40 hex digits>');
        const rep = verifyLedgerDir(dir);
        if (!rep.ok) {
          process.stderr.write(`ledger invalid: ${rep.problem}\n`);
          process.exitCode = 1;
          return;
        }
        if (o.anchor === undefined) return print({ ok: true, chains: rep.chains });
        const a = await verifyAnchors(dir, o.anchor, o.contract as `0x${string}`, new Uint8Array(randomBytes(32)));
        if (a.ok) print({ ok: true, chains: rep.chains, anchors: a.anchors, newestAnchored: a.newest, local: a.local });
        else {
          process.stderr.write(`anchors invalid: ${a.problem}\n`);
          process.exitCode = 1;
        }
      } catch (err) {
        fail(err);
      }
    });
  ledger
    .command('tail')
    .description('print the last blocks of a chain as JSON')
    .argument('<dir>', 'ledger directory')
    .option('--chain <name>', `chain: ${CHAINS.join(' | ')}`, 'tracing')
    .option('-n, --count <n>', 'number of blocks', '10')
    .action((dir: string, o: { chain: string; count: string }) =>
      withLedger(dir, async (l) => {
        const [chain] = chainOf(o.chain);
        const n = Number(o.count);
        if (!Number.isInteger(n) || n < 1) throw new BeepkitError('E_CONFIG', '-n must be a positive integer');
        const tail = await l.tail(chain);
        const from = tail ? Math.max(0, tail.header.height - n + 1) : 0;
        print((await l.blocks(chain, from, n)).map(blockToJson));
      }),
    );
  ledger
    .command('get')
    .description('print the entry with this hash as JSON (exit 1 when absent)')
    .argument('<dir>', 'ledger directory')
    .argument('<entry-hash>', 'entry hash, 64 hex digits (SHA-256(0x00 || data))')
    .option('--chain <name>', `chain: ${CHAINS.join(' | ')} (default: both)`)
    .action((dir: string, hex: string, o: { chain?: string }) =>
      withLedger(dir, async (l) => {
        const h = hash32(hex);
        for (const c of chainOf(o.chain)) {
          const e = await l.get(c, h);
          if (e) return print(entryToJson(e));
        }
        process.stderr.write('entry not found\n');
        process.exitCode = 1;
      }),
    );
  ledger
    .command('proof')
    .description('print the receipt (inclusion proof against the latest signed tree head) as JSON (exit 1 when absent)')
    .argument('<dir>', 'ledger directory')
    .argument('<entry-hash>', 'entry hash, 64 hex digits')
    .option('--chain <name>', `chain: ${CHAINS.join(' | ')} (default: both)`)
    .option('--tree-size <n>', 'prove against the tree head of this size (a block boundary)')
    .action((dir: string, hex: string, o: { chain?: string; treeSize?: string }) =>
      withLedger(dir, async (l) => {
        const h = hash32(hex);
        const size = o.treeSize === undefined ? undefined : Number(o.treeSize);
        for (const c of chainOf(o.chain)) {
          const r = await l.proof(c, h, size);
          if (r) return print(receiptToJson(r));
        }
        process.stderr.write('entry not found\n');
        process.exitCode = 1;
      }),
    );
}
