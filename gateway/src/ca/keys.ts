/**
 * The gateway's key files, created at first start in `<dataDir>/keys/` with mode
 * 0600 (directory 0700) and never logged:
 *
 *   ca.key        Ed25519 seed (32 raw bytes): signs certificates
 *   gateway.key   Ed25519 seed: signs ledger blocks and tree heads
 *   solver.key    X25519 private key (32 raw bytes): read by the solver only;
 *                 the gateway derives and keeps just the public key
 *
 * Loading refuses a key file readable by group or others (E_PERMISSION).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeepkitError } from '@beepkit/protocol';
import { keyId } from '@beepkit/protocol/cert';
import { Ed25519Signer, X25519Key } from '@beepkit/protocol/crypto';
import { readSecretMode } from './perm.ts';
import { writeFileAtomicSync } from '@beepkit/device-core/infra/files';

export interface GatewayKeys {
  ca: Ed25519Signer;
  caPublicKey: Uint8Array;
  gateway: Ed25519Signer;
  solverPublicKey: Uint8Array;
  solverKeyId: Uint8Array;
  /** Path of the solver's private key file (for the solver process). */
  solverKeyFile: string;
}

/** Reads a 32-byte secret key file, refusing group/world-accessible files. */
export function readSecretFile(path: string): Uint8Array {
  readSecretMode(path);
  const b = new Uint8Array(readFileSync(path));
  if (b.length !== 32) throw new BeepkitError('E_KEY', `${path}: expected 32 bytes, got ${b.length}`);
  return b;
}

function loadOrCreate(path: string): Uint8Array {
  if (!existsSync(path)) writeFileAtomicSync(path, new Uint8Array(randomBytes(32)));
  return readSecretFile(path);
}

/** Loads the keys under `dataDir/keys`, creating missing ones. */
export function loadOrCreateKeys(dataDir: string): GatewayKeys {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = new Ed25519Signer(loadOrCreate(join(dir, 'ca.key')));
  const gateway = new Ed25519Signer(loadOrCreate(join(dir, 'gateway.key')));
  const solverKeyFile = join(dir, 'solver.key');
  const solverPublicKey = new X25519Key(loadOrCreate(solverKeyFile)).publicKey;
  return { ca, caPublicKey: ca.publicKey, gateway, solverPublicKey, solverKeyId: keyId(solverPublicKey), solverKeyFile };
}
