/** `beepkit risk fit <labelled.csv>`: IRLS fit of Song et al.'s β; JSON the agent reads as its configured β (agent config risk.betaFile). */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { BeepkitError } from '@beepkit/protocol';
import { emit, guard } from '../solver/cli-util.ts';
import { fitLogistic } from './irls.ts';
import { parseLabelledCsv } from './csv.ts';

export function registerRisk(program: Command): void {
  program
    .command('risk')
    .description('infection-probability model')
    .command('fit')
    .description('fit β0..β4 of P = 1/(1+e^-(β0+β1·RSSI+β2·ΔtB+β3·ΔtC+β4·ms)) by IRLS; ms = surface residual hours')
    .argument('<labelled.csv>', 'columns rssi, contact_minutes, checkin_gap_minutes, material, infected')
    .option('--out <file>', 'write the JSON here')
    .option('--max-iterations <n>', 'IRLS iteration cap', '50')
    .action((file: string, o: { out?: string; maxIterations: string }) =>
      guard(() => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (cause) {
          throw new BeepkitError('E_IO', `cannot read ${file}`, { cause });
        }
        const { x, y } = parseLabelledCsv(text);
        const fit = fitLogistic(x, y, { maxIterations: Number(o.maxIterations) });
        emit(
          {
            model: 'song-logistic',
            terms: ['intercept', 'rssi', 'contactMinutes', 'checkInGapMinutes', 'materialHours'],
            coding: 'material = virus residual time in hours (Song et al.)',
            ...fit,
          },
          o.out,
        );
      }),
    );
}
