// Section 5's argument (SPEC §5.2), run: a linear model with more weights than training points, square
// loss on one-hot targets, trained by SGD. Every SGD step adds a combination of training points to W,
// so W − W₀ stays in their span. From W₀ = 0 SGD can therefore only reach one interpolant: the
// minimum-norm one, W* = Xᵀ(XXᵀ)⁻¹Y. From a random W₀ it reaches W* + P⊥W₀: the part of W₀ outside
// the span never moves, and the norm grows by exactly ‖P⊥W₀‖. This computes W*, the projection P
// onto the span (both with ml-matrix's Cholesky of the n×n Gram matrix, in float64) and the SGD run
// itself (float64 loops over a row-major d×C array: each step touches a few rows, which no matrix
// library's allocation per product would do faster), and measures how far SGD ends from each.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { Rng } from '../../src/util/random.js';
import { UserInputError } from '../../src/util/user-error.js';

export interface LinearProblem {
  /** n rows of d features, row-major. */
  readonly x: Float64Array;
  readonly labels: ArrayLike<number>;
  readonly n: number;
  readonly d: number;
  readonly classes: number;
}

export interface SgdOptions {
  readonly init: 'zero' | 'random';
  /** The standard deviation of a random W₀'s entries. */
  readonly initScale: number;
  readonly epochs: number;
  readonly lr: number;
  readonly batchSize: number;
  readonly seed: number;
  /** How many points of history to keep (evenly spaced epochs, the last included). */
  readonly historyPoints: number;
  readonly onEpoch?: (epoch: number) => void;
}

export interface LinearFit {
  /** ‖XW − Y‖ / ‖Y‖ on the training points. */
  readonly trainResidual: number;
  readonly trainError: number;
  readonly testError: number;
  /** ‖W‖ (Frobenius). */
  readonly norm: number;
  readonly minNorm: { readonly norm: number; readonly trainError: number; readonly testError: number };
  /** ‖W − W*‖ / ‖W*‖. */
  readonly distanceToMinNorm: number;
  /** ‖W − (W* + P⊥W₀)‖ / ‖W*‖: how far SGD ends from where the argument says it converges. */
  readonly distanceToPredicted: number;
  /** ‖P⊥W‖: W's part outside the span of the training points. */
  readonly outsideSpan: number;
  /** ‖P⊥W₀‖. */
  readonly initOutsideSpan: number;
  readonly history: readonly { readonly epoch: number; readonly residual: number; readonly distanceToMinNorm: number }[];
}

export class SingularGramError extends UserInputError {}

/** W as a d×C Matrix (ml-matrix) from the row-major array. */
const asMatrix = (w: Float64Array, d: number, c: number): Matrix => new Matrix(Array.from({ length: d }, (_, k) => Array.from(w.subarray(k * c, (k + 1) * c))));
const frobenius = (m: Matrix): number => Math.sqrt(m.to1DArray().reduce((a, v) => a + v * v, 0));

export function fitLinear(train: LinearProblem, test: LinearProblem, o: SgdOptions): LinearFit {
  const { n, d, classes: c } = train;
  const X = new Matrix(n, d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) X.set(i, k, train.x[i * d + k]!);
  const Y = Matrix.zeros(n, c);
  for (let i = 0; i < n; i++) Y.set(i, train.labels[i]!, 1);
  const chol = new CholeskyDecomposition(X.mmul(X.transpose()));
  if (!chol.isPositiveDefinite()) {
    throw new SingularGramError(`linear: the ${n} training points are linearly dependent (XXᵀ is singular in float64), so no interpolant is unique; use fewer points than features (d = ${d}) or drop duplicates`);
  }
  const Xt = X.transpose();
  const project = (M: Matrix): Matrix => Xt.mmul(chol.solve(X.mmul(M))); // onto the span of the rows of X
  const wStar = Xt.mmul(chol.solve(Y));
  const starNorm = frobenius(wStar);

  const rng = Rng.derive(o.seed, 'linear', 'sgd');
  const w = new Float64Array(d * c);
  if (o.init === 'random') for (let j = 0; j < w.length; j++) w[j] = o.initScale * rng.normal();
  const w0 = asMatrix(w, d, c);
  const predicted = wStar.clone().add(w0.clone().sub(project(w0)));

  const residual = (): number => {
    let r = 0;
    let y = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) {
        let z = 0;
        for (let k = 0; k < d; k++) z += train.x[i * d + k]! * w[k * c + j]!;
        const t = train.labels[i] === j ? 1 : 0;
        r += (z - t) ** 2;
        y += t;
      }
    }
    return Math.sqrt(r / y);
  };
  const history: { epoch: number; residual: number; distanceToMinNorm: number }[] = [];
  const record = (epoch: number) => history.push({ epoch, residual: residual(), distanceToMinNorm: frobenius(asMatrix(w, d, c).sub(wStar)) / starNorm });
  const every = Math.max(1, Math.ceil(o.epochs / Math.max(1, o.historyPoints)));
  record(0);

  const order = Int32Array.from({ length: n }, (_, i) => i);
  const grad = new Float64Array(d * c);
  const err = new Float64Array(c);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < n; start += o.batchSize) {
      const end = Math.min(n, start + o.batchSize);
      grad.fill(0);
      for (let b = start; b < end; b++) {
        const i = order[b]!;
        const row = i * d;
        // err = x_i W − y_i, then grad += x_iᵀ err (the square loss ½‖xW − y‖²).
        for (let j = 0; j < c; j++) {
          let z = 0;
          for (let k = 0; k < d; k++) z += train.x[row + k]! * w[k * c + j]!;
          err[j] = z - (train.labels[i] === j ? 1 : 0);
        }
        for (let k = 0; k < d; k++) {
          const v = train.x[row + k]!;
          if (v === 0) continue;
          for (let j = 0; j < c; j++) grad[k * c + j]! += v * err[j]!;
        }
      }
      const step = o.lr / (end - start);
      for (let j = 0; j < w.length; j++) w[j]! -= step * grad[j]!;
    }
    if (epoch % every === 0 || epoch === o.epochs) record(epoch);
    o.onEpoch?.(epoch);
  }

  const W = asMatrix(w, d, c);
  return {
    trainResidual: history.at(-1)!.residual,
    trainError: errorRate(train, W),
    testError: errorRate(test, W),
    norm: frobenius(W),
    minNorm: { norm: starNorm, trainError: errorRate(train, wStar), testError: errorRate(test, wStar) },
    distanceToMinNorm: frobenius(W.clone().sub(wStar)) / starNorm,
    distanceToPredicted: frobenius(W.clone().sub(predicted)) / starNorm,
    outsideSpan: frobenius(W.clone().sub(project(W))),
    initOutsideSpan: frobenius(w0.clone().sub(project(w0))),
    history,
  };
}

/** The share of points whose largest score is not their label (NaN without points). */
function errorRate(p: LinearProblem, W: Matrix): number {
  if (p.n === 0) return Number.NaN;
  let wrong = 0;
  for (let i = 0; i < p.n; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let j = 0; j < p.classes; j++) {
      let z = 0;
      for (let k = 0; k < p.d; k++) z += p.x[i * p.d + k]! * W.get(k, j);
      if (z > bestScore) {
        bestScore = z;
        best = j;
      }
    }
    if (best !== p.labels[i]) wrong++;
  }
  return wrong / p.n;
}
