// `kernel`: Table 3's experiment in the size a laptop holds. The minimum-norm RBF-kernel interpolant of a
// dataset's first n training labels (whatever they are: true or randomized upstream), and its error
// on the first m test images. n = 60,000 is a 29 GB Gram matrix; n = 2,000 is 32 MB and seconds.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import { UserInputError } from '../../src/util/user-error.js';

export interface KernelParams {
  readonly n_train: number;
  readonly n_test: number | null;
  readonly gamma: number;
  readonly ridge: number;
}

export const kernelPlugin = definePlugin<KernelParams>({
  name: 'kernel',
  version: '2',
  description: 'Min-norm RBF-kernel interpolation of the training labels (K α = Y, Cholesky in float64); train and test error (Table 3)',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n_train: { type: 'integer', minimum: 1, maximum: 20000, default: 2000, description: 'the first n training images (memory: 8·n² bytes)' },
      n_test: { type: ['integer', 'null'], minimum: 0, default: null, description: 'the first m test images; null: all' },
      gamma: { type: 'number', exclusiveMinimum: 0, default: 0.02, description: 'RBF width on pixels in [0, 1]: exp(−γ‖u − v‖²) (the paper’s MNIST code: 0.02)' },
      ridge: { type: 'number', minimum: 0, default: 0, description: 'λ added to K’s diagonal; 0 interpolates' },
    },
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: { metrics: { kind: 'json', description: '{n_train, n_test, d, gamma, ridge, train_error, test_error, norm}' } },
  seeded: false,
  async run(ctx) {
    const [{ readSplits }, { kernelFit }] = await Promise.all([import('../../src/train/artifact.js'), import('./solve.js')]);
    const { train, test, classes: numClasses } = await readSplits(ctx.inputs['dataset'] as Artifact);
    const { n_train: n, gamma, ridge } = ctx.params;
    const m = Math.min(ctx.params.n_test ?? test.shape[0], test.shape[0]);
    if (n > train.shape[0]) throw new UserInputError(`kernel: n_train = ${n}, but the dataset has ${train.shape[0]} training images`);
    const d = train.shape[1] * train.shape[2] * train.shape[3];
    const pixels = (s: typeof train, count: number) => Float64Array.from(s.images.subarray(0, count * d), (v) => v / 255);
    const started = performance.now();
    ctx.progress({ message: `kernel matrix ${n}×${n}, then Cholesky` });
    const fit = kernelFit({ x: pixels(train, n), labels: train.labels.subarray(0, n) }, { x: pixels(test, m), labels: test.labels.subarray(0, m) }, d, numClasses, { gamma, ridge });
    const seconds = (performance.now() - started) / 1000;
    ctx.log(`n ${n}: train error ${fit.trainError}, test error ${fit.testError.toFixed(4)}, norm ${fit.norm.toFixed(1)} (${seconds.toFixed(1)} s)`);
    // No test points (n_test: 0): no test error, said as null (JSON has no NaN).
    await ctx.writeJson('metrics', { n_train: n, n_test: m, d, gamma, ridge, train_error: fit.trainError, test_error: m === 0 ? null : fit.testError, norm: fit.norm });
    ctx.provenance({ fit_seconds: Math.round(seconds * 1000) / 1000 }); // a fact of this run, not a result
  },
});
