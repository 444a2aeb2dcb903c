/**
 * Logistic regression by iteratively reweighted least squares (Newton–Raphson
 * on the log-likelihood) for Song et al.'s infection probability
 *   P = 1 / (1 + e^-(β0 + β1·RSSI + β2·ΔtB + β3·ΔtC + β4·ms)).
 * Standard errors are the square roots of the diagonal of the inverse Fisher
 * information (XᵀWX)⁻¹ at the estimate. Complete or quasi-complete separation
 * (no finite MLE) is reported as E_SEPARATION, a rank-deficient design as E_SINGULAR.
 */
import { BeepkitError } from '@beepkit/protocol';

export interface FitOptions {
  maxIterations?: number;
  /** Converged when every |Δβ| < tol (default 1e-8). */
  tol?: number;
}

export interface FitResult {
  beta: number[];
  standardErrors: number[];
  iterations: number;
  converged: boolean;
  deviance: number;
  n: number;
}

/** Cholesky factor of a symmetric positive-definite matrix (row-major, k×k), or undefined. */
function cholesky(a: Float64Array, k: number): Float64Array | undefined {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j];
      for (let m = 0; m < j; m++) s -= l[i * k + m] * l[j * k + m];
      if (i === j) {
        if (!(s > 1e-12 * Math.max(1, Math.abs(a[i * k + i])))) return undefined;
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / l[j * k + j];
    }
  }
  return l;
}

function solveChol(l: Float64Array, k: number, b: Float64Array): Float64Array {
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let m = 0; m < i; m++) s -= l[i * k + m] * y[m];
    y[i] = s / l[i * k + i];
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m < k; m++) s -= l[m * k + i] * x[m];
    x[i] = s / l[i * k + i];
  }
  return x;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Fits β for rows of features `x` (each row WITHOUT the intercept; one is
 * added) and 0/1 labels `y`.
 */
export function fitLogistic(x: number[][], y: number[], o: FitOptions = {}): FitResult {
  const n = x.length;
  if (n === 0 || n !== y.length) throw new BeepkitError('E_RANGE', 'riskfit: need as many labels as rows, at least one');
  const k = x[0].length + 1;
  if (n < k) throw new BeepkitError('E_SINGULAR', `riskfit: ${n} rows for ${k} coefficients`);
  for (const [i, r] of x.entries()) {
    if (r.length !== k - 1 || r.some((v) => !Number.isFinite(v))) throw new BeepkitError('E_RANGE', `riskfit: row ${i} has bad features`);
    if (y[i] !== 0 && y[i] !== 1) throw new BeepkitError('E_RANGE', `riskfit: label of row ${i} must be 0 or 1`);
  }
  const maxIt = o.maxIterations ?? 50;
  const tol = o.tol ?? 1e-8;
  const beta = new Float64Array(k);
  const row = (i: number, j: number) => (j === 0 ? 1 : x[i][j - 1]);
  let info = new Float64Array(k * k);
  let it = 0;
  let converged = false;
  let maxEta = 0;
  while (it < maxIt) {
    it++;
    info = new Float64Array(k * k);
    const grad = new Float64Array(k);
    maxEta = 0;
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let j = 0; j < k; j++) eta += beta[j] * row(i, j);
      maxEta = Math.max(maxEta, Math.abs(eta));
      const p = sigmoid(eta);
      const w = p * (1 - p);
      for (let a = 0; a < k; a++) {
        const xa = row(i, a);
        grad[a] += xa * (y[i] - p);
        for (let b = 0; b <= a; b++) info[a * k + b] += w * xa * row(i, b);
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) info[b * k + a] = info[a * k + b];
    const l = cholesky(info, k);
    if (!l) {
      if (maxEta > 15) throw new BeepkitError('E_SEPARATION', `riskfit: the classes are (quasi-)separated after ${it} iterations: no finite estimate`);
      throw new BeepkitError('E_SINGULAR', 'riskfit: singular information matrix (collinear or constant features)');
    }
    const step = solveChol(l, k, grad);
    let big = 0;
    for (let j = 0; j < k; j++) {
      beta[j] += step[j];
      big = Math.max(big, Math.abs(step[j]) / Math.max(1, Math.abs(beta[j])));
    }
    if (big < tol) {
      converged = true;
      break;
    }
  }
  if (!converged) {
    if (maxEta > 15)
      throw new BeepkitError('E_SEPARATION', `riskfit: no convergence in ${maxIt} iterations, fitted probabilities reach 0/1: the classes are separated`);
    throw new BeepkitError('E_CONVERGENCE', `riskfit: no convergence in ${maxIt} iterations`);
  }
  const l = cholesky(info, k)!;
  const se: number[] = [];
  for (let j = 0; j < k; j++) {
    const e = new Float64Array(k);
    e[j] = 1;
    se.push(Math.sqrt(solveChol(l, k, e)[j]));
  }
  let deviance = 0;
  let fitted01 = 0;
  for (let i = 0; i < n; i++) {
    let eta = 0;
    for (let j = 0; j < k; j++) eta += beta[j] * row(i, j);
    const p = sigmoid(eta);
    if (Math.abs(p - y[i]) < 1e-9) fitted01++;
    deviance -= 2 * (y[i] ? Math.log(Math.max(p, 1e-300)) : Math.log(Math.max(1 - p, 1e-300)));
  }
  if (fitted01 === n) throw new BeepkitError('E_SEPARATION', 'riskfit: every row is fitted exactly: the classes are separated');
  return { beta: [...beta], standardErrors: se, iterations: it, converged, deviance, n };
}
