// `linear`: Section 5's implicit regularization, run (SPEC §5.2). SGD on an over-parameterized linear
// model (more features than training points; square loss on one-hot labels, true or randomized
// upstream) fits every label, and from W₀ = 0 it ends at the minimum-norm interpolant Xᵀ(XXᵀ)⁻¹Y,
// because its steps never leave the span of the data. From a random W₀ it ends elsewhere, at W* plus
// W₀'s part outside the span. The metrics say how far SGD ended from each, and both's test error.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import { UserInputError } from '../../src/util/user-error.js';

export interface LinearParams {
  readonly n_train: number;
  readonly n_test: number | null;
  readonly init: 'zero' | 'random';
  readonly init_scale: number;
  readonly epochs: number;
  readonly lr: number;
  readonly batch_size: number;
  readonly normalize: 'unit' | 'none';
}

export const linearPlugin = definePlugin<LinearParams>({
  name: 'linear',
  version: '1',
  description: "SGD on an over-parameterized linear model (square loss) against the minimum-norm interpolant Xᵀ(XXᵀ)⁻¹Y: Section 5's implicit regularization",
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      n_train: { type: 'integer', minimum: 1, maximum: 5000, default: 100, description: 'the first n training images: fewer than their pixels, so that an interpolant exists' },
      n_test: { type: ['integer', 'null'], minimum: 0, default: null, description: 'the first m test images; null: all' },
      init: { enum: ['zero', 'random'], default: 'zero', description: 'W₀: zero (SGD stays in the span of the data) or Gaussian' },
      init_scale: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: "a random W₀'s standard deviation" },
      epochs: { type: 'integer', minimum: 1, default: 1000 },
      lr: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'step size on the batch mean (with normalize: unit and batch 1, below 2 is stable)' },
      batch_size: { type: 'integer', minimum: 1, default: 1, description: '1: one image a step, which converges fastest on images this alike' },
      normalize: { enum: ['unit', 'none'], default: 'unit', description: 'unit: each image scaled to length 1 (pixels in [0, 1] first); none: pixels in [0, 1]' },
    },
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: {
    metrics: {
      kind: 'json',
      description: '{n_train, d, init, train_residual, train_error, test_error, norm, min_norm: {norm, train_error, test_error}, distance_to_min_norm, distance_to_predicted, outside_span, init_outside_span, history}',
    },
  },
  async run(ctx) {
    const [{ readSplits }, { fitLinear }] = await Promise.all([import('../../src/train/artifact.js'), import('./sgd.js')]);
    const { train, test, classes } = await readSplits(ctx.inputs['dataset'] as Artifact);
    const p = ctx.params;
    if (p.n_train > train.shape[0]) throw new UserInputError(`linear: n_train = ${p.n_train}, but the dataset has ${train.shape[0]} training images`);
    const d = train.shape[1] * train.shape[2] * train.shape[3];
    if (p.n_train >= d) throw new UserInputError(`linear: n_train = ${p.n_train} is not below the ${d} features of an image, so the model is not over-parameterized`);
    const m = Math.min(p.n_test ?? test.shape[0], test.shape[0]);
    const features = (s: typeof train, count: number): Float64Array => {
      const scale = s.images instanceof Uint8Array ? 1 / 255 : 1;
      const x = Float64Array.from(s.images.subarray(0, count * d), (v) => v * scale);
      if (p.normalize === 'unit') {
        for (let i = 0; i < count; i++) {
          let sq = 0;
          for (let k = i * d; k < (i + 1) * d; k++) sq += x[k]! * x[k]!;
          const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
          for (let k = i * d; k < (i + 1) * d; k++) x[k]! *= inv;
        }
      }
      return x;
    };
    const started = performance.now();
    const fit = fitLinear(
      { x: features(train, p.n_train), labels: train.labels.subarray(0, p.n_train), n: p.n_train, d, classes },
      { x: features(test, m), labels: test.labels.subarray(0, m), n: m, d, classes },
      {
        init: p.init,
        initScale: p.init_scale,
        epochs: p.epochs,
        lr: p.lr,
        batchSize: p.batch_size,
        seed: ctx.seed,
        historyPoints: 50,
        onEpoch: (epoch) => ctx.progress({ done: epoch, total: p.epochs, message: `epoch ${epoch}/${p.epochs}` }),
      },
    );
    ctx.log(
      `init ${p.init}: train residual ${fit.trainResidual.toExponential(2)}, ‖W − W*‖/‖W*‖ ${fit.distanceToMinNorm.toExponential(2)}, ` +
        `outside the span ${fit.outsideSpan.toExponential(2)} (W₀: ${fit.initOutsideSpan.toExponential(2)}), test error ${fit.testError.toFixed(4)} (min-norm: ${fit.minNorm.testError.toFixed(4)})`,
    );
    await ctx.writeJson('metrics', {
      n_train: p.n_train,
      n_test: m,
      d,
      init: p.init,
      train_residual: fit.trainResidual,
      train_error: fit.trainError,
      // No test points (n_test: 0): no test error, said as null (JSON has no NaN).
      test_error: m === 0 ? null : fit.testError,
      norm: fit.norm,
      min_norm: { norm: fit.minNorm.norm, train_error: fit.minNorm.trainError, test_error: m === 0 ? null : fit.minNorm.testError },
      distance_to_min_norm: fit.distanceToMinNorm,
      distance_to_predicted: fit.distanceToPredicted,
      outside_span: fit.outsideSpan,
      init_outside_span: fit.initOutsideSpan,
      history: fit.history,
    });
    ctx.provenance({ fit_seconds: Math.round(performance.now() - started) / 1000 });
  },
});
