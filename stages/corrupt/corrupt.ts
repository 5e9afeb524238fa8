// `corrupt`: the paper's randomization tests (SPEC §1) as one stage with a `kind`:
//   none             the true labels, unchanged (so a sweep over `kind` includes the baseline)
//   labels           each label redrawn with probability p, uniformly over all classes (true one
//                    included unless exclude_true), so ≈ p·(1 − 1/K) of them change
//   random_labels    labels with p = 1
//   shuffled_pixels  one permutation of pixel positions (channels move together) for every image
//   random_pixels    an independent permutation per image
//   gaussian         every pixel drawn from a normal matching the training set's per-channel
//                    mean and variance (see src/data/gaussian.ts for the uint8 clipping fit)
// Every draw comes from the stage seed and is done once, so it is fixed across epochs. Test labels
// stay clean unless corrupt_test; test *images* are transformed by default for the image kinds
// (the paper applies the shuffled-pixel permutation to train and test alike).
//
// Pixel kinds permute the centre `region`, by default `crop`: the centre 28×28 that the train stage
// keeps by default (its preprocessing.crop, the paper's crop of 32×32 images), or the whole image
// where that is smaller (28×28 Fashion-MNIST). Why: the network only ever sees the crop, so a
// permutation of all 32×32 positions would move pixels the centre crop drops into it and push
// pixels it keeps out of it, which is not "the same permutation applied to every image the network
// sees"; permuting the crop region is permuting after the crop (SPEC §1.3's common reading) while
// the stored size stays 32×32 for the random crop. `full` permutes every position; [h, w] any centre.
import { createHash } from 'node:crypto';
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import type { TensorFile, TensorStreamWriter } from '../../src/tensors/types.js';
import {
  DATASET_OUTPUT,
  SPLITS,
  bytesOf,
  datasetInfo,
  datasetSpecs,
  imageBatches,
  imageSize,
  readLabels,
  writeChunked,
  type DatasetInfo,
  type ImageShape,
  type Split,
} from '../../src/data/dataset.js';
import { PAPER_CROP } from '../../src/data/pad-geometry.js';
import { corruptLabels } from '../../src/data/corrupt-labels.js';
import { applyPositionMap, centreRegion, randomPositionMap } from '../../src/data/permute-pixels.js';
import { MomentAccumulator, fitClippedNormal, sampleGaussianImages } from '../../src/data/gaussian.js';
import { Rng } from '../../src/util/random.js';
import { unreachable } from '../../src/util/brand.js';

export const CORRUPT_KINDS = ['none', 'labels', 'random_labels', 'shuffled_pixels', 'random_pixels', 'gaussian'] as const;
export type CorruptKind = (typeof CORRUPT_KINDS)[number];
const LABEL_KINDS = ['labels', 'random_labels'];
const PIXEL_KINDS = ['shuffled_pixels', 'random_pixels'];

export interface CorruptParams {
  readonly kind: CorruptKind;
  readonly p?: number;
  readonly exclude_true?: boolean;
  readonly corrupt_test?: boolean;
  /** Pixel kinds: filled in by the schema (default `crop`). */
  readonly region?: RegionParam;
}

export type RegionParam = 'crop' | 'full' | readonly [number, number];

const READ_ROWS = 2048;

export const corrupt = definePlugin<CorruptParams>({
  name: 'corrupt',
  version: '1',
  description: 'randomization tests: none | labels (p) | random_labels | shuffled_pixels | random_pixels | gaussian',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['kind'],
    properties: {
      kind: { enum: CORRUPT_KINDS },
      p: { type: 'number', minimum: 0, maximum: 1, description: 'kind labels: probability that a label is redrawn' },
      exclude_true: { type: 'boolean', description: 'label kinds: draw the new label from the other classes only (default false)' },
      corrupt_test: {
        type: 'boolean',
        description: 'also randomize the test split (default: false for label kinds, true for image kinds)',
      },
      region: {
        oneOf: [{ enum: ['crop', 'full'] }, { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 }],
        description: `pixel kinds: where to permute: crop (default: the centre ${PAPER_CROP}×${PAPER_CROP} the train stage keeps, or the whole smaller image), full, or a centre [h, w]`,
      },
    },
    allOf: [
      { if: { properties: { kind: { const: 'labels' } } }, then: { required: ['p'] }, else: { properties: { p: false } } },
      { if: { properties: { kind: { enum: LABEL_KINDS } } }, then: {}, else: { properties: { exclude_true: false } } },
      { if: { properties: { kind: { enum: PIXEL_KINDS } } }, then: { properties: { region: { default: 'crop' } } }, else: { properties: { region: false } } },
    ],
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: {
    dataset: { kind: 'tensors', description: 'the randomized dataset, same shapes and dtypes' },
    metrics: { kind: 'json', description: 'what changed: fractions of labels, permutations, moments' },
  },
  async run(ctx) {
    const { kind } = ctx.params;
    const corruptTest = ctx.params.corrupt_test ?? !(kind === 'none' || LABEL_KINDS.includes(kind));
    const file = await (ctx.inputs['dataset'] as Artifact).readTensors();
    try {
      const info = await datasetInfo(file);
      const applies = (split: Split): boolean => kind !== 'none' && (split === 'train' || corruptTest);
      const recipe = await prepare(ctx.params, info, file, ctx.seed);
      const metadata = {
        ...file.metadata,
        corruption: JSON.stringify({ kind, ...recipe.describe, corrupt_test: corruptTest, seed: ctx.seed }),
      };
      const writer = await ctx.createTensorWriter(DATASET_OUTPUT, datasetSpecs(info, info.counts.train, info.counts.test), metadata);
      const splits: Record<string, unknown> = {};
      for (const split of SPLITS) {
        ctx.progress({ message: `${kind}: ${split}` });
        const y = await readLabels(file, split);
        const labels = applies(split) ? recipe.labels?.(y, split) : undefined;
        await writeChunked(writer, `y_${split}`, bytesOf(labels?.labels ?? y));
        const images = applies(split) ? recipe.images : undefined;
        const imageFacts = await copyImages(file, writer, info, split, images, ctx.signal);
        splits[split] = {
          randomized: applies(split),
          count: y.length,
          ...(labels && {
            labels_redrawn: labels.selected,
            labels_changed: labels.changed,
            fraction_changed: y.length === 0 ? 0 : labels.changed / y.length,
          }),
          ...imageFacts,
        };
      }
      await writer.close();
      await ctx.writeJson('metrics', { kind, seed: ctx.seed, corrupt_test: corruptTest, ...recipe.describe, ...splits });
    } finally {
      await file.close();
    }
  },
});

