// Inception V3 as Keras builds it (`tf.keras.applications.InceptionV3`, include_top=True), the
// network the paper trains on ImageNet (Table 2, Figure 2a). Every conv is Keras's conv2d_bn: a conv
// without bias, batch norm with no scale (beta only, TF-Slim's default) and a ReLU. Then mixed0–mixed10,
// a global average pool, dropout (TF-Slim's keep 0.8 on ImageNet, a build option here) and a dense
// softmax layer. The architecture is written once, against a small `Net` interface: one
// implementation counts parameters by arithmetic (so `rethink models` never loads tfjs), the other
// builds the tfjs graph, so the two can never disagree. At 299×299×3 and 1000 classes the count is
// Keras's 23,851,784 (23,817,352 trainable, 34,432 moving statistics); 75×75 is the smallest input
// the valid-padded stem and reductions allow.
import { denseParams, sameOut } from './count.js';
import { customLayers } from './custom-layers.js';
import { dropoutSeed, seededInits } from './init.js';
import { loadTf } from './tf.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BuildOptions, InputShape, ModelDef, ParamCount, Tf } from './types.js';

const NAME = 'inception_v3';
/** The valid-padded stem and reductions leave a 1×1 map at 75×75 and nothing below it (as Keras). */
const MIN_SIDE = 75;

type Padding = 'same' | 'valid';

interface ConvSpec {
  readonly filters: number;
  readonly kernel: readonly [rows: number, cols: number];
  readonly strides?: number;
  readonly padding?: Padding;
}

/** The operations the architecture is written in; `T` is a feature map (a tensor, or just its channels). */
interface Net<T> {
  /** conv2d_bn: conv (no bias) → batch norm (beta only) → ReLU. */
  conv(x: T, name: string, spec: ConvSpec): T;
  /** 3×3 max pool, stride 2, valid. */
  maxPool(x: T, name: string): T;
  /** 3×3 average pool, stride 1, same. */
  avgPool(x: T, name: string): T;
  concat(xs: readonly T[], name: string): T;
}

