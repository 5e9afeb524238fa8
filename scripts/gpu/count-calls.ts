// Counts kernel calls in one training step (forward, backward, momentum SGD), by kernel name: engine-level
// calls via tf.profile on any backend, and on 'webgpu' also the GPU dispatches (runWebGPUProgram,
// which includes kernels called from inside other kernels). The CPU cost of a step at batch 128 on a
// fast GPU is about proportional to the dispatch count (scripts/gpu/RESULTS.md).
// --variant stock: tfjs's layers path, tf.losses.softmaxCrossEntropy and the composed update (before);
// rethink: fused bias+ReLU layers, our loss and the fused update (what src/train/step.ts runs).
//   node --import tsx scripts/gpu/count-calls.ts [--backend cpu|webgpu] [--models a,b] [--batch 4] [--variant stock|rethink]
import { parseArgs } from 'node:util';
import type * as tfType from '@tensorflow/tfjs';
import { getModel } from '../../src/models/registry.js';
import { sgdSlots } from '../../src/train/decay.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { softmaxCrossEntropyMean } from '../../src/backends/fused/softmax_xent.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    models: { type: 'string', default: 'mlp_1x512,mlp_3x512,small_alexnet,small_inception,small_inception_bn' },
    batch: { type: 'string', default: '4' },
    variant: { type: 'string', default: 'rethink' },
    top: { type: 'string', default: '0' },
  },
});

type Tf = typeof tfType;

async function loadBackend(name: string): Promise<Tf> {
  if (name === 'webgpu') {
    const { tryInitWebGpu } = await import('../../src/backends/webgpu/init.js');
    if ((await tryInitWebGpu({ allowSoftware: true })) === null) throw new Error('no WebGPU adapter');
  }
  const tf = await import('@tensorflow/tfjs');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(name);
  await tf.ready();
  return tf;
}

/** Wraps the backend's dispatch entry point (webgpu only) so every GPU program run is counted. */
function dispatchCounter(tf: Tf): { readonly counts: Map<string, number>; reset(): void } {
  const counts = new Map<string, number>();
  const backend = tf.backend() as unknown as { runWebGPUProgram?: (p: { shaderKey: string }, ...rest: unknown[]) => unknown };
  const orig = backend.runWebGPUProgram;
  if (orig !== undefined) {
    backend.runWebGPUProgram = function (this: unknown, p, ...rest) {
      const key = p.shaderKey.split('_')[0] ?? p.shaderKey;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return orig.call(this, p, ...rest);
    };
  }
  return { counts, reset: () => counts.clear() };
}

async function main(): Promise<void> {
  const tf = await loadBackend(args.backend ?? 'cpu');
  const rethink = args.variant !== 'stock';
  const batch = Number(args.batch);
  const dispatches = dispatchCounter(tf);
  for (const name of (args.models ?? '').split(',').filter((s) => s !== '')) {
    const def = getModel(name);
    const model = await def.build({ inputShape: [28, 28, 3], numClasses: 10, seed: 1, fuseBiasRelu: rethink });
    const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 0 }), 0.9, { fused: rethink });
    const x = tf.tensor4d(new Float32Array(batch * 28 * 28 * 3).map((_, i) => Math.sin(i)), [batch, 28, 28, 3]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10));
    // The bench's step (scripts/gpu/bench.ts): forward, loss, gradients, update; no accuracy count.
    const step = (): void =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const logits = model.apply(x, { training: true }) as tfType.Tensor;
          return rethink ? softmaxCrossEntropyMean(tf, y, logits) : (tf.losses.softmaxCrossEntropy(y, logits) as tfType.Scalar);
        }, [...sgd.variables]);
        sgd.apply(grads, 0.01);
      });
    step(); // first step: builds layers, compiles shaders
    // Dispatches from an unprofiled step (profiling changes how the fused update dispatches); its
    // hand-recorded single dispatches bypass runWebGPUProgram, so they are added from the profile.
    dispatches.reset();
    step();
    const viaPrograms = [...dispatches.counts.values()].reduce((a, b) => a + b, 0);
    const handRecorded = (dispatches.counts.get('rethinkmomentum') ?? 0) === 0;
    const info = await tf.profile(step);
    const byName = new Map<string, number>();
    for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
    const nDispatch = viaPrograms + (handRecorded ? (byName.get('RethinkMomentumUpdate') ?? 0) : 0);
    const top = Number(args.top);
    console.log(
      JSON.stringify({
        model: name,
        backend: tf.getBackend(),
        variant: args.variant,
        variables: sgd.variables.length,
        kernelCalls: info.kernels.length,
        ...(tf.getBackend() === 'webgpu' ? { gpuDispatches: nDispatch } : {}),
        ...(top > 0 ? { top: [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, top) } : {}),
      }),
    );
    sgd.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
}

await main();