interface ImageTransform {
  /** Transforms one batch of `rows` images that start at image `start` of `split`. */
  (x: Uint8Array, rows: number, start: number, split: Split): Uint8Array;
  /** Facts about the split after it was transformed (e.g. realized moments). */
  facts?(split: Split): Record<string, unknown>;
}

interface Recipe {
  readonly describe: Record<string, unknown>;
  readonly labels?: (y: Int32Array, split: Split) => ReturnType<typeof corruptLabels>;
  readonly images?: ImageTransform;
}

async function prepare(params: CorruptParams, info: DatasetInfo, file: TensorFile, seed: number): Promise<Recipe> {
  const K = info.classes.length;
  const kind = params.kind;
  switch (kind) {
    case 'none':
      return { describe: {} };
    case 'labels':
    case 'random_labels': {
      const p = kind === 'labels' ? params.p! : 1;
      const excludeTrue = params.exclude_true ?? false;
      return {
        describe: { p, exclude_true: excludeTrue, classes: K, expected_fraction_changed: excludeTrue ? p : p * (1 - 1 / K) },
        labels: (y, split) => corruptLabels(y, K, p, Rng.derive(seed, 'corrupt', 'labels', split), excludeTrue),
      };
    }
    case 'shuffled_pixels': {
      const region = centreRegion(info, regionSize(params.region, info));
      const map = randomPositionMap(info, region, Rng.derive(seed, 'corrupt', 'shuffled_pixels'));
      let fixed = 0;
      map.forEach((src, q) => void (src === q && fixed++));
      const transform: ImageTransform = (x, rows) => {
        const out = new Uint8Array(x.length);
        applyPositionMap(x, out, rows, info.channels, map);
        return out;
      };
      return {
        describe: {
          region: [region.height, region.width],
          permutation_sha256: createHash('sha256').update(bytesOf(new Int32Array(map))).digest('hex'),
          positions_moved: map.length - fixed,
        },
        images: transform,
      };
    }
    case 'random_pixels': {
      const region = centreRegion(info, regionSize(params.region, info));
      const map = new Uint32Array(info.height * info.width);
      const rngs = { train: Rng.derive(seed, 'corrupt', 'random_pixels', 'train'), test: Rng.derive(seed, 'corrupt', 'random_pixels', 'test') };
      const size = imageSize(info);
      const transform: ImageTransform = (x, rows, _start, split) => {
        const out = new Uint8Array(x.length);
        for (let i = 0; i < rows; i++) {
          randomPositionMap(info, region, rngs[split], map);
          applyPositionMap(x.subarray(i * size, (i + 1) * size), out.subarray(i * size, (i + 1) * size), 1, info.channels, map);
        }
        return out;
      };
      return { describe: { region: [region.height, region.width] }, images: transform };
    }
    case 'gaussian': {
      const target = new MomentAccumulator(info.channels);
      for await (const { x } of imageBatches(file, 'train', info.counts.train, READ_ROWS)) target.add(x);
      const moments = target.moments();
      const sampler = fitClippedNormal(moments);
      const realized = { train: new MomentAccumulator(info.channels), test: new MomentAccumulator(info.channels) };
      const rngs = { train: Rng.derive(seed, 'corrupt', 'gaussian', 'train'), test: Rng.derive(seed, 'corrupt', 'gaussian', 'test') };
      const transform: ImageTransform = Object.assign(
        (x: Uint8Array, _rows: number, _start: number, split: Split): Uint8Array => {
          const out = new Uint8Array(x.length);
          sampleGaussianImages(out, sampler, rngs[split]);
          realized[split].add(out);
          return out;
        },
        { facts: (split: Split) => ({ realized: round(realized[split].moments()) }) },
      );
      return {
        describe: { scope: 'per channel, over the training images', target: round(moments), sampler: round({ mean: sampler.mu, std: sampler.sigma }) },
        images: transform,
      };
    }
    default:
      return unreachable(kind);
  }
}

/** The centre [h, w] a pixel kind permutes; undefined: the whole image. */
export function regionSize(region: RegionParam | undefined, shape: ImageShape): readonly [number, number] | undefined {
  if (region === undefined || region === 'full') return undefined;
  if (region === 'crop') return [Math.min(PAPER_CROP, shape.height), Math.min(PAPER_CROP, shape.width)];
  return region;
}

async function copyImages(
  file: TensorFile,
  writer: TensorStreamWriter,
  info: DatasetInfo,
  split: Split,
  transform: ImageTransform | undefined,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const size = imageSize(info);
  for await (const { start, x } of imageBatches(file, split, info.counts[split], READ_ROWS)) {
    signal.throwIfAborted();
    await writeChunked(writer, `x_${split}`, transform ? transform(x, x.length / size, start, split) : x);
  }
  return transform?.facts?.(split) ?? {};
}

function round<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v))) as T;
}