/** Keras InceptionV3's layers up to mixed10 (8×8×2048 at 299×299), names as Keras numbers its blocks. */
function inceptionV3Body<T>(net: Net<T>, input: T): T {
  let n = 0;
  // Convs are numbered in build order (conv1 … conv94), the order in which Keras numbers its conv2d layers.
  const c = (x: T, filters: number, rows: number, cols: number, extra: { strides?: number; padding?: Padding } = {}): T =>
    net.conv(x, `conv${++n}`, { filters, kernel: [rows, cols], ...extra });
  const valid = { padding: 'valid' } as const;
  const reduce = { strides: 2, padding: 'valid' } as const;

  let x = c(input, 32, 3, 3, reduce);
  x = c(x, 32, 3, 3, valid);
  x = c(x, 64, 3, 3);
  x = net.maxPool(x, 'pool1');
  x = c(x, 80, 1, 1, valid);
  x = c(x, 192, 3, 3, valid);
  x = net.maxPool(x, 'pool2');

  // mixed0–2: 35×35×256, 288, 288.
  for (const [i, poolFilters] of [32, 64, 64].entries()) {
    const b1 = c(x, 64, 1, 1);
    const b5 = c(c(x, 48, 1, 1), 64, 5, 5);
    const b3 = c(c(c(x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
    const bp = c(net.avgPool(x, `mixed${i}_pool`), poolFilters, 1, 1);
    x = net.concat([b1, b5, b3, bp], `mixed${i}`);
  }

  // mixed3: 17×17×768.
  {
    const b3 = c(x, 384, 3, 3, reduce);
    const b3d = c(c(c(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, reduce);
    x = net.concat([b3, b3d, net.maxPool(x, 'mixed3_pool')], 'mixed3');
  }

  // mixed4–7: 17×17×768, factorized 7×7 convolutions.
  for (const [i, width] of [128, 160, 160, 192].entries()) {
    const b1 = c(x, 192, 1, 1);
    const b7 = c(c(c(x, width, 1, 1), width, 1, 7), 192, 7, 1);
    const b7d = c(c(c(c(c(x, width, 1, 1), width, 7, 1), width, 1, 7), width, 7, 1), 192, 1, 7);
    const bp = c(net.avgPool(x, `mixed${4 + i}_pool`), 192, 1, 1);
    x = net.concat([b1, b7, b7d, bp], `mixed${4 + i}`);
  }

  // mixed8: 8×8×1280.
  {
    const b3 = c(c(x, 192, 1, 1), 320, 3, 3, reduce);
    const b7 = c(c(c(c(x, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3, reduce);
    x = net.concat([b3, b7, net.maxPool(x, 'mixed8_pool')], 'mixed8');
  }

  // mixed9–10: 8×8×2048, expanded filter banks.
  for (const i of [0, 1]) {
    const b1 = c(x, 320, 1, 1);
    const s = c(x, 384, 1, 1);
    const b3 = net.concat([c(s, 384, 1, 3), c(s, 384, 3, 1)], `mixed9_${i}`);
    const d = c(c(x, 448, 1, 1), 384, 3, 3);
    const b3d = net.concat([c(d, 384, 1, 3), c(d, 384, 3, 1)], `mixed9_${i}_dbl`);
    const bp = c(net.avgPool(x, `mixed${9 + i}_pool`), 192, 1, 1);
    x = net.concat([b1, b3, b3d, bp], `mixed${9 + i}`);
  }
  return x;
}

/** The spatial side after a valid (unpadded) window of `kernel` at `stride`. */
const validOut = (size: number, kernel: number, stride: number): number => Math.floor((size - kernel) / stride) + 1;

/** Counts by arithmetic: the feature map is its [height, width, channels]. */
function countInceptionV3([h, w, ch]: InputShape, numClasses: number): ParamCount {
  let trainable = 0;
  let nonTrainable = 0;
  type FeatureMap = readonly [height: number, width: number, channels: number];
  const shrink = (x: FeatureMap, kr: number, kc: number, stride: number, padding: Padding, channels: number): FeatureMap =>
    padding === 'same'
      ? [sameOut(x[0], stride), sameOut(x[1], stride), channels]
      : [validOut(x[0], kr, stride), validOut(x[1], kc, stride), channels];
  const counter: Net<FeatureMap> = {
    conv(x, _name, { filters, kernel: [kr, kc], strides = 1, padding = 'same' }) {
      // A kr×kc kernel (no bias), then batch norm's beta (trainable) and its moving mean and variance (not).
      trainable += kr * kc * x[2] * filters + filters;
      nonTrainable += 2 * filters;
      return shrink(x, kr, kc, strides, padding, filters);
    },
    maxPool: (x) => shrink(x, 3, 3, 2, 'valid', x[2]),
    avgPool: (x) => x,
    concat: (xs) => [xs[0]![0], xs[0]![1], xs.reduce((s, x) => s + x[2], 0)],
  };
  const out = inceptionV3Body(counter, [h, w, ch]);
  return { trainable: trainable + denseParams(out[2], numClasses), nonTrainable };
}

function buildInceptionV3(tf: Tf, opts: BuildOptions): tfTypes.LayersModel {
  const [h, w] = opts.inputShape;
  if (h < MIN_SIDE || w < MIN_SIDE) throw new RangeError(`inception_v3: input ${h}x${w} is smaller than ${MIN_SIDE}x${MIN_SIDE}`);
  const init = seededInits(tf, opts.seed, NAME);
  const custom = customLayers(tf);
  type Sym = tfTypes.SymbolicTensor;
  const apply = (layer: tfTypes.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;
  const builder: Net<Sym> = {
    conv(x, name, { filters, kernel, strides = 1, padding = 'same' }) {
      const conv = tf.layers.conv2d({
        filters,
        kernelSize: [...kernel],
        strides,
        padding,
        useBias: false,
        kernelInitializer: init.glorotUniform(name),
        name,
      });
      // Keras's BatchNormalization(scale=False) defaults; the ReLU fuses into it (one op).
      return apply(custom.betaBatchNorm({ momentum: 0.99, epsilon: 1e-3, relu: true, name: `${name}_bn` }), apply(conv, x));
    },
    maxPool: (x, name) => apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name }), x),
    avgPool: (x, name) => apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name }), x),
    concat: (xs, name) => apply(tf.layers.concatenate({ axis: -1, name }), [...xs]),
  };
  const input = tf.input({ shape: [...opts.inputShape], name: 'image' });
  let x = inceptionV3Body(builder, input);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  if (opts.dropout !== undefined && opts.dropout > 0) {
    x = apply(custom.seededDropout({ rate: opts.dropout, seed: dropoutSeed(opts.seed, NAME, 'dropout'), name: 'dropout' }), x);
  }
  // Logits: the loss applies the softmax (as for every model here).
  const logits = tf.layers.dense({ units: opts.numClasses, kernelInitializer: init.glorotUniform('logits'), biasInitializer: init.zeros(), name: 'logits' });
  return tf.model({ inputs: input, outputs: apply(logits, x), name: NAME });
}

export const inceptionV3: ModelDef = {
  name: NAME,
  description: 'Inception V3 (Keras/TF-Slim, ImageNet; paper Table 2), input at least 75x75, dropout before the logits',
  minInput: [MIN_SIDE, MIN_SIDE],
  countParams: countInceptionV3,
  build: async (opts) => buildInceptionV3(await loadTf(), opts),
};
