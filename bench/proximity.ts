/**
 * proximity: the agent's proximity estimator against the single-reading
 * Exposure Notification rule on the shared recordings (../shared/fixtures/rssi):
 * per dataset, per-sample balanced accuracy, precision and recall at 2 m and
 * 1.5 m; pair-level precision and recall of "≥ 15 min within 2 m" where the
 * data has durations; the single-reading rule at 55 dB, 60 dB and its best
 * threshold on the test rows; the estimator with thresholds tuned
 * leave-one-dataset-out (LODO), with the model calibration only and with a
 * unit calibration at 1 m; and the estimator variants tried (VARIANTS in
 * proximity/evaluate.ts), LODO likewise. Deterministic: one run (repeats do
 * not change it).
 */
import { allDatasets } from './proximity/data.ts';
import { CALIBRATIONS, evaluate, pairMinutes, pairScores, pick, score, tune, type Calibration, type Evaluated } from './proximity/evaluate.ts';
import { TUNED_THRESHOLDS_DB } from '@beepkit/device-core/proximity';
import { goal, type Bench, type Goal, type Metric } from './lib.ts';

const fixed = (v: number, unit: string): Metric => ({ median: v, min: v, max: v, unit });
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

const bench: Bench = {
  name: 'proximity',
  description: 'proximity estimator vs the single-reading EN rule on the shared RSSI recordings (per sample, per pair, leave-one-dataset-out)',
  async run(ctx) {
    const metrics: Record<string, Metric> = {};
    const goals: Record<string, Goal> = {};
    const notes: string[] = [];
    const data = allDatasets(ctx.smoke ? { stride: 20, maxFiles: 6 } : {});
    const ev: Evaluated[] = [];
    for (const d of data) {
      const t0 = performance.now();
      ev.push(evaluate(d));
      ctx.log(`${d.name}: ${d.rows.length} rows replayed twice in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      notes.push(`${d.name}: ${d.rows.length} rows; ${d.note}`);
    }
    const table: Record<string, unknown> = {};
    for (const m of ['2', '1.5'] as const) {
      const sets = (cal: Calibration, kind: 'att' | 'est') => ev.map((e) => ({ x: e[kind][cal], y: e.truth[m] }));
      for (const [i, e] of ev.entries()) {
        const y = e.truth[m];
        const put = (k: string, s: { ba: number; precision: number; recall: number; threshold: number }): void => {
          for (const f of ['ba', 'precision', 'recall'] as const) metrics[`${e.name}_${m}m_${k}_${f}`] = fixed(r3(s[f]), f === 'ba' ? 'balanced accuracy' : f);
          metrics[`${e.name}_${m}m_${k}_threshold`] = fixed(s.threshold, 'dB');
          table[`${e.name} ${m} m ${k}`] = { ba: r3(s.ba), precision: r3(s.precision), recall: r3(s.recall), threshold: s.threshold };
        };
        // the single-reading rule with Google's calibration (the baseline)
        put('single55', score(e.att.model, y, 55));
        put('single60', score(e.att.model, y, 60));
        const tunedOnTest = score(e.att.model, y, tune([{ x: e.att.model, y }]));
        put('single_tuned_on_test', tunedOnTest);
        put('single_unit_tuned_on_test', score(e.att.unit, y, tune([{ x: e.att.unit, y }])));
        put('single_device_tuned_on_test', score(e.att.device, y, tune([{ x: e.att.device, y }])));
        // the estimator: thresholds from the other datasets only
        const others = (cal: Calibration) => sets(cal, 'est').filter((_, j) => j !== i);
        const lodoModel = score(e.est.model, y, tune(others('model')));
        const lodoUnit = score(e.est.unit, y, tune(others('unit')));
        put('estimator_lodo_model', lodoModel);
        put('estimator_lodo_unit', lodoUnit);
        put('single_lodo_unit', score(e.att.unit, y, tune(sets('unit', 'att').filter((_, j) => j !== i))));
        put('estimator_shipped_unit', score(e.est.unit, y, TUNED_THRESHOLDS_DB[m]));
        // the variants tried (agent/README.md "Proximity"), LODO as the shipped one
        for (const [v, est] of Object.entries(e.variants)) {
          for (const cal of CALIBRATIONS) {
            const s = score(est[cal], y, tune(ev.map((x) => ({ x: x.variants[v][cal], y: x.truth[m] })).filter((_, j) => j !== i)));
            put(`variant_${v}_lodo_${cal}`, s);
            if (m === '2') metrics[`${e.name}_2m_variant_${v}_lodo_${cal}_gain`] = fixed(r3(s.ba - tunedOnTest.ba), 'balanced accuracy');
          }
          if (m === '2') {
            // the strict measurement of the shipped estimator (below), for each variant: device calibration, held-out rows
            const h = e.heldOut;
            const yh = pick(y, h);
            const base = score(pick(e.att.model, h), yh, tune([{ x: pick(e.att.model, h), y: yh }]));
            const T = tune(ev.filter((_, j) => j !== i).map((x) => ({ x: pick(x.variants[v].device, x.heldOut), y: pick(x.truth[m], x.heldOut) })));
            metrics[`${e.name}_2m_variant_${v}_lodo_device_gain_heldout`] = fixed(r3(score(pick(est.device, h), yh, T).ba - base.ba), 'balanced accuracy');
          }
        }
        if (m === '2') {
          const gain = r3(lodoUnit.ba - tunedOnTest.ba);
          metrics[`${e.name}_2m_lodo_gain`] = fixed(gain, 'balanced accuracy');
          goals[`${e.name}_2m_lodo_gain`] = goal(gain, '>=', 0.05);
          // the done-when line of issue 15 (above the tuned single rule at all), beside its +0.05 goal: each goal names a metric
          metrics[`${e.name}_2m_lodo_above_single_tuned`] = fixed(gain, 'balanced accuracy');
          goals[`${e.name}_2m_lodo_above_single_tuned`] = goal(gain, '>=', 0.0001);
          // held out: scored only on rows the unit calibration did not read (its 0.9–1.1 m samples left out for
          // every method, the baselines tuned on those same held-out rows), so no scored label reaches the estimator
          const h = e.heldOut;
          const yh = pick(y, h);
          const tunedH = (x: Float64Array) => score(pick(x, h), yh, tune([{ x: pick(x, h), y: yh }]));
          const single = tunedH(e.att.model);
          put('single_tuned_on_test_heldout', single);
          metrics[`${e.name}_2m_heldout_rows`] = fixed(yh.length, 'rows');
          for (const cal of ['unit', 'device'] as const) {
            const singleCal = tunedH(e.att[cal]);
            const lodoH = score(
              pick(e.est[cal], h),
              yh,
              tune(ev.filter((_, j) => j !== i).map((x) => ({ x: pick(x.est[cal], x.heldOut), y: pick(x.truth[m], x.heldOut) }))),
            );
            put(`single_${cal}_tuned_on_test_heldout`, singleCal);
            put(`estimator_lodo_${cal}_heldout`, lodoH);
            metrics[`${e.name}_2m_lodo_${cal}_gain_heldout`] = fixed(r3(lodoH.ba - single.ba), 'balanced accuracy');
            // against the single rule given the same calibration, tuned on the held-out test rows
            metrics[`${e.name}_2m_lodo_${cal}_gain_heldout_vs_single_${cal}`] = fixed(r3(lodoH.ba - singleCal.ba), 'balanced accuracy');
            if (cal === 'device') {
              // the goal, measured the strict way: device calibration, held-out rows, baseline tuned on them
              goals[`${e.name}_2m_lodo_device_gain_heldout`] = goal(r3(lodoH.ba - single.ba), '>=', 0.05);
            }
          }
          const dev = score(e.est.device, y, tune(others('device')));
          put('estimator_lodo_device', dev);
          metrics[`${e.name}_2m_lodo_device_gain`] = fixed(r3(dev.ba - tunedOnTest.ba), 'balanced accuracy');
          // the same without the unit calibration (Google's table only: nothing of the scored dataset is used at all)
          metrics[`${e.name}_2m_lodo_model_gain`] = fixed(r3(lodoModel.ba - tunedOnTest.ba), 'balanced accuracy');
        }
        if (m === '2' && e.timed) {
          const single = pairScores(pairMinutes(e, e.att.model, tunedOnTest.threshold, 2));
          const est = pairScores(pairMinutes(e, e.est.unit, lodoUnit.threshold, 2));
          const estDevice = pairScores(pairMinutes(e, e.est.device, tune(others('device')), 2));
          for (const [k, s] of [
            ['single_tuned_on_test', single],
            ['estimator_lodo_unit', est],
            ['estimator_lodo_device', estDevice],
          ] as const) {
            metrics[`${e.name}_pairs15min_${k}_precision`] = fixed(r3(s.precision), 'precision');
            metrics[`${e.name}_pairs15min_${k}_recall`] = fixed(r3(s.recall), 'recall');
            table[`${e.name} pairs ≥15 min ${k}`] = { ...s, precision: r3(s.precision), recall: r3(s.recall) };
          }
        }
      }
      // what the shipped thresholds would be: tuned on all three datasets (unit calibration; device calibration, held out)
      metrics[`all_${m}m_estimator_threshold_all_data`] = fixed(tune(sets('unit', 'est')), 'dB');
      metrics[`all_${m}m_estimator_threshold_device_heldout`] = fixed(
        tune(ev.map((e) => ({ x: pick(e.est.device, e.heldOut), y: pick(e.truth[m], e.heldOut) }))),
        'dB',
      );
    }
    for (const e of ev)
      notes.push(`${e.name}: unit calibration at 1 m for ${e.calibratedReceivers} of ${e.receivers} receivers (the others: model calibration only)`);
    ctx.log(JSON.stringify(table, null, 1));
    // RESULTS.md shows the rows (the rule at 55/60 dB and tuned on the test rows, the estimator
    // leave-one-dataset-out, the 15-minute pairs); the variants and the per-calibration splits stay in the JSON
    const headline = Object.keys(metrics).filter((k) =>
      /_(2|1\.5)m_(single55|single60|single_tuned_on_test|estimator_lodo_unit|estimator_lodo_device)_(ba|precision|recall)$|_2m_lodo_(gain|device_gain_heldout)$|_pairs15min_|^all_/.test(
        k,
      ),
    );
    return { metrics, goals, notes, headline };
  },
};
export default bench;
