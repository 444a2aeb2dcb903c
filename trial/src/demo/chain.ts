/**
 * `beepkit demo --chain anvil`: a local EVM chain for the trial. anvil (npm) on a free port,
 * a random consortium admin key (funded with anvil_setBalance: no well-known keys), the
 * AnchorRegistry and VenueRegistry deployed, the gateway's EVM account key created in its
 * data dir (0600) and admitted with its ledger key. The gateway then anchors through its
 * ordinary `anchor:` config.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadOrCreateKeys } from '@beepkit/gateway/ca';
import { Anvil, EvmClient, createEvmKey, hex32 } from '@beepkit/gateway/anchor';
import type { AnchorConfig } from '@beepkit/gateway/app';
import type { Anchorer } from '@beepkit/gateway/anchor';

export interface DemoChain {
  anvil: Anvil;
  rpcUrl: string;
  anchorRegistry: `0x${string}`;
  venueRegistry: `0x${string}`;
  anchor: AnchorConfig;
  deployGas: number;
}

export async function startDemoChain(gwDir: string): Promise<DemoChain> {
  const anvil = await new Anvil().start();
  try {
    const ledgerKey = loadOrCreateKeys(gwDir).gateway.publicKey; // creates keys/ (0700) and the gateway key
    const adminKey = new Uint8Array(randomBytes(32));
    writeFileSync(join(gwDir, 'keys', 'anchor-admin.key'), adminKey, { mode: 0o600 });
    const admin = await EvmClient.connect({ rpcUrl: anvil.rpcUrl, privateKey: adminKey, pollMs: 50 });
    await admin.devFund(admin.address);
    const a = await admin.deploy('AnchorRegistry');
    const v = await admin.deploy('VenueRegistry');
    const keyFile = join(gwDir, 'keys', 'anchor.key');
    const account = createEvmKey(keyFile);
    await admin.devFund(account);
    await admin.write('AnchorRegistry', a.contractAddress, 'admit', [hex32(ledgerKey), account]);
    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      anchorRegistry: a.contractAddress,
      venueRegistry: v.contractAddress,
      deployGas: Number(a.gasUsed + v.gasUsed),
      anchor: { rpcUrl: anvil.rpcUrl, keyFile, contract: a.contractAddress, intervalMs: 2000, everyTreeHeads: 0, flushOnStopMs: 10_000 },
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

/** The demo's closing chain line(s): what the contract holds for this gateway. */
export async function anchorReport(chain: DemoChain, ledgerKey: Uint8Array): Promise<{ heads: number; line: string; sizes: Record<string, number> }> {
  const reader = await EvmClient.connect({ rpcUrl: chain.rpcUrl, privateKey: new Uint8Array(randomBytes(32)) });
  const heads = await reader.anchoredHeads(chain.anchorRegistry, ledgerKey);
  const sizes: Record<string, number> = {};
  for (const h of heads) sizes[h.chain] = Math.max(sizes[h.chain] ?? 0, h.treeSize);
  const txs = new Set(heads.map((h) => h.txHash)).size;
  const line = `anchored ${heads.length} tree head(s) in ${txs} transaction(s) on anvil (${
    Object.entries(sizes)
      .map(([c, n]) => `${c} size ${n}`)
      .join(', ') || 'nothing'
  })`;
  return { heads: heads.length, line, sizes };
}

/** At the end of the trial: anchors what is left, prints the `anchored N …` line (and, kept, how to check it); false when anchoring failed. */
export async function finishChain(
  c: DemoChain,
  anchorer: Anchorer,
  ledgerKey: Uint8Array,
  o: { keep: boolean; ledger: string; print: (l: string) => void },
): Promise<boolean> {
  const done = await anchorer.flush(20_000);
  const r = await anchorReport(c, ledgerKey).catch((e: unknown) => ({ heads: 0, line: `anchoring: ${(e as Error).message}` }));
  o.print(`${r.line}; gas of the last anchor ${anchorer.lastGasUsed}${done ? '' : `; NOT caught up: ${JSON.stringify(anchorer.status().backlog)}`}`);
  if (o.keep) {
    o.print(
      `kept: anvil (pid ${c.anvil.pid}) at ${c.rpcUrl}; AnchorRegistry ${c.anchorRegistry}; VenueRegistry ${c.venueRegistry}; gateway ledger ${o.ledger}`,
    );
    o.print(`check it: beepkit ledger verify ${o.ledger} --anchor ${c.rpcUrl} --contract ${c.anchorRegistry}   (stop anvil: kill ${c.anvil.pid})`);
  }
  return done && r.heads > 0;
}
