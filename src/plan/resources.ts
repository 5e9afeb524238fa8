// What one instance of a stage needs from the machine that runs it: a GPU or not, cores, memory and
// time. A plugin's descriptor says what it needs by default (`cores`, `gpu`); a stage's `resources:`
// overrides it. Executors map it to their engine: Slurm's sbatch options, the queue a job goes to.
// Not part of the key: where a stage runs does not change what it computes.

/** `required`: only a GPU machine may run it; `preferred`: uses one if it has one; `none`: CPU only. */
export type GpuNeed = 'none' | 'preferred' | 'required';

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
