/**
 * The one module that imports viem: JSON-RPC to an EVM chain (anvil here, Besu QBFT in a
 * consortium), the anchor and venue registry contracts, local transaction signing.
 * Everything else in the gateway speaks plain types (hex strings, bigint, Uint8Array).
 * Errors: `E_RPC` (transport, timeout, node down), `E_REVERT` (the contract refused;
 * `reason` is the Solidity error name, e.g. NotNewer, NotAdmitted).
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  keccak256,
  stringToHex,
  hexToString,
  type Abi,
  type Hex,
  type PublicClient,
  type WalletClient,
  type Chain,
  type Transport,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { BeepkitError, toHex } from '@beepkit/protocol';
import { anchorRegistryAbi, anchorRegistryBytecode, venueRegistryAbi, venueRegistryBytecode } from './contracts.generated.ts';

export type ContractName = 'AnchorRegistry' | 'VenueRegistry';
const ARTIFACTS: Record<ContractName, { abi: Abi; bytecode: Hex }> = {
  AnchorRegistry: { abi: anchorRegistryAbi as Abi, bytecode: anchorRegistryBytecode },
  VenueRegistry: { abi: venueRegistryAbi as Abi, bytecode: venueRegistryBytecode },
};

/** One tree head as the AnchorRegistry stores it. */
export interface AnchorHead {
  chain: string;
  treeSize: number;
  rootHash: Uint8Array;
  timestampMs: number;
  blockHeight: number;
  signature: Uint8Array;
}

export interface TxResult {
  hash: Hex;
  status: 'success' | 'reverted';
  gasUsed: bigint;
  blockNumber: bigint;
  contractAddress?: Hex;
}

/** A signed, not yet broadcast transaction (journalled before it is sent). */
export interface SignedTx {
  hash: Hex;
  raw: Hex;
  nonce: number;
}

export class RevertError extends BeepkitError {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('E_REVERT', message, options);
  }
}

