// `expressivity`: Theorem 1 on real data. Builds the paper's two-layer ReLU network with 2n + d weights
// that represents the labels (or random labels, or Gaussian values) of n training images exactly, and
// measures it: the error on the sample in float64 and in float32, the largest weight, A's smallest
// eigenvalue. The network's weights (a, b, w) are an output too.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import { UserInputError } from '../../src/util/user-error.js';

export interface ExpressivityParams {
  readonly n: number;
  readonly targets: 'labels' | 'random_labels' | 'gaussian';
}

export const expressivityPlugin = definePlugin<ExpressivityParams>({
  name: 'expressivity',
  version: '2',
  description: "Theorem 1: the 2n + d weight ReLU network that fits n training images' targets exactly (float64), measured",
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n: { type: 'integer', minimum: 1, default: 1000, description: 'points: the first n training images' },
      targets: { enum: ['labels', 'random_labels', 'gaussian'], default: 'labels', description: 'the function to represent: the labels, random labels, or N(0,1) values' },
    },
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: {
    metrics: { kind: 'json', description: '{n, d, params, max_abs_error_f64, max_abs_error_f32, max_abs_weight, min_diagonal}' },
    network: { kind: 'tensors', description: 'a [d], b [n], w [n] (float64): c(z) = Σ_j w_j·max(⟨a, z⟩ − b_j, 0), z = pixels / 255' },
  },
  async run(ctx) {
    const [{ readSplit }, { fit }, { Rng }] = await Promise.all([import('../../src/train/artifact.js'), import('./construct.js'), import('../../src/util/random.js')]);
    const file = await (ctx.inputs['dataset'] as Artifact).readTensors();
    let train;
    try {
      train = await readSplit(file, 'train');
    } finally {
      await file.close();
    }
    const [total, h, w, c] = train.shape;
    const { n, targets } = ctx.params;
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
    ctx.log(`n ${n}, d ${d}: ${2 * n + d} weights, max error ${result.maxErrorF64.toExponential(2)} (float64), ${result.maxErrorF32.toExponential(2)} (float32)`);
    await ctx.writeTensors('network', {
      a: { dtype: 'float64', shape: [d], data: result.net.a },
      b: { dtype: 'float64', shape: [n], data: result.net.b },
      w: { dtype: 'float64', shape: [n], data: result.net.w },
    });
    await ctx.writeJson('metrics', {
      n,
      d,
      targets,
      params: 2 * n + d,
      max_abs_error_f64: result.maxErrorF64,
      max_abs_error_f32: result.maxErrorF32,
      max_abs_weight: result.maxAbsWeight,
      min_diagonal: result.minDiagonal,
    });
    ctx.provenance({ fit_seconds: Math.round(seconds * 1000) / 1000 }); // a fact of this run, not a result
  },
});
