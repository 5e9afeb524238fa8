// compileNativeTrainStep: an MLP's training steps as one ONNX Runtime session, K steps per run (a Scan
// over the step graph, mlp_graph.ts), run synchronously. Every run writes the whole state out of the
// graph (9.7 MB for MLP 1x512), and where the binding cannot be kept from copying it (see
// ort_runtime.ts) copies it a second time into fresh memory, with the GC, page faults and allocator
// trimming that follow; so the state leaves the graph once per chunk of steps, not once per step.
// The step owns the weights and velocities in two sets of host buffers: a run reads set A and ORT
// writes set B in place, the next run the reverse, so nothing is copied between runs. `sync()` writes the current set into the tfjs variables.
// A batch of another size (the epoch's short last batch) gets its own session, built once.
// The state is read from the tfjs variables once, at compile time: compile after restoring a
// checkpoint, and call sync() before anything reads the variables.

import * as tf from '@tensorflow/tfjs';
import type { CompiledTrainStep, StepOutcome, TrainChunk, TrainStepSpec } from '../../session.js';
import { nativeRegistration } from '../register.js';
import type { OrtInput, OrtOptLevel, OrtRuntime, OrtSession, OrtSessionOverrides } from '../ort_runtime.js';
import { layerStateNames, mlpChunkGraph, mlpChunkNames } from './mlp_graph.js';
import { mlpLayout, type MlpLayout } from './mlp_layout.js';

/** How the step's sessions are built (the defaults are the measured best; scripts compare others). */
export interface TrainStepSessionOptions extends OrtSessionOverrides {
  readonly optLevel?: OrtOptLevel;
  /** The most steps one run takes (CompiledTrainStep.maxChunkSteps). */
  readonly chunkSteps?: number;
}

type ResolvedOptions = TrainStepSessionOptions & { readonly optLevel: OrtOptLevel };

/**
 * Measured on 2 cores (scripts/bench-mlp-step.mjs --variants default,basic,noarena,spin): 'all' lets ORT
 * fuse each hidden Gemm with its Relu; the session keeps its arena, so the step's large intermediates
 * (lr·v, λ·w) are not mapped and faulted in afresh every step. Spinning follows the runtime
 * (RETHINK_NATIVE_SPIN): on a busy machine spinning workers made the step 1.4–2.8× slower.
 */
export const DEFAULT_SESSION_OPTIONS: ResolvedOptions = { optLevel: 'all', arena: true };

/** The most rows (steps × batch) one run takes: a chunk's images stay near 40 MB (28×28×3). */
export const CHUNK_ROWS = 4096;
/** The most steps one run takes, whatever the batch: a run of batch-1 steps still ends within a second or so. */
export const MAX_CHUNK_STEPS = 128;

/**
 * Steps per run when the options do not say: as many as fit in CHUNK_ROWS rows, 1 to MAX_CHUNK_STEPS
 * (128 at batch 32, 32 at 128, 8 at 512). The measurements below date from when the binding copied
 * the whole state out of ONNX Runtime into fresh memory on every run (13.7 MB for MLP 3x512; on this
 * VM each page of it faulted in at ≈ 10 µs: 30–40 ms a run, as much as 8 steps of MLP 3x512 at batch
 * 32); ort_runtime.ts now stops that copy, and a run still writes the state once.
 * A run of three or more steps also has ORT's Scan allocate a second copy of the state the first time
 * (its ping-pong buffers), once per session. Bounding a chunk by rows rather than steps lets a small
 * batch amortise all that over as many images as a batch of 128 does. Measured (CPU ms per step, busy
 * machine) with scripts/bench-mlp-step.mjs --variants k1,k8,k16,k32,k64: MLP 1x512 at batch 128 took
 * 16.0 / 8.5 / 7.1 / 7.0 / 6.8, at batch 32 7.9 / 4.9 / – / 3.6 / 3.8, at batch 512
 * 29.6 / 21.0 / – / 21.1 / 22.4; MLP 3x512 at batch 32 with --variants k32,k128 --steps 256: 5.12
 * against 4.50 (7,794 against 9,008 img/s, best of 3 rounds).
 */
