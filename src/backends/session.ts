// What a training run may ask of the backend it runs on. `initBackend()` returns one BackendSession
// (issue 18); src/train/ talks to the backend only through it, so the generic loop imports no
// backend's internals. Types only: each backend builds its session in its own room.
import type * as tfTypes from '@tensorflow/tfjs';

/** The backend as provenance records it (name, tfjs backend, threads, versions, adapter). */
export interface SessionInfo {
  readonly name: string;
  readonly tfBackend: string;
  readonly threads: number;
  readonly versions: Readonly<Record<string, string>>;
  readonly adapter?: Readonly<Record<string, string>>;
}

/** What a first-step kernel tuning did (WebGPU's GEMM tiles). */
export interface KernelTuningReport {
  readonly gemms: number;
  readonly tuned: number;
  readonly changed: number;
  readonly seconds: number;
}

/** One variable the optimizer updates, with its L2 coefficient. */
export interface UpdateSlot {
  readonly variable: tfTypes.Variable;
  readonly decay: number;
}

/** Momentum SGD (TF's MomentumOptimizer on loss + λ/2‖w‖²): v ← μv + (g + λw); w ← w − lr·v. */
export interface MomentumUpdate {
  apply(slots: readonly UpdateSlot[], velocities: readonly tfTypes.Variable[], grads: tfTypes.NamedTensorMap, lr: number, momentum: number): void;
}

/** What a compiled training step needs to know: the model, its optimizer state and the batch geometry. */
export interface TrainStepSpec {
  readonly model: tfTypes.LayersModel;
  readonly slots: readonly UpdateSlot[];
  readonly velocities: readonly tfTypes.Variable[];
  readonly momentum: number;
  /** [H, W, C] of one preprocessed image. */
  readonly imageShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly batchSize: number;
}

/**
 * Consecutive training steps handed to a compiled step at once: K batches of one size B, back to back.
 * Step j trains on images [j·B·H·W·C, (j+1)·B·H·W·C) and labels [j·B, (j+1)·B) at learning rate lrs[j].
 */
export interface TrainChunk {
  readonly images: Float32Array;
  /** [B, H, W, C] of each batch. */
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
  /** One learning rate per step: K = lrs.length. */
  readonly lrs: readonly number[];
}

/** What one step of a chunk did, as trainStep reports it. */
export interface StepOutcome {
  readonly loss: number;
  readonly correct: number;
}

/**
 * Whole training steps (forward, softmax cross-entropy, backward, momentum update) run as one unit by
 * the backend, e.g. one ONNX Runtime graph, several steps per call. It owns the weights and velocities
 * while training runs: `sync()` writes them back into the tfjs variables (before evaluation,
 * checkpoints and the end).
 */
export interface CompiledTrainStep {
  /** The most steps one run() takes; the loop hands it chunks of up to this many batches. */
  readonly maxChunkSteps: number;
  /**
   * Runs the chunk's steps in order, exactly as that many single steps would (a chunk of 1 is one
   * step), and returns each step's mean loss and number correct. B may be below `batchSize` (an
   * epoch's short last batch). If it throws, the state is as before the call.
   */
  run(chunk: TrainChunk): readonly StepOutcome[];
  sync(): void;
  dispose(): void;
}

export interface BackendSession {
  readonly info: SessionInfo;
  /** Before a training run's first step (WebGPU: forget products registered by earlier runs). */
  prepareRun?(): Promise<void>;
  /** After every step (WebGPU: submit the encoded commands so buffers return to the pool). */
  endStep?(): void;
  /** After the first step, when the backend tunes kernels for the shapes it saw (WebGPU GEMM tiles). */
  tuneAfterFirstStep?(): Promise<KernelTuningReport | null>;
  /** The momentum update as this backend runs it fastest (fused kernels where it has them). */
  readonly momentum: MomentumUpdate;
  /** The whole step compiled for this model, or undefined where the backend has no such path for it. */
  compileTrainStep?(spec: TrainStepSpec): CompiledTrainStep | undefined;
  /**
   * Whether `e`, thrown by a step, is this backend out of memory (the wasm heap's 4 GiB full), which
   * a smaller batch cures; absent where the backend has no such limit.
   */
  outOfMemory?(e: unknown): boolean;
}