/** Turns a viem error into E_REVERT (with the Solidity error name) or E_RPC. */
export function wrap(e: unknown, what: string): BeepkitError {
  if (e instanceof BeepkitError) return e;
  if (e instanceof BaseError) {
    const rev = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (rev instanceof ContractFunctionRevertedError) {
      const reason = rev.data?.errorName ?? rev.reason ?? 'revert';
      const args = rev.data?.args?.map((a) => String(a)).join(', ') ?? '';
      return new RevertError(reason, `${what}: the contract refused: ${reason}(${args})`, { cause: e });
    }
    return new BeepkitError('E_RPC', `${what}: ${e.shortMessage}`, { cause: e });
  }
  return new BeepkitError('E_RPC', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** Ledger chain name → bytes32 (ASCII, zero-padded) and back. */
export const chainToBytes32 = (name: string): Hex => stringToHex(name, { size: 32 });
export const chainFromBytes32 = (h: Hex): string => hexToString(h, { size: 32 }).replace(/\0+$/, '');
/** VenueRegistry region id: keccak256 of the region path ("scotland/edinburgh"). */
export const regionId = (path: string): Hex => keccak256(stringToHex(path));
const b32 = (b: Uint8Array): Hex => `0x${toHex(b)}`;
const bytesOf = (h: Hex): Uint8Array => Uint8Array.from(Buffer.from(h.slice(2), 'hex'));

export interface EvmOptions {
  rpcUrl: string;
  /** 32-byte secp256k1 private key of the submitting account. */
  privateKey: Uint8Array;
  /** Receipt polling period (default 250 ms; anvil mines at once). */
  pollMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

export class EvmClient {
  readonly address: Hex;
  readonly #account: PrivateKeyAccount;
  readonly #pub: PublicClient<Transport, Chain>;
  readonly #wallet: WalletClient<Transport, Chain, PrivateKeyAccount>;
  readonly #pollMs: number;

  private constructor(o: EvmOptions, chainId: number) {
    this.#account = privateKeyToAccount(b32(o.privateKey));
    this.address = this.#account.address;
    const chain = defineChain({
      id: chainId,
      name: `evm-${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [o.rpcUrl] } },
    });
    const transport = http(o.rpcUrl, { timeout: o.timeoutMs ?? 10_000, retryCount: 0 });
    this.#pollMs = o.pollMs ?? 250;
    this.#pub = createPublicClient({ chain, transport, pollingInterval: this.#pollMs });
    this.#wallet = createWalletClient({ chain, transport, account: this.#account, pollingInterval: this.#pollMs });
  }

  /** Connects (asks the node for its chain id: E_RPC when it does not answer). */
  static async connect(o: EvmOptions): Promise<EvmClient> {
    if (o.privateKey.length !== 32) throw new BeepkitError('E_KEY', 'EVM private key must be 32 bytes');
    const probe = createPublicClient({ transport: http(o.rpcUrl, { timeout: o.timeoutMs ?? 10_000, retryCount: 0 }) });
    let id: number;
    try {
      id = await probe.getChainId();
    } catch (e) {
      throw wrap(e, `connect ${o.rpcUrl}`);
    }
    return new EvmClient(o, id);
  }

  /** Address of a private key (no RPC). */
  static addressOf(privateKey: Uint8Array): Hex {
    return privateKeyToAccount(b32(privateKey)).address;
  }

  get chainId(): number {
    return this.#pub.chain.id;
  }

  async #wait(hash: Hex, timeoutMs = 60_000): Promise<TxResult> {
    try {
      const r = await this.#pub.waitForTransactionReceipt({ hash, timeout: timeoutMs, pollingInterval: this.#pollMs });
      return { hash, status: r.status, gasUsed: r.gasUsed, blockNumber: r.blockNumber, contractAddress: r.contractAddress ?? undefined };
    } catch (e) {
      throw wrap(e, `receipt of ${hash}`);
    }
  }

  /** Deploys a contract from this account (the account becomes its admin). */
  async deploy(name: ContractName): Promise<TxResult & { contractAddress: Hex }> {
    const a = ARTIFACTS[name];
    let hash: Hex;
    try {
      hash = await this.#wallet.deployContract({ abi: a.abi, bytecode: a.bytecode, args: [] });
    } catch (e) {
      throw wrap(e, `deploy ${name}`);
    }
    const r = await this.#wait(hash);
    if (r.status !== 'success' || !r.contractAddress) throw new BeepkitError('E_REVERT', `deploy ${name} reverted`);
    return { ...r, contractAddress: r.contractAddress };
  }

  /** Calls a state-changing function and waits for its receipt (simulated first: a refusal is E_REVERT, no gas spent). */
  async write(name: ContractName, address: Hex, functionName: string, args: unknown[]): Promise<TxResult> {
    const abi = ARTIFACTS[name].abi;
    let hash: Hex;
    try {
      const { request } = await this.#pub.simulateContract({ address, abi, functionName, args, account: this.#account });
      hash = await this.#wallet.writeContract(request);
    } catch (e) {
      throw wrap(e, `${name}.${functionName}`);
    }
    return this.#wait(hash);
  }

  async read<T = unknown>(name: ContractName, address: Hex, functionName: string, args: unknown[]): Promise<T> {
    try {
      return (await this.#pub.readContract({ address, abi: ARTIFACTS[name].abi, functionName, args })) as T;
    } catch (e) {
      throw wrap(e, `${name}.${functionName}`);
    }
  }

  /** The newest anchored tree head of a gateway's chain (treeSize 0: none). */
  async latestAnchor(contract: Hex, ledgerKey: Uint8Array, chain: string): Promise<{ treeSize: number; blockHeight: number; rootHash: Uint8Array }> {
    const l = await this.read<{ treeSize: bigint; blockHeight: bigint; rootHash: Hex }>('AnchorRegistry', contract, 'latest', [
      b32(ledgerKey),
      chainToBytes32(chain),
    ]);
    return { treeSize: Number(l.treeSize), blockHeight: Number(l.blockHeight), rootHash: bytesOf(l.rootHash) };
  }

  /**
   * Builds and signs `anchor(heads)` locally (gas estimated: a stale size is E_REVERT NotNewer
   * here, before anything is signed). The caller journals the result, then broadcasts it.
   */
  async signAnchor(contract: Hex, heads: AnchorHead[]): Promise<SignedTx> {
    const arg = heads.map((h) => ({
      chain: chainToBytes32(h.chain),
      treeSize: BigInt(h.treeSize),
      rootHash: b32(h.rootHash),
      timestampMs: BigInt(h.timestampMs),
      blockHeight: BigInt(h.blockHeight),
      signature: b32(h.signature),
    }));
    try {
      const data = encodeFunctionData({ abi: ARTIFACTS.AnchorRegistry.abi, functionName: 'anchor', args: [arg] });
      await this.#pub.simulateContract({ address: contract, abi: ARTIFACTS.AnchorRegistry.abi, functionName: 'anchor', args: [arg], account: this.#account });
      const req = await this.#wallet.prepareTransactionRequest({ to: contract, data, account: this.#account, chain: this.#pub.chain });
      const raw = await this.#account.signTransaction(req as Parameters<PrivateKeyAccount['signTransaction']>[0]);
      return { hash: keccak256(raw), raw, nonce: Number(req.nonce) };
    } catch (e) {
      throw wrap(e, 'AnchorRegistry.anchor');
    }
  }

  /** Broadcasts a signed transaction (again: a node that already has it is fine). */
  async broadcast(tx: SignedTx): Promise<void> {
    try {
      await this.#pub.sendRawTransaction({ serializedTransaction: tx.raw });
    } catch (e) {
      const m = e instanceof BaseError ? e.details + e.shortMessage : String(e);
      if (/already known|already imported|known transaction/i.test(m)) return;
      if (/nonce too low/i.test(m) && (await this.#pub.getTransaction({ hash: tx.hash }).catch(() => undefined))) return; // mined already
      if (/nonce too low/i.test(m)) throw new BeepkitError('E_NONCE', `broadcast ${tx.hash}: nonce ${tx.nonce} already used`, { cause: e });
      throw wrap(e, `broadcast ${tx.hash}`);
    }
  }

  /** The receipt of a transaction, waiting up to `timeoutMs`; undefined when the node does not know it. */
  async receipt(hash: Hex, timeoutMs: number): Promise<TxResult | undefined> {
    try {
      const tx = await this.#pub.getTransaction({ hash }).catch(() => undefined);
      if (!tx) return undefined;
      return await this.#wait(hash, timeoutMs);
    } catch (e) {
      throw wrap(e, `receipt of ${hash}`);
    }
  }

  /** Every Anchored event of a gateway (all chains), in chain order. */
  async anchoredHeads(contract: Hex, ledgerKey: Uint8Array): Promise<(AnchorHead & { txHash: Hex; block: bigint })[]> {
    try {
      const logs = await this.#pub.getContractEvents({
        address: contract,
        abi: ARTIFACTS.AnchorRegistry.abi,
        eventName: 'Anchored',
        args: { ledgerKey: b32(ledgerKey) },
        fromBlock: 0n,
        toBlock: 'latest',
      });
      return logs.map((l) => {
        const a = l.args as { chain: Hex; treeSize: bigint; rootHash: Hex; timestampMs: bigint; blockHeight: bigint; signature: Hex };
        return {
          chain: chainFromBytes32(a.chain),
          treeSize: Number(a.treeSize),
          rootHash: bytesOf(a.rootHash),
          timestampMs: Number(a.timestampMs),
          blockHeight: Number(a.blockHeight),
          signature: bytesOf(a.signature),
          txHash: l.transactionHash,
          block: l.blockNumber,
        };
      });
    } catch (e) {
      throw wrap(e, 'AnchorRegistry Anchored events');
    }
  }

  /** anvil only: gives an account ether (`anvil_setBalance`), so tests and the demo need no well-known keys. */
  async devFund(address: Hex, ether = 1000n): Promise<void> {
    try {
      await createTestClient({ mode: 'anvil', chain: this.#pub.chain, transport: http(this.#pub.chain.rpcUrls.default.http[0], { retryCount: 0 }) }).setBalance(
        { address, value: ether * 10n ** 18n },
      );
    } catch (e) {
      throw wrap(e, 'anvil_setBalance');
    }
  }
}

export { b32 as hex32 };
