// One check run on every backend: the fused RethinkMomentumUpdate against the composed update
// (MomentumSgd with fused: false) from the same seeded weights, velocities and gradients, three steps
// with and without decay; plus one kernel call per variable (per group of them on webgpu, none for the
// in-place update there) and no leaked tensors.
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import type { MomentumUpdate } from '../../src/backends/session.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { MOMENTUM_UPDATE } from '../../src/ops/momentum_math.js';
import { MOMENTUM_UPDATE_GROUP, momentumGroupSize, webgpuMomentumOptions } from '../../src/backends/webgpu/kernels/momentum.js';
import { Rng } from '../../src/util/random.js';

type Tf = typeof tfType;

const SHAPES: readonly (readonly number[])[] = [[3, 3, 4, 5], [5], [1000]]; // 1000 > one workgroup
const DECAYS = [5e-4, 0, 0.1] as const;

function values(label: string, n: number): Float32Array {
  const rng = Rng.derive(7, 'momentum-test', label);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Final weights and velocities (flattened per variable) after three updates. */
async function run(tf: Tf, update: MomentumUpdate, fused: boolean): Promise<{ w: Float32Array[]; calls: number }> {
  const vars = tf.tidy(() => SHAPES.map((s, i) => tf.variable(tf.tensor(values(`w${i}`, s.reduce((a, b) => a * b, 1)), [...s]), true, `mt_${fused}_${i}`)));
  const sgd = new MomentumSgd(tf, vars.map((variable, i) => ({ variable, decay: DECAYS[i]! })), 0.9, update, { fused });
  let calls = 0;
  for (const [step, lr] of [0.1, 0.05, 0.3].entries()) {
    const grads: Record<string, tfType.Tensor> = {};
    vars.forEach((v, i) => (grads[v.name] = tf.tensor(values(`g${i}_${step}`, v.size), v.shape)));
    const before = tf.memory().numTensors;
    // Only the first step under tf.profile (which times each dispatch in a pass of its own).
    if (step === 0) {
      const info = await tf.profile(() => sgd.apply(grads, lr));
      calls = info.kernels.filter((k) => k.name === MOMENTUM_UPDATE || k.name === MOMENTUM_UPDATE_GROUP).length;
    } else {
      sgd.apply(grads, lr);
    }
    assert.equal(tf.memory().numTensors, before, `update leaks no tensors (fused: ${fused})`);
    tf.dispose(Object.values(grads));
  }
  const w = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
  sgd.dispose();
  tf.dispose(vars);
  return { w, calls };
}

/** Max relative difference per element (relative to max(|a|, 1e-3)). */
function maxRel(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(a[i]!), 1e-3));
  return m;
}

/** `update`: the backend session's. `tolerance` 0: bitwise identical. Returns the largest relative difference seen. */
export async function checkFusedMatchesComposed(tf: Tf, backend: string, update: MomentumUpdate, tolerance: number): Promise<number> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const composed = await run(tf, update, false);
  const fused = await run(tf, update, true);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  assert.equal(composed.calls, 0);
  // One call per variable, or per group of variables where the backend groups them (webgpu); none where
  // the update is written in place (webgpu: dispatches recorded outside any tfjs kernel).
  const inPlace = backend === 'webgpu' && webgpuMomentumOptions.onePass && webgpuMomentumOptions.inPlace;
  assert.equal(fused.calls, inPlace ? 0 : Math.ceil(SHAPES.length / momentumGroupSize(tf)), 'fused kernel calls');
  let worst = 0;
  composed.w.forEach((c, i) => {
    const f = fused.w[i]!;
    assert.equal(f.length, c.length);
    if (tolerance === 0) assert.deepEqual(f, c, `variable ${i} bitwise equal on ${backend}`);
    worst = Math.max(worst, maxRel(c, f));
  });
  assert.ok(worst <= tolerance, `fused vs composed on ${backend}: max relative difference ${worst} > ${tolerance}`);
  // The check must be able to fail: the weights really moved.
  assert.ok(maxRel(composed.w[0]!, values('w0', composed.w[0]!.length)) > 1e-3);
  return worst;
}
