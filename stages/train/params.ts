// The train stage's `with:` (snake_case, as users write it) and its mapping to the loop's options.
// Every default here is filled in by the schema and so belongs to the cache key; `lr` and `lr_decay`
// default to the model's paper protocol (src/models/protocol.ts) through one if/then per model.
import { PAPER_CROP } from '../../src/data/pad-geometry.js';
import { protocolOf } from '../../src/models/protocol.js';
import { modelNames } from '../../src/models/registry.js';
import type { JsonSchema } from '../../src/plugin/types.js';
import { UserInputError } from '../../src/util/user-error.js';
import type { LrSchedule } from '../../src/train/schedule.js';
import type { Augmentation, Preprocessing, TrainOptions, WeightDecay } from '../../src/train/types.js';

export interface TrainParams {
  readonly model: string;
  readonly epochs: number;
  readonly batch_size: number;
  /** Default: the model's protocol (src/models/protocol.ts); null (as written): the same, resolved at run time. */
  readonly lr: number | null;
  readonly lr_decay: number;
  /** Steps per decay period; absent: an epoch (no default, so pipelines without it keep their keys). */
  readonly lr_decay_steps?: number;
  readonly lr_staircase: boolean;
  /** A per-step piecewise-constant schedule; replaces lr/lr_decay when set. */
  readonly lr_steps: { readonly boundaries: readonly number[]; readonly values: readonly number[] } | null;
  readonly momentum: number;
  readonly weight_decay: number | { readonly conv: number; readonly dense: number };
  readonly dropout: number;
  readonly augment: { readonly random_crop: boolean; readonly pad: number; readonly flip: boolean; readonly rotate_degrees: number; readonly inception: boolean };
  readonly preprocessing: { readonly mode: 'paper' | 'inception'; readonly crop: number | null; readonly standardize: boolean };
  readonly target_train_acc: number | null;
  readonly max_steps: number | null;
  readonly eval_every: number;
  readonly record_steps: boolean;
  readonly backend: string | null;
}

/** A combination of train params that cannot work together (exit 2, no stack). */
export class TrainParamsError extends UserInputError {}

const nonNegative = { type: 'number', minimum: 0 } as const;

export const trainParamsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['model'],
  properties: {
    model: { enum: [...modelNames()], description: 'one of `rethink models`' },
    epochs: { type: 'integer', minimum: 1, default: 20 },
    batch_size: { type: 'integer', minimum: 1, default: 128 },
    lr: { type: ['number', 'null'], exclusiveMinimum: 0, description: "initial learning rate (default: the model's paper value, 0.1 Inception, 0.01 the others; see `rethink models`)" },
    lr_decay: { type: 'number', exclusiveMinimum: 0, description: "learning-rate multiplier per epoch (default: the model's paper value, 0.95)" },
    lr_decay_steps: {
      type: 'integer',
      minimum: 1,
      description: "apply lr_decay every this many steps instead of every epoch: 391 is the paper's epoch (CIFAR-10 at batch 128), for subsets whose epoch is a few steps",
    },
    lr_staircase: { type: 'boolean', default: true, description: 'decay once per epoch (or lr_decay_steps) (true) or continuously per step' },
    lr_steps: {
      default: null,
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['boundaries', 'values'],
          properties: { boundaries: { type: 'array', items: { type: 'integer', minimum: 1 } }, values: { type: 'array', minItems: 1, items: nonNegative } },
        },
      ],
      description: 'piecewise-constant rate by global step: values[i] until boundaries[i]',
    },
    momentum: { type: 'number', minimum: 0, maximum: 1, default: 0.9 },
    weight_decay: {
      default: 0,
      oneOf: [
        nonNegative,
        { type: 'object', additionalProperties: false, required: ['conv', 'dense'], properties: { conv: nonNegative, dense: nonNegative } },
      ],
      description: 'L2 coefficient λ on conv and dense kernels (loss + λ/2·‖w‖²); a number applies to both',
    },
    dropout: { type: 'number', minimum: 0, maximum: 0.95, default: 0 },
    augment: {
      type: 'object',
      additionalProperties: false,
      default: { random_crop: false, pad: 0, flip: false, rotate_degrees: 0, inception: false },
      properties: {
        random_crop: { type: 'boolean', default: false, description: 'random instead of centre crop' },
        pad: { type: 'integer', minimum: 0, default: 0, description: 'zero padding per side before the random crop' },
        flip: { type: 'boolean', default: false, description: 'random horizontal flip' },
        rotate_degrees: { type: 'number', minimum: 0, maximum: 180, default: 0, description: 'random rotation in ±degrees' },
        inception: {
          type: 'boolean',
          default: false,
          description: "TF-Slim's Inception distortions instead of the above: random box (area 5–100%, aspect 3/4–4/3) resized, flip, brightness/saturation/hue/contrast; needs preprocessing.mode inception",
        },
      },
    },
    preprocessing: {
      type: 'object',
      additionalProperties: false,
      default: { mode: 'paper', crop: PAPER_CROP, standardize: true },
      properties: {
        mode: {
          enum: ['paper', 'inception'],
          default: 'paper',
          description: "paper: ÷255, centre crop, standardize (CIFAR-10); inception: TF-Slim's ImageNet eval pipeline, the central 87.5% resized to `crop`, scaled to [−1, 1]",
        },
        crop: { type: ['integer', 'null'], minimum: 1, default: PAPER_CROP, description: 'the network input side: centre-crop side (paper: 32 → 28), or the inception resize; null keeps the stored size' },
        standardize: { type: 'boolean', default: true, description: 'per-image standardization (paper mode)' },
      },
    },
    target_train_acc: { type: ['number', 'null'], minimum: 0, maximum: 1, default: null, description: 'stop after the first epoch at or above this train accuracy' },
    max_steps: { type: ['integer', 'null'], minimum: 1, default: null },
    eval_every: { type: 'integer', minimum: 0, default: 1, description: 'evaluate on the test split every N epochs (0: only at the end)' },
    record_steps: { type: 'boolean', default: false, description: 'keep every step’s loss and accuracy in the metrics' },
    backend: { type: ['string', 'null'], default: null, description: 'tfjs backend (auto, native, wasm, cpu, …); null: RETHINK_BACKEND or auto' },
  },
  // The per-model defaults: ajv fills a `then` branch's defaults, so they land in the params (and key).
  allOf: modelNames().map((name) => {
    const { lr, lrDecay } = protocolOf(name);
    return { if: { properties: { model: { const: name } } }, then: { properties: { lr: { default: lr }, lr_decay: { default: lrDecay } } } };
  }),
};

