/**
 * The embedded ledger: two chains (tracing, notification) of signed blocks in
 * segment files under `dir`, one RFC 9162 tree per chain, group commit.
 * See gateway/README.md, section "Ledger".
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError, fromHex, toHex } from '@beepkit/protocol';
import { keyIdOf } from '@beepkit/protocol/merkle';
import type { SignedTreeHead } from '@beepkit/protocol/merkle';
import { Chain } from './chain.ts';
import { fsyncDir } from './segment.ts';
import { META_FILE, readMeta, verifyLedgerDir, type LedgerMeta } from './verify.ts';
import { CHAINS, type Block, type ChainName } from '@beepkit/protocol/ledger';
import type { AppendInput, AppendResult, Ledger, LedgerEntry, Logger, Receipt, Signer, VerifyReport } from './types.ts';

interface LedgerBaseOptions {
  dir: string;
  /** The gateway key; required unless `readOnly`. */
  signer?: Signer;
  /** Open without a key and without writing (no torn-tail truncation; append throws E_STATE). */
  readOnly?: boolean;
  logger?: Logger;
  /** Coalesce concurrent appends into one block + one fsync (default true). */
  groupCommit?: boolean;
  /** Upper bound of entries per block (default 8192). */
  maxBlockEntries?: number;
  /** Segment file size that triggers a new segment (default 64 MiB). */
  segmentBytes?: number;
}

/** A writable ledger stamps block times with `now` (the gateway's clock: host or scenario); a read-only one needs none. */
export type EmbeddedLedgerOptions = LedgerBaseOptions & ({ readOnly: true; now?: () => number } | { readOnly?: false; now: () => number });

const refuseClock = (): number => {
  throw new BeepkitError('E_STATE', 'a read-only ledger has no clock');
};
const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export class EmbeddedLedger implements Ledger {
  private chains: Map<ChainName, Chain> | undefined;

  constructor(private readonly o: EmbeddedLedgerOptions) {}

  async open(): Promise<void> {
    if (this.chains) return;
    const { dir, readOnly = false } = this.o;
    const signer = readOnly ? readOnlySigner(dir) : this.o.signer;
    if (!signer) throw new BeepkitError('E_CONFIG', 'a writable ledger needs a signer');
    mkdirSync(dir, { recursive: true });
    const pub = toHex(signer.publicKey);
    if (existsSync(join(dir, META_FILE))) {
      if (readMeta(dir).publicKey !== pub) throw new BeepkitError('E_KEY', `${dir} was created with another gateway key`);
    } else {
      const meta: LedgerMeta = { format: 1, publicKey: pub, keyId: toHex(keyIdOf(signer.publicKey)) };
      writeFileSync(join(dir, META_FILE + '.tmp'), JSON.stringify(meta, null, 2) + '\n', { flush: true });
      renameSync(join(dir, META_FILE + '.tmp'), join(dir, META_FILE));
      fsyncDir(dir);
    }
    const chains = new Map<ChainName, Chain>();
    for (const name of CHAINS) {
      const c = new Chain({
        dir,
        name,
        signer,
        readOnly,
        logger: this.o.logger ?? silent,
        now: this.o.now ?? refuseClock,
        groupCommit: this.o.groupCommit ?? true,
        maxBlockEntries: this.o.maxBlockEntries ?? 8192,
        segmentBytes: this.o.segmentBytes ?? 64 * 2 ** 20,
      });
      await c.open();
      chains.set(name, c);
    }
    this.chains = chains;
  }

  async close(): Promise<void> {
    const chains = this.chains;
    this.chains = undefined;
    for (const c of chains?.values() ?? []) await c.close();
  }

  private chain(name: ChainName): Chain {
    if (!this.chains) throw new BeepkitError('E_STATE', 'ledger is not open');
    const c = this.chains.get(name);
    if (!c) throw new BeepkitError('E_RANGE', `unknown chain ${String(name)}`);
    return c;
  }

  async append(chain: ChainName, entries: AppendInput[]): Promise<AppendResult[]> {
    return this.chain(chain).append(entries);
  }

  async get(chain: ChainName, entryHash: Uint8Array): Promise<LedgerEntry | undefined> {
    const c = this.chain(chain);
    const leaf = c.findLeaf(entryHash);
    return leaf < 0 ? undefined : c.entry(leaf);
  }

  async getByKey(chain: ChainName, key: Uint8Array): Promise<LedgerEntry | undefined> {
    const c = this.chain(chain);
    const leaf = c.findKey(key);
    return leaf < 0 ? undefined : c.entry(leaf);
  }

  async proof(chain: ChainName, entryHash: Uint8Array, treeSize?: number): Promise<Receipt | undefined> {
    const c = this.chain(chain);
    const leaf = c.findLeaf(entryHash);
    if (leaf < 0) return undefined;
    const at = c.sthAt(treeSize);
    if (!at || leaf >= at.sth.treeSize) throw new BeepkitError('E_RANGE', `entry ${leaf} is not in the tree of size ${treeSize}`);
    return c.receipt(leaf, at.sth, c.blockOfLeaf(leaf));
  }

  async sth(chain: ChainName): Promise<SignedTreeHead | undefined> {
    return this.chain(chain).sthAt()?.sth;
  }

  async consistency(chain: ChainName, size1: number, size2: number): Promise<Uint8Array[]> {
    return this.chain(chain).tree.consistencyProof(size1, size2);
  }

  async blocks(chain: ChainName, fromHeight: number, max: number): Promise<Block[]> {
    const c = this.chain(chain);
    const out: Block[] = [];
    for (let h = Math.max(0, fromHeight); h < c.height && out.length < max; h++) out.push(c.readBlock(h));
    return out;
  }

  async tail(chain: ChainName): Promise<Block | undefined> {
    const c = this.chain(chain);
    return c.height ? c.readBlock(c.height - 1) : undefined;
  }

  async verify(): Promise<VerifyReport> {
    const maxBlocks = Object.fromEntries(CHAINS.map((n) => [n, this.chain(n).height]));
    return verifyLedgerDir(this.o.dir, { publicKey: this.o.signer?.publicKey, maxBlocks });
  }

  /** Approximate bytes of in-memory state (tree levels, indexes, block metadata). */
  memoryBytes(): number {
    return CHAINS.reduce((a, n) => a + this.chain(n).memoryBytes(), 0);
  }
}

function readOnlySigner(dir: string): Signer {
  return {
    publicKey: fromHex(readMeta(dir).publicKey, 'publicKey'),
    sign() {
      throw new BeepkitError('E_STATE', 'ledger opened read-only');
    },
  };
}
