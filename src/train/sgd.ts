// SGD with momentum and L2 weight decay, written out so the update is exactly TF's MomentumOptimizer
// on loss + λ/2·‖w‖²:  v ← μ·v + (g + λ·w);  w ← w − lr·v.
// Where the backend has the fused RethinkMomentumUpdate kernel (cpu, wasm, native, webgpu), each
// variable updates in one kernel call instead of four to six: on a GPU every call costs ~60–100 µs of
// JavaScript, which bounds small-batch steps (scripts/gpu/RESULTS.md). On WebGPU several variables
// share one dispatch, written into their own buffers (momentumInPlace; RethinkMomentumUpdateGroup where
// a variable's data is shared). Elsewhere the same update is
// composed from tfjs ops. RETHINK_FUSED_SGD=0 forces the composed update (for comparisons).
import type * as tfTypes from '@tensorflow/tfjs';
import { ensureMomentumKernel } from '../backends/momentum_kernels.js';
import { MOMENTUM_UPDATE } from '../ops/momentum_math.js';
import { MOMENTUM_UPDATE_GROUP, momentumGroupSize, momentumInPlace } from '../backends/webgpu/kernels/momentum.js';
import type { Tf } from '../models/types.js';

export interface SgdSlot {
  readonly variable: tfTypes.Variable;
  /** L2 coefficient λ for this variable (0: not decayed). */
  readonly decay: number;
}

export interface MomentumSgdOptions {
  /** Use the fused kernel where the backend has one (default: unless RETHINK_FUSED_SGD=0). */
  readonly fused?: boolean;
}

export class MomentumSgd {
  private readonly velocities: readonly tfTypes.Variable[];
  private readonly fused: boolean;

  constructor(
    private readonly tf: Tf,
    private readonly slots: readonly SgdSlot[],
    private readonly momentum: number,
    options: MomentumSgdOptions = {},
  ) {
    // tidy frees the zerosLike temporaries; variables survive it.
    this.velocities = tf.tidy(() => slots.map((s) => tf.variable(tf.zerosLike(s.variable), false)));
    this.fused = options.fused ?? process.env['RETHINK_FUSED_SGD'] !== '0';
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
    const tf = this.tf;
    // Checked per call: the active backend may change between steps (the kernel is registered lazily).
    const fused = this.fused && ensureMomentumKernel(tf, tf.getBackend());
    if (fused && this.applyInPlace(grads, lr)) return;
    const group = fused ? momentumGroupSize(tf) : 1;
    if (group > 1) {
      this.applyGrouped(grads, lr, group);
      return;
    }
    tf.tidy(() => {
      for (const [i, slot] of this.slots.entries()) {
        const g = grads[slot.variable.name];
        if (g === undefined) throw new Error(`no gradient for ${slot.variable.name}`);
        const v = this.velocities[i]!;
        if (fused) {
          const attrs = { lr, momentum: this.momentum, decay: slot.decay };
          const [w1, v1] = tf.engine().runKernel(MOMENTUM_UPDATE, { w: slot.variable, v, g }, attrs) as tfTypes.Tensor[];
          v.assign(v1!);
          slot.variable.assign(w1!);
          continue;
        }
        const step = slot.decay === 0 ? g : g.add(slot.variable.mul(slot.decay));
        const next = v.mul(this.momentum).add(step);
        v.assign(next);
        slot.variable.assign(slot.variable.sub(next.mul(lr)));
      }
    });
  }

  /** WebGPU: the update written into the variables' own buffers (same arithmetic); false if it cannot. */
  private applyInPlace(grads: tfTypes.NamedTensorMap, lr: number): boolean {
    const vars = this.slots.map((slot, i) => {
      const g = grads[slot.variable.name];
      if (g === undefined) throw new Error(`no gradient for ${slot.variable.name}`);
      return { w: slot.variable, v: this.velocities[i]!, g, decay: slot.decay };
    });
    return momentumInPlace(this.tf, vars, lr, this.momentum);
  }

  /** WebGPU: `group` variables per RethinkMomentumUpdateGroup dispatch (same arithmetic as one by one). */
  private applyGrouped(grads: tfTypes.NamedTensorMap, lr: number, group: number): void {
    const tf = this.tf;
    tf.tidy(() => {
      for (let start = 0; start < this.slots.length; start += group) {
        const chunk = this.slots.slice(start, start + group);
        const inputs: Record<string, tfTypes.Tensor> = {};
        for (const [k, slot] of chunk.entries()) {
          const g = grads[slot.variable.name];
          if (g === undefined) throw new Error(`no gradient for ${slot.variable.name}`);
          inputs[`w${k}`] = slot.variable;
          inputs[`v${k}`] = this.velocities[start + k]!;
          inputs[`g${k}`] = g;
        }
        const attrs = { lr, momentum: this.momentum, decays: chunk.map((s) => s.decay) };
        const out = tf.engine().runKernel(MOMENTUM_UPDATE_GROUP, inputs, attrs as unknown as tfTypes.NamedAttrMap) as tfTypes.Tensor[];
        for (const [k, slot] of chunk.entries()) {
          this.velocities[start + k]!.assign(out[2 * k + 1]!);
          slot.variable.assign(out[2 * k]!);
        }
      }
    });
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}
