// `expressivity`: Theorem 1 on real data. Builds the paper's two-layer ReLU network with 2n + d weights
// that represents the labels (or random labels, or Gaussian values) of n training images exactly, and
// measures it: the error on the sample in float64 and in float32, the largest weight, A's smallest
// eigenvalue. The network's weights (a, b, w) are an output too. With `depth: k` (≥ 3) it builds
// Corollary 1's deeper network of width O(n/k) from the same weights (./deep.ts) and measures that.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import { UserInputError } from '../../src/util/user-error.js';

export interface ExpressivityParams {
  readonly n: number;
  readonly targets: 'labels' | 'random_labels' | 'gaussian';
  readonly depth: number;
}

export const expressivityPlugin = definePlugin<ExpressivityParams>({
  name: 'expressivity',
  version: '3',
  description: "Theorem 1: the 2n + d weight ReLU network that fits n training images' targets exactly (float64), measured",
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n: { type: 'integer', minimum: 1, default: 1000, description: 'points: the first n training images' },
      targets: { enum: ['labels', 'random_labels', 'gaussian'], default: 'labels', description: 'the function to represent: the labels, random labels, or N(0,1) values' },
      depth: { type: 'integer', minimum: 2, default: 2, description: "weight layers: 2 is Theorem 1's network; k ≥ 3 is Corollary 1's, width ⌈n/(k − 2)⌉ + 4" },
    },
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: {
    metrics: { kind: 'json', description: '{n, d, depth, width, params, max_abs_error_f64, max_abs_error_f32, max_abs_weight, min_diagonal}' },
    network: {
      kind: 'tensors',
      description: 'depth 2: a [d], b [n], w [n] (float64): c(z) = Σ_j w_j·max(⟨a, z⟩ − b_j, 0), z = pixels / 255; depth k: layer<i>.weight [out, in] and layer<i>.bias [out], ReLU on all but the last',
    },
  },
  async run(ctx) {
    const [{ readSplit }, { fit }, { deepen, forward }, { Rng }] = await Promise.all([
      import('../../src/train/artifact.js'),
      import('./construct.js'),
      import('./deep.js'),
      import('../../src/util/random.js'),
    ]);
    const file = await (ctx.inputs['dataset'] as Artifact).readTensors();
    let train;
    try {
      train = await readSplit(file, 'train');
    } finally {
      await file.close();
    }
    const [total, h, w, c] = train.shape;
    const { n, targets, depth } = ctx.params;
    if (n > total) throw new UserInputError(`expressivity: n = ${n}, but the dataset has ${total} training images`);
    const d = h * w * c;
    const z = new Float64Array(n * d);
    for (let i = 0; i < n * d; i++) z[i] = train.images[i]! / 255;
    const numClasses = train.labels.reduce((m, v) => Math.max(m, v), 0) + 1; // no spread: 60,000 arguments overflow the stack
    const rng = Rng.derive(ctx.seed, 'theorem1-targets');
    const y = Float64Array.from({ length: n }, (_, i) => (targets === 'labels' ? train.labels[i]! : targets === 'random_labels' ? rng.int(numClasses) : rng.normal()));
    const started = performance.now();
    const result = fit(z, n, d, y, ctx.seed);
    const seconds = (performance.now() - started) / 1000;
    const common = { n, d, targets, depth, max_abs_weight: result.maxAbsWeight, min_diagonal: result.minDiagonal };
    if (depth === 2) {
      ctx.log(`n ${n}, d ${d}: ${2 * n + d} weights, max error ${result.maxErrorF64.toExponential(2)} (float64), ${result.maxErrorF32.toExponential(2)} (float32)`);
      await ctx.writeTensors('network', {
        a: { dtype: 'float64', shape: [d], data: result.net.a },
        b: { dtype: 'float64', shape: [n], data: result.net.b },
        w: { dtype: 'float64', shape: [n], data: result.net.w },
      });
      await ctx.writeJson('metrics', { ...common, width: n, params: 2 * n + d, max_abs_error_f64: result.maxErrorF64, max_abs_error_f32: result.maxErrorF32 });
    } else {
      const deep = deepen(result.net, depth);
      let maxError = 0;
      for (let i = 0; i < n; i++) maxError = Math.max(maxError, Math.abs(forward(deep, z, i * d) - y[i]!));
      ctx.log(`n ${n}, d ${d}, depth ${depth}: width ${deep.width}, ${deep.nonzeros} nonzero weights, max error ${maxError.toExponential(2)} (float64)`);
      const layers = deep.layers.flatMap((l, i) => [
        [`layer${i}.weight`, { dtype: 'float64' as const, shape: [l.outputs, l.inputs], data: l.weights }],
        [`layer${i}.bias`, { dtype: 'float64' as const, shape: [l.outputs], data: l.bias }],
      ] as const);
      await ctx.writeTensors('network', Object.fromEntries(layers));
      // The deep network is evaluated in float64 only: its float32 behaviour is Theorem 1's (same weights).
      await ctx.writeJson('metrics', { ...common, width: deep.width, params: deep.nonzeros, max_abs_error_f64: maxError, max_abs_error_theorem1_f64: result.maxErrorF64 });
    }
    ctx.provenance({ fit_seconds: Math.round(seconds * 1000) / 1000 }); // a fact of this run, not a result
  },
});
