// Section 5's "generalizing with kernels" (SPEC §5.2, Table 3): the minimum-norm interpolant of the
// labels in an RBF kernel's span, K α = Y (one-hot Y), found by a Cholesky solve in float64, and
// classified by argmax(K_test α). It fits the training labels exactly, whatever they are; how well it
// does on test images is the question. The Gram matrix is n² RBF values (written out: no library
// makes one from uint8 pixels without copying them into its own matrix type first); the Cholesky
// factorization and solves are ml-matrix's.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { UserInputError } from '../../src/util/user-error.js';

export interface KernelFit {
  readonly trainError: number;
  readonly testError: number;
  /** ‖f‖ in the kernel's norm: √(Σ_c α_cᵀ K α_c), the paper's "ℓ2 norm" of the solution. */
  readonly norm: number;
}

export class NotPositiveDefiniteError extends UserInputError {}

/** Points are rows of `x` (row-major, values as given); `gamma` the RBF width: k(u, v) = exp(−γ‖u − v‖²). */
export function kernelFit(
  train: { readonly x: Float64Array; readonly labels: ArrayLike<number> },
  test: { readonly x: Float64Array; readonly labels: ArrayLike<number> },
  d: number,
  numClasses: number,
  options: { readonly gamma: number; readonly ridge: number },
): KernelFit {
  const n = train.labels.length;
  const K = gram(train.x, n, train.x, n, d, options.gamma);
  for (let i = 0; i < n; i++) K.set(i, i, K.get(i, i) + options.ridge);
  const Y = Matrix.zeros(n, numClasses);
  for (let i = 0; i < n; i++) Y.set(i, train.labels[i]!, 1);
  const chol = new CholeskyDecomposition(K);
  if (!chol.isPositiveDefinite()) {
    throw new NotPositiveDefiniteError(`kernel: the ${n}×${n} kernel matrix is not positive definite in float64 (duplicate images, or gamma too small); set ridge > 0`);
  }
  const alpha = chol.solve(Y);
  // Training predictions and the norm from the unregularized K: α'Kα = α'(Y − ridge·α).
  const fitted = K.mmul(alpha);
  let normSq = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < numClasses; c++) {
      const kAlpha = fitted.get(i, c) - options.ridge * alpha.get(i, c);
      fitted.set(i, c, kAlpha);
      normSq += alpha.get(i, c) * kAlpha;
    }
  }
  const m = test.labels.length;
  const predictions = gram(test.x, m, train.x, n, d, options.gamma).mmul(alpha);
  return { trainError: errorRate(fitted, train.labels), testError: m === 0 ? NaN : errorRate(predictions, test.labels), norm: Math.sqrt(normSq) };
}

function gram(a: Float64Array, na: number, b: Float64Array, nb: number, d: number, gamma: number): Matrix {
  const sq = (x: Float64Array, i: number) => {
    let s = 0;
    for (let k = i * d; k < (i + 1) * d; k++) s += x[k]! * x[k]!;
    return s;
  };
  const sa = Float64Array.from({ length: na }, (_, i) => sq(a, i));
  const sb = a === b ? sa : Float64Array.from({ length: nb }, (_, j) => sq(b, j));
  const K = new Matrix(na, nb);
  const symmetric = a === b;
  for (let i = 0; i < na; i++) {
    for (let j = symmetric ? i : 0; j < nb; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += a[i * d + k]! * b[j * d + k]!;
      const v = Math.exp(-gamma * Math.max(0, sa[i]! + sb[j]! - 2 * dot));
      K.set(i, j, v);
      if (symmetric) K.set(j, i, v);
    }
  }
  return K;
}

function errorRate(scores: Matrix, labels: ArrayLike<number>): number {
  let wrong = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = scores.getRow(i);
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    if (best !== labels[i]) wrong++;
  }
  return labels.length === 0 ? 0 : wrong / labels.length;
}
