// Inputs, options and results of the reusable training loop.
import type * as tfTypes from '@tensorflow/tfjs';
import type { LrSchedule } from './schedule.js';
import type { StepStream } from '../models/step-stream.js';

/** Images as stored between stages: NHWC, pixel values on the 0–255 scale (uint8, or float32 for synthetic data). */
export interface ImageSet {
  readonly images: Uint8Array | Float32Array;
  /** [N, H, W, C] */
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
}

/** Per-batch preprocessing (SPEC §2.1): ÷255, centre crop, per-image standardization. Part of the train key. */
export interface Preprocessing {
  /** Centre-crop to this [height, width]; null keeps the stored size. */
  readonly crop: readonly [number, number] | null;
  /** tf.image.per_image_standardization: (x − mean) / max(std, 1/√N), per image. */
  readonly standardize: boolean;
  /**
   * TF-Slim's Inception preprocessing instead (src/train/inception-preprocess.ts): the central 87.5%,
   * resized to `crop` (which may exceed the stored size), scaled to [−1, 1]; `standardize` is unused.
   * Absent: the paper's CIFAR-10 pipeline above.
   */
  readonly inception?: true;
}

/** Train-time augmentation; every draw comes from the stage seed. */
export interface Augmentation {
  /** Random crop (instead of the centre crop) from the image zero-padded by `pad` pixels per side. */
  readonly randomCrop: boolean;
  readonly pad: number;
  readonly flip: boolean;
  /** Uniform rotation in [−deg, deg] about the crop centre, bilinear, zero fill. */
  readonly rotateDegrees: number;
  /**
   * TF-Slim's Inception distortions (random box, resize, flip, colour) instead of the above; needs the
   * Inception preprocessing (`Preprocessing.inception`).
   */
  readonly inception?: true;
}

/** L2 weight decay coefficients by layer kind, on kernels only (biases and BN offsets are not decayed). */
export interface WeightDecay {
  readonly conv: number;
  readonly dense: number;
}

export interface TrainOptions {
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly momentum: number;
  readonly schedule: LrSchedule;
  readonly weightDecay: WeightDecay;
  readonly preprocessing: Preprocessing;
  readonly augmentation: Augmentation | null;
  /** Stop after the first epoch whose online train accuracy reaches this. */
  readonly targetTrainAcc?: number;
  /** Stop after this many steps in total (benchmarks, tests). */
  readonly maxSteps?: number;
  /** Record every step's loss and accuracy in the result. */
  readonly recordSteps?: boolean;
  /** Evaluate on `test` every this many epochs (and after the last); 0 or absent: never during training. */
  readonly evalEvery?: number;
}

export interface StepProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly globalStep: number;
  readonly loss: number;
  readonly acc: number;
  readonly lr: number;
}

export interface TrainHooks {
  readonly signal?: AbortSignal;
  onStep?(p: StepProgress): void;
  onEpoch?(e: EpochRecord): void;
  /** After the first step on a GPU: the GEMM tile tuning it ran (which is why that epoch is slow). */
  onKernelTuning?(t: KernelTuning): void;
  /** Saves training at epoch ends and resumes from the last save (see checkpoint.ts). */
  readonly checkpoint?: Checkpointer;
}

/** Where training stands at the end of an epoch: with the weights and velocities, all a resume needs. */
export interface TrainState {
  readonly epochsDone: number;
  readonly globalStep: number;
  readonly history: readonly EpochRecord[];
  readonly steps: readonly StepRecord[];
}

/**
 * What a checkpoint holds: the model's weights (trainable or not), the optimizer's velocities, and
 * where each dropout layer's mask stream stands.
 */
export interface TrainTensors {
  readonly weights: readonly tfTypes.LayerVariable[];
  readonly velocities: readonly tfTypes.Variable[];
  readonly streams: readonly StepStream[];
}

export interface Checkpointer {
  /** Writes the state into `tensors` and returns it, if an earlier attempt saved one. */
  restore(tensors: TrainTensors): Promise<TrainState | undefined>;
  /** Whether an epoch that just ended should be saved (e.g. enough time since the last save). */
  due(): boolean;
  save(tensors: TrainTensors, state: TrainState): Promise<void>;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly steps: number;
  readonly lr: number;
  /** Mean cross-entropy over the epoch's mini-batches, weighted by batch size (no weight-decay term). */
  readonly loss: number;
  /** Online mini-batch accuracy averaged over the epoch (as the paper reports for training). */
  readonly acc: number;
  readonly seconds: number;
  readonly testLoss?: number;
  readonly testAcc?: number;
  /** Top-5 test accuracy, where there are more than five classes. */
  readonly testTop5?: number;
}

export interface StepRecord {
  readonly step: number;
  readonly lr: number;
  readonly loss: number;
  readonly acc: number;
}

export type StopReason = 'epochs' | 'target_train_acc' | 'max_steps';

/** The WebGPU GEMM tile tuning a run did after its first step (absent when none ran). */
export interface KernelTuning {
  /** Products the first step used; how many (the slowest) had their candidate tiles timed; how many of
   * those moved off their default tile. */
  readonly gemms: number;
  readonly tuned: number;
  readonly changed: number;
  readonly seconds: number;
}

export interface TrainResult {
  readonly history: readonly EpochRecord[];
  readonly steps?: readonly StepRecord[];
  readonly stoppedBy: StopReason;
  readonly totalSteps: number;
  readonly seconds: number;
  readonly kernelTuning?: KernelTuning;
  /** How each step ran: the backend's compiled whole step, or op by op through tfjs. */
  readonly step: 'compiled' | 'ops';
}
