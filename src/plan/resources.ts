// What one instance of a stage needs from the machine that runs it: a GPU or not, cores, memory and
// time. A plugin's descriptor says what it needs by default (`cores`, `gpu`); a stage's `resources:`
// overrides it. Executors map it to their engine: Slurm's sbatch options, the queue a job goes to.
// Not part of the key: where a stage runs does not change what it computes.
import { parseDuration } from '../util/duration.js';
import { parseMemory } from '../util/memory.js';

import { GPU_NEEDS, type GpuNeed, type ResourcesDecl } from '../config/resources-decl.js';

export { GPU_NEEDS, type GpuNeed, type ResourcesDecl };

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
