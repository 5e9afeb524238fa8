// SGD with momentum and L2 weight decay, written out so the update is exactly TF's MomentumOptimizer
// on loss + λ/2·‖w‖²:  v ← μ·v + (g + λ·w);  w ← w − lr·v.
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from '../models/types.js';

export interface SgdSlot {
  readonly variable: tfTypes.Variable;
  /** L2 coefficient λ for this variable (0: not decayed). */
  readonly decay: number;
}

export class MomentumSgd {
  private readonly velocities: readonly tfTypes.Variable[];

  constructor(
    private readonly tf: Tf,
    private readonly slots: readonly SgdSlot[],
    private readonly momentum: number,
  ) {
    // tidy frees the zerosLike temporaries; variables survive it.
    this.velocities = tf.tidy(() => slots.map((s) => tf.variable(tf.zerosLike(s.variable), false)));
  }

  get variables(): readonly tfTypes.Variable[] {
    return this.slots.map((s) => s.variable);
  }

  /** Applies one update; `grads` is keyed by variable name, as tf.variableGrads returns it. */
  apply(grads: tfTypes.NamedTensorMap, lr: number): void {
    const tf = this.tf;
    tf.tidy(() => {
      for (const [i, slot] of this.slots.entries()) {
        const g = grads[slot.variable.name];
        if (g === undefined) throw new Error(`no gradient for ${slot.variable.name}`);
        const v = this.velocities[i]!;
        const step = slot.decay === 0 ? g : g.add(slot.variable.mul(slot.decay));
        const next = v.mul(this.momentum).add(step);
        v.assign(next);
        slot.variable.assign(slot.variable.sub(next.mul(lr)));
      }
    });
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}
