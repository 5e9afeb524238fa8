// What one instance of a stage needs from the machine that runs it: a GPU or not, cores, memory and
// time. A plugin's descriptor says what it needs by default (`cores`, `gpu`); a stage's `resources:`
// overrides it. Executors map it to their engine: Slurm's sbatch options, the queue a job goes to.
// Not part of the key: where a stage runs does not change what it computes.
import { parseDuration } from '../util/duration.js';
import { parseMemory } from '../util/memory.js';

/** `required`: only a GPU machine may run it; `preferred`: uses one if it has one; `none`: CPU only. */
export type GpuNeed = 'none' | 'preferred' | 'required';
export const GPU_NEEDS: readonly GpuNeed[] = ['none', 'preferred', 'required'];

export interface Resources {
  readonly gpu: GpuNeed;
  /** GPUs to ask for when `gpu` is `required` (default 1). */
  readonly gpus?: number;
  /** Cores one instance needs (the plugin's `cores`; `all` is the machine's). */
  readonly cores: number | 'all';
  /** Memory in MiB, when the stage says. */
  readonly memoryMb?: number;
  /** Wall time one attempt may take on a cluster (Slurm's -t), in ms, when the stage says. */
  readonly timeMs?: number;
}

/** Where a stage runs under a distributed executor: `local` keeps it on the coordinator (fan-in stages). */
export type StagePlacement = 'local' | 'any';

/** A stage's `resources:` as written (forms checked by the pipeline schema). */
export interface ResourcesDecl {
  /** `none`, `preferred`, `required`, or a number of GPUs (which implies `required`). */
  readonly gpu?: GpuNeed | number;
  readonly cores?: number | 'all';
  /** MiB, or "512M", "16G". */
  readonly memory?: number | string;
  /** Seconds, or "90m", "2h". */
  readonly time?: number | string;
}

/** What a plugin needs by default (`plugin.cores`, `plugin.gpu`), with the stage's overrides. */
export function resourcesOf(plugin: { readonly cores?: number | 'all'; readonly gpu?: GpuNeed }, decl: ResourcesDecl = {}): Resources {
  const gpu = decl.gpu ?? plugin.gpu ?? 'none';
  const memoryMb = decl.memory === undefined ? undefined : parseMemory(decl.memory);
  const timeMs = decl.time === undefined ? undefined : parseDuration(decl.time);
  if (memoryMb === undefined && decl.memory !== undefined) throw new Error(`resources.memory ${JSON.stringify(decl.memory)} passed the schema but is not a size`);
  if (timeMs === undefined && decl.time !== undefined) throw new Error(`resources.time ${JSON.stringify(decl.time)} passed the schema but is not a duration`);
  return {
    ...(typeof gpu === 'number' ? { gpu: 'required', gpus: gpu } : { gpu }),
    cores: decl.cores ?? plugin.cores ?? 1,
    ...(memoryMb === undefined ? {} : { memoryMb }),
    ...(timeMs === undefined ? {} : { timeMs }),
  };
}
