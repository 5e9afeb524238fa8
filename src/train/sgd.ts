// SGD with momentum and L2 weight decay, written out so the update is exactly TF's MomentumOptimizer
// on loss + λ/2·‖w‖²:  v ← μ·v + (g + λ·w);  w ← w − lr·v.
// The optimizer owns the velocities; the update itself is the backend session's (session.momentum: the
// fused kernels where the backend has them, one kernel call per variable instead of four to six, or
// several variables per dispatch on WebGPU). RETHINK_FUSED_SGD=0 forces the update composed from tfjs
// ops (for comparisons); every form gives the same bits.
import type * as tfTypes from '@tensorflow/tfjs';
import type { MomentumUpdate, UpdateSlot } from '../backends/session.js';
import type { Tf } from '../models/types.js';
import { ENV } from '../util/env.js';
import { composedMomentum } from '../ops/momentum.js';

export type SgdSlot = UpdateSlot;

export interface MomentumSgdOptions {
  /** Use the session's (fused) update; false: the composed one (default: unless RETHINK_FUSED_SGD=0). */
  readonly fused?: boolean;
}

/** What a training step needs of an optimizer: the variables to differentiate and the update. */
export interface StepOptimizer {
  readonly variables: readonly tfTypes.Variable[];
  apply(grads: tfTypes.NamedTensorMap, lr: number): void;
}

export class MomentumSgd implements StepOptimizer {
  private readonly velocities: readonly tfTypes.Variable[];
  private readonly update: MomentumUpdate;

  constructor(
    tf: Tf,
    readonly slots: readonly SgdSlot[],
    readonly momentum: number,
    update: MomentumUpdate,
    options: MomentumSgdOptions = {},
  ) {
    // tidy frees the zerosLike temporaries; variables survive it.
    this.velocities = tf.tidy(() => slots.map((s) => tf.variable(tf.zerosLike(s.variable), false)));
    this.update = (options.fused ?? ENV.fusedSgd.read()) ? update : composedMomentum(tf);
  }

  get variables(): readonly tfTypes.Variable[] {
    return this.slots.map((s) => s.variable);
  }

  /** The momentum buffers, one per variable in slot order (checkpoints save and restore them). */
  get velocityVariables(): readonly tfTypes.Variable[] {
    return this.velocities;
  }

  /** Applies one update; `grads` is keyed by variable name, as tf.variableGrads returns it. */
  apply(grads: tfTypes.NamedTensorMap, lr: number): void {
    this.update.apply(this.slots, this.velocities, grads, lr, this.momentum);
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}
