/**
 * Writes protocol/vectors/*.json from fixed inputs (seeds, times, salts and
 * ephemeral keys are SHA-256 of labels; see common.ts). Deterministic: running
 * it again writes the same bytes; protocol/test/spec-vectors.test.ts checks that
 * the files are what this produces and that the decoders accept and refuse them.
 *   npx tsx protocol/vectors/generate.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { allVectors } from './index.ts';

for (const [name, f] of Object.entries(allVectors())) {
  writeFileSync(fileURLToPath(new URL(`./${name}.json`, import.meta.url)), JSON.stringify(f, null, 1) + '\n');
  process.stdout.write(`${name}.json: ${f.valid.length} valid, ${f.invalid.length} invalid\n`);
}