export function defaultChunkSteps(batchSize: number): number {
  return Math.max(1, Math.min(MAX_CHUNK_STEPS, Math.floor(CHUNK_ROWS / batchSize)));
}

/** One state tensor: its graph input name and the tfjs variable it mirrors. */
interface StateSlot {
  readonly name: string;
  readonly variable: tf.Variable;
}

/** Every variable the step owns, in graph order (kernel, bias and their velocities, layer by layer). */
function stateSlots(layout: MlpLayout): StateSlot[] {
  return layout.layers.flatMap((layer, i) => {
    const vars = [layer.kernel, layer.bias, layer.kernelVelocity, layer.biasVelocity];
    return layerStateNames(i).map((name, k) => ({ name, variable: vars[k]! }));
  });
}

/** One half of the double buffer: every state tensor by graph input name. */
type StateSet = Record<string, OrtInput>;

function stateSet(slots: readonly StateSlot[], read: boolean): StateSet {
  const set: StateSet = {};
  for (const { name, variable } of slots) {
    const data = read ? (variable.dataSync() as Float32Array).slice() : new Float32Array(variable.size);
    set[name] = { data, dims: variable.shape };
  }
  return set;
}

/** Per batch size: the session and the buffers its small inputs and outputs live in (K = maxChunkSteps rows). */
interface BatchSession {
  readonly session: OrtSession;
  readonly targets: Float32Array;
  readonly logits: Float32Array;
  readonly logp: Float32Array;
}

