// What runs: the immutable DAG of stage instances after sweep expansion, derived from a PipelineFile.
import type { Resources, StagePlacement } from './resources.js';
import type { DirectedGraph } from 'graphology';
import type { StageId } from '../util/brand.js';
import type { JsonValue, Plugin, Scalar } from '../plugin/types.js';
import type { KeyRecord } from './key.js';

/** One upstream artifact an input reads: an output of one stage instance. */
export interface SourceRef {
  readonly id: StageId;
  readonly output: string;
}

export interface InputBinding {
  readonly name: string;
  /** Fan-in: the plugin receives an array, in plan order. */
  readonly many: boolean;
  readonly sources: readonly SourceRef[];
}

export interface StageInstance {
  readonly id: StageId;
  /** The stage's name in the pipeline file (`train` for `train[model=mlp_1x512]`). */
  readonly stage: string;
  readonly plugin: Plugin<never>;
  /** The stage's `uses:` as written (a built-in name, or a path relative to the pipeline's folder). */
  readonly uses: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly params: { readonly [k: string]: JsonValue };
  readonly seed: number;
  readonly inputs: readonly InputBinding[];
  /** Everything in the key except input hashes, which are known only once upstream stages ran. */
  readonly keyBase: Omit<KeyRecord, 'inputs'>;
  /** Where the stage is declared, for messages: `pipelines/x.yaml:12:3`. */
  readonly where: string;
  /** How it runs, which is not part of its key: attempts after a failure (undefined: the run's default), and the time one attempt may take. */
  readonly retries?: number;
  readonly timeoutMs?: number;
  /** What it needs where it runs (absent: the plugin's defaults, see resourcesOf). */
  readonly resources?: Resources;
  /** `local`: under a distributed executor it still runs in the coordinator (`executor: local`). */
  readonly placement?: StagePlacement;
}

export interface Plan {
  /** The pipeline file's absolute path (identifies it in the store's refs). */
  readonly pipeline: string;
  /** The path as the user gave it, for messages. */
  readonly display: string;
  readonly name: string;
  readonly graph: DirectedGraph;
  readonly instances: ReadonlyMap<StageId, StageInstance>;
  /** A topological order of all instance ids (stable: file order, then matrix order). */
  readonly order: readonly StageId[];
  /** The pipeline's `slurm:` block, for `--executor slurm`. */
  readonly slurm?: SlurmSettings;
}

/** Cluster settings a pipeline may carry (`slurm:`); `--slurm-args` adds to them. */
export interface SlurmSettings {
  readonly partition?: string;
  /** The partition for stages that need a GPU (default: `partition`). */
  readonly gpuPartition?: string;
  readonly account?: string;
  /** More sbatch options, as separate arguments (`["--qos=high"]`). */
  readonly args?: readonly string[];
}
