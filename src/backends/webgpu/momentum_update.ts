// The webgpu session's momentum update: written into the variables' own buffers where it can
// (momentumInPlace), else several variables per RethinkMomentumUpdateGroup dispatch, else one
// RethinkMomentumUpdate per variable; the same arithmetic each way (kernels/momentum.ts). On a GPU every
// kernel call costs ~60–100 µs of JavaScript, which bounds small-batch steps (scripts/gpu/RESULTS.md).
import type * as tfType from '@tensorflow/tfjs';
import { kernelMomentum } from '../../ops/momentum.js';
import type { MomentumUpdate, UpdateSlot } from '../session.js';
import { MOMENTUM_UPDATE_GROUP, momentumGroupSize, momentumInPlace } from './kernels/momentum.js';

type Tf = typeof tfType;

function gradientOf(grads: tfType.NamedTensorMap, slot: UpdateSlot): tfType.Tensor {
  const g = grads[slot.variable.name];
  if (g === undefined) throw new Error(`no gradient for ${slot.variable.name}`);
  return g;
}

export function webgpuMomentum(tf: Tf): MomentumUpdate {
  const oneByOne = kernelMomentum(tf);
  return {
    apply(slots, velocities, grads, lr, momentum) {
      const vars = slots.map((slot, i) => ({ w: slot.variable, v: velocities[i]!, g: gradientOf(grads, slot), decay: slot.decay }));
      if (momentumInPlace(tf, vars, lr, momentum)) return;
      const group = momentumGroupSize(tf);
      if (group <= 1) {
        oneByOne.apply(slots, velocities, grads, lr, momentum);
        return;
      }
      tf.tidy(() => {
        for (let start = 0; start < slots.length; start += group) {
          const chunk = vars.slice(start, start + group);
          const inputs: Record<string, tfType.Tensor> = {};
          for (const [k, x] of chunk.entries()) Object.assign(inputs, { [`w${k}`]: x.w, [`v${k}`]: x.v, [`g${k}`]: x.g });
          const attrs = { lr, momentum, decays: chunk.map((x) => x.decay) };
          const out = tf.engine().runKernel(MOMENTUM_UPDATE_GROUP, inputs, attrs as unknown as tfType.NamedAttrMap) as tfType.Tensor[];
          for (const [k, x] of chunk.entries()) {
            x.v.assign(out[2 * k + 1]!);
            x.w.assign(out[2 * k]!);
          }
        }
      });
    },
  };
}