class MlpTrainStep implements CompiledTrainStep {
  readonly maxChunkSteps: number;
  private readonly slots: readonly StateSlot[];
  private readonly sets: readonly [StateSet, StateSet];
  /** Which set holds the current state. */
  private current = 0;
  private readonly sessions = new Map<number, BatchSession>();
  private readonly lrs: Float32Array;
  private disposed = false;

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly spec: TrainStepSpec,
    private readonly layout: MlpLayout,
    private readonly options: ResolvedOptions,
  ) {
    this.maxChunkSteps = options.chunkSteps ?? defaultChunkSteps(spec.batchSize);
    if (!Number.isInteger(this.maxChunkSteps) || this.maxChunkSteps < 1) throw new RangeError(`compiled train step: chunkSteps ${this.maxChunkSteps} (an integer ≥ 1)`);
    this.lrs = new Float32Array(this.maxChunkSteps);
    this.slots = stateSlots(layout);
    this.sets = [stateSet(this.slots, true), stateSet(this.slots, false)];
    this.sessionFor(spec.batchSize);
  }

  private sessionFor(batch: number): BatchSession {
    const hit = this.sessions.get(batch);
    if (hit !== undefined) return hit;
    const graph = mlpChunkGraph({
      batch,
      dims: this.layout.dims,
      kernelDecay: this.layout.layers.map((l) => l.kernelDecay),
      momentum: this.spec.momentum,
    });
    const { optLevel, chunkSteps: _, ...overrides } = this.options;
    const values = this.maxChunkSteps * batch * this.spec.numClasses;
    const made: BatchSession = {
      session: this.runtime.createSession(graph, optLevel, overrides),
      targets: new Float32Array(values),
      logits: new Float32Array(values),
      logp: new Float32Array(values),
    };
    this.sessions.set(batch, made);
    return made;
  }

  run(chunk: TrainChunk): StepOutcome[] {
    if (this.disposed) throw new Error('compiled train step: run() after dispose()');
    const { images, shape, labels, lrs } = chunk;
    const [batch, h, w, c] = shape;
    const [eh, ew, ec] = this.spec.imageShape;
    const k = lrs.length;
    if (k < 1 || k > this.maxChunkSteps) throw new RangeError(`compiled train step: a chunk of ${k} steps (1 to ${this.maxChunkSteps})`);
    if (h !== eh || w !== ew || c !== ec || batch < 1 || batch > this.spec.batchSize || labels.length !== k * batch) {
      throw new RangeError(`compiled train step: ${k} batches of [${shape.join(', ')}] with ${labels.length} labels do not fit [≤${this.spec.batchSize}, ${eh}, ${ew}, ${ec}]`);
    }
    const features = this.layout.dims[0]!;
    if (images.length !== k * batch * features) throw new RangeError(`compiled train step: ${images.length} image values for ${k} batches of ${batch} × ${features}`);
    const classes = this.spec.numClasses;
    const s = this.sessionFor(batch);
    const rows = k * batch;
    const targets = s.targets.subarray(0, rows * classes);
    targets.fill(0);
    for (let r = 0; r < rows; r++) {
      const y = labels[r]!;
      if (!(y >= 0 && y < classes)) throw new RangeError(`compiled train step: label ${y} outside [0, ${classes})`);
      targets[r * classes + y] = 1 / batch;
    }
    for (let j = 0; j < k; j++) this.lrs[j] = lrs[j]!;
    const names = mlpChunkNames;
    const inputs: Record<string, OrtInput> = {
      [names.xs]: { data: images, dims: [k, batch, features] },
      [names.targets]: { data: targets, dims: [k, batch, classes] },
      [names.lrs]: { data: this.lrs.subarray(0, k), dims: [k] },
    };
    const logits = s.logits.subarray(0, rows * classes);
    const logp = s.logp.subarray(0, rows * classes);
    const outputs: Record<string, OrtInput> = {
      [names.logits]: { data: logits, dims: [k, batch, classes] },
      [names.logp]: { data: logp, dims: [k, batch, classes] },
    };
    const from = this.sets[this.current]!;
    const to = this.sets[1 - this.current]!;
    for (const name of Object.keys(from)) {
      inputs[names.state(name)] = from[name]!;
      outputs[names.final(name)] = to[name]!;
    }
    // ORT writes only the other set: if the run throws, the current state is untouched.
    s.session.run(inputs, outputs);
    this.current = 1 - this.current;
    const outcomes: StepOutcome[] = [];
    for (let j = 0; j < k; j++) {
      const at = j * batch;
      const [loss, correct] = lossAndCorrect(
        logits.subarray(at * classes, (at + batch) * classes),
        logp.subarray(at * classes, (at + batch) * classes),
        labels.subarray(at, at + batch),
        classes,
      );
      outcomes.push({ loss, correct });
    }
    return outcomes;
  }

  sync(): void {
    const state = this.sets[this.current]!;
    tf.tidy(() => {
      // tf.tensor copies the buffer, so the variables never alias the step's state.
      for (const { name, variable } of this.slots) variable.assign(tf.tensor(state[name]!.data, variable.shape, 'float32'));
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.sessions.values()) s.session.dispose();
    this.sessions.clear();
  }
}

/**
 * [mean loss, number correct]: loss = −Σ log p(label) / B (float32 terms, as tfjs sums them), correct
 * counts rows whose first maximum logit is the label (tf.argMax's tie rule).
 */
export function lossAndCorrect(logits: Float32Array, logp: Float32Array, labels: Int32Array, classes: number): [number, number] {
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    const y = labels[r]!;
    loss += logp[r * classes + y]!;
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[r * classes + k]! > logits[r * classes + best]!) best = k;
    if (best === y) correct++;
  }
  return [-loss / labels.length, correct];
}

/**
 * The whole step compiled for `spec.model` on the native backend, or undefined when the model is not
 * an MLP this graph trains (mlp_layout.ts says which) or the native backend is not registered.
 */
export function compileNativeTrainStep(spec: TrainStepSpec, options: TrainStepSessionOptions = {}): CompiledTrainStep | undefined {
  const registration = nativeRegistration();
  if (registration === null) return undefined;
  const layout = mlpLayout(spec);
  if (layout === undefined) return undefined;
  return new MlpTrainStep(registration.runtime, spec, layout, { ...DEFAULT_SESSION_OPTIONS, ...options });
}
