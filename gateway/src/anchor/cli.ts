/**
 * `beepkit gateway anchor …`: key (the gateway's EVM account key), deploy (the consortium
 * admin deploys the registries), admit (the admin admits a gateway's ledger key and account).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { BeepkitError, fromHex, toHex } from '@beepkit/protocol';
import { writeFileAtomicSync } from '@beepkit/device-core/infra/files';
import { fail, print } from '@beepkit/device-core/infra/cli';
import { readSecretFile } from '../ca/keys.ts';
import { readMeta } from '../ledger/verify.ts';
import { EvmClient, hex32, type ContractName } from './evm.ts';

const address = (s: string, what: string): `0x${string}` => {
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw new BeepkitError('E_CONFIG', `${what}: expected 0x + 40 hex digits`);
  return s as `0x${string}`;
};

/** Creates a 32-byte secp256k1 key file (0600) unless it exists; returns its account address. */
export function createEvmKey(path: string): `0x${string}` {
  if (!existsSync(path)) writeFileAtomicSync(path, new Uint8Array(randomBytes(32)));
  return EvmClient.addressOf(readSecretFile(path));
}

export function registerAnchor(gw: Command): void {
  const a = gw.command('anchor').description('anchoring on an EVM chain: account keys, registry contracts, admission (README "Consortium chain")');
  a.command('key')
    .description('create an EVM account key file (32 bytes, 0600) if absent and print its address (never the key)')
    .requiredOption('--out <file>', 'key file')
    .action((o: { out: string }) => {
      try {
        print({ keyFile: o.out, address: createEvmKey(o.out) });
      } catch (e) {
        fail(e);
      }
    });
  a.command('deploy')
    .description('deploy AnchorRegistry (and VenueRegistry with --venues) from the admin account; prints the addresses')
    .requiredOption('--rpc <url>', 'JSON-RPC URL of the EVM node')
    .requiredOption('--key <file>', "the admin's EVM key file (0600)")
    .option('--venues', 'also deploy the VenueRegistry')
    .action(async (o: { rpc: string; key: string; venues?: boolean }) => {
      try {
        const evm = await EvmClient.connect({ rpcUrl: o.rpc, privateKey: readSecretFile(o.key) });
        const out: Record<string, unknown> = { chainId: evm.chainId, admin: evm.address };
        for (const name of (o.venues ? ['AnchorRegistry', 'VenueRegistry'] : ['AnchorRegistry']) as ContractName[]) {
          const r = await evm.deploy(name);
          out[name] = r.contractAddress;
          out[`${name}Gas`] = Number(r.gasUsed);
        }
        print(out);
      } catch (e) {
        fail(e);
      }
    });
  a.command('admit')
    .description('admit a gateway: its ledger key (from its data dir or --ledger-key) anchors from --account (re-admitting rotates the account)')
    .requiredOption('--rpc <url>', 'JSON-RPC URL')
    .requiredOption('--key <file>', "the admin's EVM key file")
    .requiredOption('--contract <address>', 'AnchorRegistry address')
    .requiredOption('--account <address>', "the gateway's EVM account (beepkit gateway anchor key)")
    .option('--ledger-key <hex>', "the gateway's ledger public key (64 hex digits)")
    .option('--ledger <dir>', "or: the gateway's ledger directory (its ledger.json names the key)")
    .action(async (o: { rpc: string; key: string; contract: string; account: string; ledgerKey?: string; ledger?: string }) => {
      try {
        const hex = o.ledgerKey ?? (o.ledger ? readMeta(o.ledger).publicKey : undefined);
        if (!hex) throw new BeepkitError('E_CONFIG', 'give --ledger-key or --ledger');
        const ledgerKey = fromHex(hex, 'ledger key');
        if (ledgerKey.length !== 32) throw new BeepkitError('E_FORMAT', 'ledger key: expected 32 bytes');
        const evm = await EvmClient.connect({ rpcUrl: o.rpc, privateKey: readSecretFile(o.key) });
        const r = await evm.write('AnchorRegistry', address(o.contract, '--contract'), 'admit', [hex32(ledgerKey), address(o.account, '--account')]);
        print({ admitted: toHex(ledgerKey), account: o.account, tx: r.hash, gasUsed: Number(r.gasUsed) });
      } catch (e) {
        fail(e);
      }
    });
}
