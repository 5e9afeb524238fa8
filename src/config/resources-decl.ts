// A stage's `resources:` as the pipeline file writes it, and the GPU needs a stage or plugin can
// declare. Config's own vocabulary (the schema checks these forms); plan/resources.ts turns them into
// the Resources an executor places.

/** `required`: only a GPU machine may run it; `preferred`: uses one if it has one; `none`: CPU only. */
export type GpuNeed = 'none' | 'preferred' | 'required';
export const GPU_NEEDS: readonly GpuNeed[] = ['none', 'preferred', 'required'];

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

