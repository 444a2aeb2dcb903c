import type { Command } from 'commander';
import { BeepkitError } from '../errors.ts';
import { fromHex, toHex } from '../bytes.ts';
import { CIPHERTEXT_LEN, PREFIX_LEN, SALT_LEN, SUFFIX_LEN, TRACECODE_LEN, decodeTraceCode, fingerprint, recordHash } from '../tracecode/index.ts';
import { TAG_LEN } from '../crypto/aead.ts';
import { failWith } from './keys.ts';

/** The decoded layout of a TraceCode, as `beepkit tracecode inspect` prints it. */
export function inspectTraceCode(bytes: Uint8Array): Record<string, unknown> {
  const tc = decodeTraceCode(bytes);
  return {
    version: tc.version,
    prefix: toHex(tc.prefix),
    fingerprint: toHex(fingerprint(tc.prefix)),
    recordHash: toHex(recordHash(bytes)),
    suffix: {
      interval: tc.interval,
      salt: toHex(tc.salt),
      ciphertext: toHex(tc.ciphertext.subarray(0, CIPHERTEXT_LEN - TAG_LEN)),
      tag: toHex(tc.ciphertext.subarray(CIPHERTEXT_LEN - TAG_LEN)),
    },
    sizes: {
      total: TRACECODE_LEN,
      version: 1,
      prefix: PREFIX_LEN,
      suffix: SUFFIX_LEN,
      interval: 2,
      salt: SALT_LEN,
      ciphertext: CIPHERTEXT_LEN - TAG_LEN,
      tag: TAG_LEN,
    },
  };
}

export function registerTracecode(program: Command): void {
  const tc = program.command('tracecode').description('TraceCode codec tools');
  tc.command('inspect')
    .description('print the decoded layout of a TraceCode (hex) as JSON; bad input exits 2 with {code,message} on stderr')
    .argument('<hex>', 'the TraceCode bytes in hex')
    .action((hex: string) => {
      try {
        if (hex.length === 0) throw new BeepkitError('E_TRUNCATED', 'empty input');
        process.stdout.write(JSON.stringify(inspectTraceCode(fromHex(hex, 'tracecode')), null, 2) + '\n');
      } catch (err) {
        failWith(err);
      }
    });
}
