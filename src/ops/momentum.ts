// The momentum-SGD update of a set of variables, in the two backend-neutral forms a session picks from:
// composed from tfjs ops (any backend), or one RethinkMomentumUpdate kernel call per variable where the
// active backend registered it (cpu, wasm, native; webgpu groups them, backends/webgpu/momentum_update.ts).
// Both are TF's MomentumOptimizer on loss + λ/2·‖w‖²:  v ← μ·v + (g + λ·w);  w ← w − lr·v, bitwise.
import type * as tfType from '@tensorflow/tfjs';
import type { MomentumUpdate, UpdateSlot } from '../backends/session.js';
import { MOMENTUM_UPDATE } from './momentum_math.js';

type Tf = typeof tfType;

function gradientOf(grads: tfType.NamedTensorMap, slot: UpdateSlot): tfType.Tensor {
  const g = grads[slot.variable.name];
  if (g === undefined) throw new Error(`no gradient for ${slot.variable.name}`);
  return g;
}

/** The update composed from tfjs ops: four to six kernel calls per variable. */
export function composedMomentum(tf: Tf): MomentumUpdate {
  return {
    apply(slots, velocities, grads, lr, momentum) {
      tf.tidy(() => {
        for (const [i, slot] of slots.entries()) {
          const g = gradientOf(grads, slot);
          const v = velocities[i]!;
          const step = slot.decay === 0 ? g : g.add(slot.variable.mul(slot.decay));
          const next = v.mul(momentum).add(step);
          v.assign(next);
          slot.variable.assign(slot.variable.sub(next.mul(lr)));
        }
      });
    },
  };
}

/**
 * One RethinkMomentumUpdate call per variable; the composed update where the active backend has no
 * such kernel (checked per call: a process may switch backends between runs).
 */
export function kernelMomentum(tf: Tf): MomentumUpdate {
  const composed = composedMomentum(tf);
  return {
    apply(slots, velocities, grads, lr, momentum) {
      if (tf.getKernel(MOMENTUM_UPDATE, tf.getBackend()) === undefined) {
        composed.apply(slots, velocities, grads, lr, momentum);
        return;
      }
      tf.tidy(() => {
        for (const [i, slot] of slots.entries()) {
          const v = velocities[i]!;
          const attrs = { lr, momentum, decay: slot.decay };
          const [w1, v1] = tf.engine().runKernel(MOMENTUM_UPDATE, { w: slot.variable, v, g: gradientOf(grads, slot) }, attrs) as tfType.Tensor[];
          v.assign(v1!);
          slot.variable.assign(w1!);
        }
      });
    },
  };
}