export function weightDecayOf(p: TrainParams): WeightDecay {
  return typeof p.weight_decay === 'number' ? { conv: p.weight_decay, dense: p.weight_decay } : p.weight_decay;
}

/** The initial learning rate: the given one, else the model's protocol. */
export function initialLearningRate(p: TrainParams): number {
  return p.lr ?? protocolOf(p.model).lr;
}

export function scheduleOf(p: TrainParams): LrSchedule {
  if (p.lr_steps !== null) return { kind: 'piecewise', boundaries: p.lr_steps.boundaries, values: p.lr_steps.values };
  return {
    kind: 'exponential',
    initial: initialLearningRate(p),
    decay: p.lr_decay,
    staircase: p.lr_staircase,
    ...(p.lr_decay_steps === undefined ? {} : { decaySteps: p.lr_decay_steps }),
  };
}

export function preprocessingOf(p: TrainParams, stored: { readonly height: number; readonly width: number }): Preprocessing {
  const crop = p.preprocessing.crop;
  if (p.preprocessing.mode === 'inception') return { crop: crop === null ? null : [crop, crop], standardize: p.preprocessing.standardize, inception: true };
  if (crop !== null && (crop > stored.height || crop > stored.width)) {
    throw new RangeError(`preprocessing.crop ${crop} is larger than the ${stored.height}x${stored.width} images; use null or a smaller crop`);
  }
  return { crop: crop === null ? null : [crop, crop], standardize: p.preprocessing.standardize };
}

export function augmentationOf(p: TrainParams): Augmentation | null {
  const a = p.augment;
  if (a.inception) {
    if (p.preprocessing.mode !== 'inception') throw new TrainParamsError('augment.inception needs preprocessing.mode: inception (its eval half: the central crop, scaled to [−1, 1])');
    if (a.random_crop || a.flip || a.rotate_degrees !== 0) throw new TrainParamsError('augment.inception replaces random_crop, flip and rotate_degrees: set only one kind');
    return { randomCrop: false, pad: 0, flip: false, rotateDegrees: 0, inception: true };
  }
  if (p.preprocessing.mode === 'inception' && (a.random_crop || a.flip || a.rotate_degrees !== 0)) {
    throw new TrainParamsError('preprocessing.mode inception takes augment.inception, not random_crop, flip or rotate_degrees');
  }
  if (!a.random_crop && !a.flip && a.rotate_degrees === 0) return null;
  return { randomCrop: a.random_crop, pad: a.pad, flip: a.flip, rotateDegrees: a.rotate_degrees };
}

export function trainOptionsOf(p: TrainParams, seed: number, stored: { readonly height: number; readonly width: number }): TrainOptions {
  return {
    seed,
    epochs: p.epochs,
    batchSize: p.batch_size,
    momentum: p.momentum,
    schedule: scheduleOf(p),
    weightDecay: weightDecayOf(p),
    preprocessing: preprocessingOf(p, stored),
    augmentation: augmentationOf(p),
    ...(p.target_train_acc === null ? {} : { targetTrainAcc: p.target_train_acc }),
    ...(p.max_steps === null ? {} : { maxSteps: p.max_steps }),
    recordSteps: p.record_steps,
    evalEvery: p.eval_every,
  };
}
