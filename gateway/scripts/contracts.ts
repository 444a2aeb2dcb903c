/** Regenerates gateway/src/anchor/contracts.generated.ts from gateway/contracts/*.sol (pinned solc-js). */
import { writeFileSync } from 'node:fs';
import { GENERATED_FILE, compileContracts, renderGenerated } from '../src/anchor/compile.ts';

const c = compileContracts();
writeFileSync(GENERATED_FILE, renderGenerated(c));
process.stdout.write(`wrote ${GENERATED_FILE} (solc ${c.solcVersion})\n`);
