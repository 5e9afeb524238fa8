// Training checkpoints in a stage's checkpoint directory: one safetensors file with the model's
// weights, the optimizer's velocities and, in its metadata, where the run stood (epochs done, global
// step, the history so far, how many masks each dropout layer has drawn). Written to a temp file and renamed, so a kill mid-save leaves the last
// good checkpoint. A run interrupted at epoch 37 of 100 resumes at epoch 38 and ends with the same
// weights as a run never interrupted (tested), because every epoch's randomness derives from the seed
// and the epoch number.
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { layout, openSafetensors, tensorBytes } from '../tensors/safetensors.js';
import type { TensorData } from '../tensors/types.js';
import type { Tf } from '../models/types.js';
import type { Checkpointer, TrainState, TrainTensors } from './types.js';
import { ENV, type EnvSource } from '../util/env.js';

const FORMAT = 'rethink-train-checkpoint/1';
const FILE = 'train.safetensors';

export interface FileCheckpointerOptions {
  /** Least time between two saves; 0 saves every epoch. */
  readonly intervalMs: number;
  /** Why a checkpoint found was not used (it does not fit the model). */
  readonly onNote?: (message: string) => void;
  /** After each save is in place (a stage copies it to the shared remote: StageContext.checkpointSaved). */
  readonly onSaved?: () => Promise<void>;
  readonly now?: () => number;
}

export class FileCheckpointer implements Checkpointer {
  private readonly now: () => number;
  private last: number;
  /** The epochs an earlier attempt had done, when `restore` resumed from its checkpoint. */
  resumedAfter: number | undefined;

  constructor(
    private readonly tf: Tf,
    private readonly dir: string,
    private readonly options: FileCheckpointerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.last = this.now();
  }

  due(): boolean {
    return this.now() - this.last >= this.options.intervalMs;
  }

  async save(tensors: TrainTensors, state: TrainState): Promise<void> {
    const data: Record<string, TensorData> = {};
    for (const [name, t] of named(tensors)) data[name] = { dtype: 'float32', shape: [...t.shape], data: (await t.data()) as Float32Array };
    const streams = Object.fromEntries(tensors.streams.map((s) => [s.name, s.draws]));
    const plan = layout(data, { format: FORMAT, state: JSON.stringify(state), streams: JSON.stringify(streams) });
    const tmp = join(this.dir, `${FILE}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.write(plan.prefix);
      for (const name of plan.order) await fh.write(tensorBytes(data[name]!));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, FILE));
    this.last = this.now();
    await this.options.onSaved?.();
  }

  async restore(tensors: TrainTensors): Promise<TrainState | undefined> {
    let file;
    try {
      file = await openSafetensors(join(this.dir, FILE));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.options.onNote?.(`checkpoint unreadable, starting over: ${(e as Error).message}`);
      return undefined;
    }
    try {
      if (file.metadata['format'] !== FORMAT) return this.discard(`checkpoint format ${file.metadata['format'] ?? 'missing'}, expected ${FORMAT}`);
      const wanted = named(tensors);
      for (const [name, t] of wanted) {
        const spec = file.tensors[name];
        if (spec?.shape.join() !== t.shape.join()) return this.discard(`checkpoint does not fit the model (${name})`);
      }
      const draws = parseStreams(file.metadata['streams']);
      for (const s of tensors.streams) {
        if (draws?.[s.name] === undefined) return this.discard(`checkpoint does not say where the masks of ${s.name} stand`);
      }
      for (const [name, t, write] of wanted) {
        const value = this.tf.tensor((await file.read(name)).data as Float32Array, [...t.shape], 'float32');
        write(value);
        value.dispose();
      }
      for (const s of tensors.streams) s.skipTo(draws![s.name]!);
      const state = JSON.parse(file.metadata['state'] ?? 'null') as TrainState;
      this.resumedAfter = state.epochsDone;
      this.options.onNote?.(`resuming from the checkpoint after epoch ${state.epochsDone} (step ${state.globalStep})`);
      return state;
    } finally {
      await file.close();
    }
  }

  private async discard(why: string): Promise<undefined> {
    this.options.onNote?.(`${why}; starting over`);
    await rm(join(this.dir, FILE), { force: true });
    return undefined;
  }
}

/** Draws by stream name, from a checkpoint's metadata; undefined when absent or not such a record. */
function parseStreams(text: string | undefined): Readonly<Record<string, number>> | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    return Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0) ? (v as Record<string, number>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every tensor a checkpoint holds, by its name in the file, and how to write a value back into it. */
function named(t: TrainTensors): [string, tfTypes.Tensor, (value: tfTypes.Tensor) => void][] {
  return [
    ...t.weights.map((w): [string, tfTypes.Tensor, (value: tfTypes.Tensor) => void] => [`weight/${w.originalName}`, w.read(), (value) => w.write(value)]),
    ...t.velocities.map((v, i): [string, tfTypes.Tensor, (value: tfTypes.Tensor) => void] => [`velocity/${i}`, v, (value) => v.assign(value)]),
  ];
}

/** RETHINK_CHECKPOINT_SECONDS: least seconds between saves (default 120; 0 every epoch; off: never). */
export function checkpointIntervalMs(env: EnvSource = process.env): number | null {
  const s = ENV.checkpointSeconds.read(env);
  return s === null ? null : s * 1000;
}
