// Theorem 1 of the paper (SPEC §5.1): a two-layer ReLU network with 2n + d weights represents any
// function on any n distinct points in d dimensions. The construction, in float64 throughout (in
// float32 the weights' growth ruins it: SPEC's conditioning warning, which `fit` measures too):
//   1. project onto a random direction a: x_i = ⟨a, z_i⟩, distinct almost surely;
//   2. sort, and interleave thresholds b_1 < x_(1) < b_2 < x_(2) < … ;
//   3. c(z) = Σ_j w_j · max(⟨a, z⟩ − b_j, 0); on the sample A_ij = max(x_i − b_j, 0) is lower
//      triangular with a positive diagonal, so A w = y by forward substitution.
import { Rng } from '../../src/util/random.js';
import { UserInputError } from '../../src/util/user-error.js';

export interface Network {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly w: Float64Array;
}

export interface Fit {
  readonly net: Network;
  /** max_i |c(z_i) − y_i|, evaluating the network afresh in float64 and in float32. */
  readonly maxErrorF64: number;
  readonly maxErrorF32: number;
  readonly maxAbsWeight: number;
  /** The smallest diagonal entry of A, x_(i) − b_i: A's smallest eigenvalue (it is triangular). */
  readonly minDiagonal: number;
}

export class DuplicatePointsError extends UserInputError {}

/** Points are the rows of `z` (n × d, row-major); `y` the values to represent. */
export function fit(z: Float64Array, n: number, d: number, y: Float64Array, seed: number): Fit {
  if (z.length !== n * d || y.length !== n) throw new RangeError(`fit: ${z.length} values for ${n}×${d} points, ${y.length} targets`);
  const rng = Rng.derive(seed, 'theorem1-direction');
  const a = Float64Array.from({ length: d }, () => rng.normal());
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = project(a, z, i * d, d);
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => x[p]! - x[q]!);
  for (let k = 1; k < n; k++) {
    if (x[order[k]!]! === x[order[k - 1]!]!) {
      throw new DuplicatePointsError(`points ${order[k - 1]} and ${order[k]} project to the same value: the sample has duplicate points (Theorem 1 needs n distinct points)`);
    }
  }
  const xs = Float64Array.from(order, (i) => x[i]!);
  const b = new Float64Array(n);
  b[0] = xs[0]! - 1;
  for (let j = 1; j < n; j++) b[j] = (xs[j - 1]! + xs[j]!) / 2;
  // Forward substitution on A w = y (sorted order): A_ij = xs_i − b_j for j ≤ i, 0 above the diagonal.
  const w = new Float64Array(n);
  let minDiagonal = Infinity;
  for (let i = 0; i < n; i++) {
    let s = y[order[i]!]!;
    for (let j = 0; j < i; j++) s -= (xs[i]! - b[j]!) * w[j]!;
    const diag = xs[i]! - b[i]!;
    minDiagonal = Math.min(minDiagonal, diag);
    w[i] = s / diag;
  }
  const net = { a, b, w };
  let maxErrorF64 = 0;
  let maxErrorF32 = 0;
  const f32 = { a: Float32Array.from(a), b: Float32Array.from(b), w: Float32Array.from(w) };
  for (let i = 0; i < n; i++) {
    maxErrorF64 = Math.max(maxErrorF64, Math.abs(evaluate(net, z, i * d, d) - y[i]!));
    maxErrorF32 = Math.max(maxErrorF32, Math.abs(evaluateF32(f32, z, i * d, d) - y[i]!));
  }
  return { net, maxErrorF64, maxErrorF32, maxAbsWeight: w.reduce((m, v) => Math.max(m, Math.abs(v)), 0), minDiagonal };
}

/** c(z) for the point at z[offset, offset + d), from the weights alone (not from A). */
export function evaluate(net: Network, z: ArrayLike<number>, offset: number, d: number): number {
  const x = project(net.a, z, offset, d);
  let c = 0;
  for (let j = 0; j < net.b.length; j++) c += net.w[j]! * Math.max(x - net.b[j]!, 0);
  return c;
}

/** The same network with float32 weights and float32 arithmetic, as a float32 framework would run it. */
function evaluateF32(net: { a: Float32Array; b: Float32Array; w: Float32Array }, z: ArrayLike<number>, offset: number, d: number): number {
  const f = Math.fround;
  let x = 0;
  for (let k = 0; k < d; k++) x = f(x + f(net.a[k]! * f(z[offset + k]!)));
  let c = 0;
  for (let j = 0; j < net.b.length; j++) c = f(c + f(net.w[j]! * Math.max(f(x - net.b[j]!), 0)));
  return c;
}

/** ⟨a, z⟩ for the point at z[offset, offset + d). */
export function project(a: Float64Array, z: ArrayLike<number>, offset: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[k]! * z[offset + k]!;
  return s;
}
