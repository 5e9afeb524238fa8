// Corollary 1 of the paper (App. C, SPEC §5.1): for every depth k ≥ 3 a ReLU network of width O(n/k)
// and O(n + d) weights represents any function on n distinct points. The paper gives only a sketch
// (intervals multiplexed by approximate indicators); this is an explicit construction of the same
// statement from Theorem 1's network c(z) = Σ_j w_j·max(⟨a, z⟩ − b_j, 0), in float64:
//   layer 0            u = [relu(⟨a, z⟩), relu(−⟨a, z⟩)]                      (2d weights)
//   layers 1 … G       the projection carried on (x = u⁺ − u⁻), the hinges relu(x − b_j) of group g
//                      (its ⌈n/G⌉ thresholds), and the partial sum of the groups before it carried as
//                      s⁺ = relu(s), s⁻ = relu(−s)
//   output (linear)    s⁺ − s⁻ + Σ_{j ∈ last group} w_j·h_j
// so depth k = G + 2 weight layers, width ⌈n/G⌉ + 4, and every hinge has 2 weights in, a bias and
// at most 2 out (≤ 2d + 5n + O(k) nonzero weights and biases). It computes c exactly (up to float64
// rounding), so it fits whatever Theorem 1's network fits. The layers are dense matrices evaluated as a plain MLP forward pass, so
// the check below does not lean on the construction's structure.
import type { Network } from './construct.js';

/** One dense layer: y = act(W x + c), W row-major [outputs × inputs]. */
export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  readonly relu: boolean;
}

export interface DeepNetwork {
  readonly layers: readonly DenseLayer[];
  /** Units of the widest layer. */
  readonly width: number;
  /** Nonzero weights and biases: the construction's parameter count. */
  readonly nonzeros: number;
}

/** Spreads Theorem 1's network over `depth` weight layers (depth ≥ 3; depth − 2 groups of hinges). */
export function deepen(net: Network, depth: number): DeepNetwork {
  const n = net.b.length;
  const d = net.a.length;
  if (!Number.isInteger(depth) || depth < 3) throw new RangeError(`deepen: depth ${depth}: Corollary 1 needs depth ≥ 3 (depth 2 is Theorem 1's network)`);
  const groups = Math.min(depth - 2, n);
  const size = Math.ceil(n / groups);
  const groupOf = (g: number): [number, number] => [g * size, Math.min(n, (g + 1) * size)];
  const layers: DenseLayer[] = [];
  // Layer 0: the projection and its negation.
  const first = dense(d, 2, true);
  for (let k = 0; k < d; k++) {
    first.weights[k] = net.a[k]!;
    first.weights[d + k] = -net.a[k]!;
  }
  layers.push(first);
  // Units of hidden layer g ≥ 1: [u⁺, u⁻, s⁺, s⁻, h_(group g)…].
  let previous: { hinges: [number, number] } | null = null;
  for (let g = 0; g < groups; g++) {
    const [lo, hi] = groupOf(g);
    const inputs: number = layers[layers.length - 1]!.outputs;
    const layer = dense(inputs, 4 + hi - lo, true);
    const set = (row: number, col: number, v: number): void => void (layer.weights[row * inputs + col] = v);
    // u± carried: relu(u⁺ − u⁻) = u⁺ and relu(u⁻ − u⁺) = u⁻, as both are relus of ±x.
    set(0, 0, 1);
    set(0, 1, -1);
    set(1, 0, -1);
    set(1, 1, 1);
    // s = (s⁺ − s⁻ of the previous layer) + Σ w_j h_j over the previous group; 0 before the first.
    if (previous !== null) {
      for (const [row, sign] of [[2, 1], [3, -1]] as const) {
        set(row, 2, sign);
        set(row, 3, -sign);
        const [plo, phi] = previous.hinges;
        for (let j = plo; j < phi; j++) set(row, 4 + j - plo, sign * net.w[j]!);
      }
    }
    // Hinges of this group: relu(x − b_j) with x = u⁺ − u⁻.
    for (let j = lo; j < hi; j++) {
      set(4 + j - lo, 0, 1);
      set(4 + j - lo, 1, -1);
      layer.bias[4 + j - lo] = -net.b[j]!;
    }
    layers.push(layer);
    previous = { hinges: [lo, hi] };
  }
  // Output: s⁺ − s⁻ + the last group's weighted hinges.
  const inputs = layers[layers.length - 1]!.outputs;
  const out = dense(inputs, 1, false);
  out.weights[2] = 1;
  out.weights[3] = -1;
  const [llo, lhi] = previous!.hinges;
  for (let j = llo; j < lhi; j++) out.weights[4 + j - llo] = net.w[j]!;
  layers.push(out);
  let nonzeros = 0;
  for (const l of layers) for (const v of [...l.weights, ...l.bias]) if (v !== 0) nonzeros++;
  return { layers, width: Math.max(...layers.map((l) => l.outputs)), nonzeros };
}

/** The network's output for the point at z[offset, offset + d): a plain dense forward pass. */
export function forward(net: DeepNetwork, z: ArrayLike<number>, offset: number): number {
  let x: Float64Array = Float64Array.from({ length: net.layers[0]!.inputs }, (_, k) => z[offset + k]!);
  for (const l of net.layers) {
    const y = new Float64Array(l.outputs);
    for (let r = 0; r < l.outputs; r++) {
      let s = l.bias[r]!;
      const row = r * l.inputs;
      for (let c = 0; c < l.inputs; c++) s += l.weights[row + c]! * x[c]!;
      y[r] = l.relu ? Math.max(s, 0) : s;
    }
    x = y;
  }
  return x[0]!;
}

function dense(inputs: number, outputs: number, relu: boolean): DenseLayer {
  return { inputs, outputs, weights: new Float64Array(inputs * outputs), bias: new Float64Array(outputs), relu };
}
