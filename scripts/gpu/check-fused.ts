// Correctness on a real GPU: the same seeded training run (one fixed random batch, N steps) with the
// fused training path and with the composed one, on WebGPU; prints both loss curves and the largest
// relative weight difference. They should agree closely; a divergence means a GPU-only bug.
//   node --import tsx scripts/gpu/check-fused.ts [--models small_alexnet,mlp_1x512] [--batch 128] [--steps 40] [--allow-software]
import { parseArgs } from 'node:util';
import type * as tfType from '@tensorflow/tfjs';
import { tryInitWebGpu } from '../../src/backends/webgpu/init.js';
import { webgpuSession } from '../../src/backends/webgpu/session.js';
import { softmaxCrossEntropyMean } from '../../src/ops/softmax_xent.js';
import { protocolOf } from '../../src/models/protocol.js';
import { getModel } from '../../src/models/registry.js';
import { sgdSlots } from '../../src/train/decay.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { relL2 } from '../../test/support/numerics.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'small_alexnet,mlp_1x512' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '40' },
    'allow-software': { type: 'boolean', default: false },
  },
});

const info = await tryInitWebGpu({ allowSoftware: args['allow-software'] });
if (!info) throw new Error('no WebGPU adapter');
const tf = await import('@tensorflow/tfjs');
console.log(JSON.stringify({ kind: 'backend', ...info }));
const momentum = webgpuSession(tf, info).momentum;

async function run(name: string, fused: boolean): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const def = getModel(name);
  const batch = Number(args.batch);
  const model = await def.build({ inputShape: [28, 28, 3], numClasses: 10, seed: 1, fuseBiasRelu: fused });
  const x = tf.randomNormal([batch, 28, 28, 3], 0, 1, 'float32', 7);
  const labels = tf.randomUniform([batch], 0, 10, 'int32', 8);
  const y = tf.oneHot(labels as tfType.Tensor1D, 10).toFloat();
  const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 0 }), 0.9, momentum, { fused });
  const losses: number[] = [];
  for (let i = 0; i < Number(args.steps); i++) {
    const { value, grads } = tf.variableGrads(() => softmaxCrossEntropyMean(tf, y, model.apply(x, { training: true }) as tfType.Tensor), [...sgd.variables]);
    sgd.apply(grads, protocolOf(def.name).lr);
    tf.dispose(grads);
    losses.push((await value.data())[0]!);
    value.dispose();
  }
  const weights = await Promise.all(sgd.variables.map(async (v) => (await v.data()) as Float32Array));
  sgd.dispose();
  model.dispose();
  tf.dispose([x, labels, y]);
  return { losses, weights };
}

for (const name of args.models.split(',')) {
  const a = await run(name, true);
  const b = await run(name, false);
  const worst = Math.max(...a.weights.map((w, i) => relL2(w, b.weights[i]!)));
  const every = (l: number[]) => l.filter((_, i) => i % 5 === 0 || i === l.length - 1).map((v) => Number(v.toFixed(4)));
  console.log(JSON.stringify({ kind: 'check', model: name, fusedLoss: every(a.losses), composedLoss: every(b.losses), worstWeightRelL2: worst }));
}
process.exit(0);
