// Counts kernel calls in one training step (forward, backward, momentum SGD): engine-level calls by
// kernel name via tf.profile on any backend, and on 'webgpu' also every GPU dispatch (tfjs's programs
// and our hand-recorded kernels). The CPU cost of a step at batch 128 on a fast GPU is about
// proportional to the dispatch count (scripts/gpu/RESULTS.md).
// --variant stock: tfjs's layers path, tf.losses.softmaxCrossEntropy and the composed update (before);
// rethink: the training step itself (src/train/step.ts).
//   node --import tsx scripts/gpu/count-calls.ts [--backend cpu|webgpu] [--models a,b] [--batch 4] [--variant stock|rethink]
//        [--warm-steps 6] [--size 16]
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/backends/select.js';
import type { BackendSession } from '../../src/backends/session.js';
import type * as tfType from '@tensorflow/tfjs';
import { getModel } from '../../src/models/registry.js';
import { sgdSlots } from '../../src/train/decay.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { trainStepOn } from '../../src/train/step.js';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    models: { type: 'string', default: 'mlp_1x512,mlp_3x512,small_alexnet,small_inception,small_inception_bn' },
    batch: { type: 'string', default: '4' },
    variant: { type: 'string', default: 'rethink' },
    top: { type: 'string', default: '0' },
    // Steps before the counted one (on webgpu with the bind groups each creates), and the image size.
    'warm-steps': { type: 'string', default: '1' },
    size: { type: 'string', default: '28' },
  },
});

type Tf = typeof tfType;

async function loadBackend(name: string): Promise<{ tf: Tf; session: BackendSession }> {
  const session = await initBackend(name);
  const tf = await import('@tensorflow/tfjs');
  await tf.ready();
  return { tf, session };
}

/**
 * Counts every GPU dispatch (webgpu only): tfjs's programs and our hand-recorded kernels
 * (src/backends/webgpu/record.ts) alike, by patching the compute pass encoder's dispatchWorkgroups.
 */
function dispatchCounter(tf: Tf): { total(): number; reset(): void } {
  let n = 0;
  const backend = tf.backend() as unknown as { device?: GPUDevice };
  if (backend.device !== undefined) {
    const pass = backend.device.createCommandEncoder().beginComputePass();
    const proto = Object.getPrototypeOf(pass) as { dispatchWorkgroups: (...a: unknown[]) => unknown };
    pass.end();
    const orig = proto.dispatchWorkgroups;
    proto.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
      n++;
      return orig.apply(this, a);
    };
  }
  return { total: () => n, reset: () => (n = 0) };
}

/** Counts calls of `method` on every object of `instance`'s class. */
function methodCounter(instance: object, method: string): { total(): number; reset(): void } {
  let n = 0;
  const proto = Object.getPrototypeOf(instance) as Record<string, (...a: unknown[]) => unknown>;
  const orig = proto[method]!;
  proto[method] = function (this: unknown, ...a: unknown[]) {
    n++;
    return orig.apply(this, a);
  };
  return { total: () => n, reset: () => (n = 0) };
}

async function main(): Promise<void> {
  const { tf, session } = await loadBackend(args.backend ?? 'cpu');
  const rethink = args.variant !== 'stock';
  const batch = Number(args.batch);
  const dispatches = dispatchCounter(tf);
  for (const name of (args.models ?? '').split(',').filter((s) => s !== '')) {
    const def = getModel(name);
    const size = Number(args.size);
    const model = await def.build({ inputShape: [size, size, 3], numClasses: 10, seed: 1, fuseBiasRelu: rethink });
    const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 0 }), 0.9, session.momentum, { fused: rethink });
    const x = tf.tensor4d(new Float32Array(batch * size * size * 3).map((_, i) => Math.sin(i)), [batch, size, size, 3]);
    const labels = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
    const y = tf.tidy(() => tf.oneHot(labels, 10));
    // rethink: the training step itself (src/train/step.ts), with its accuracy count; stock: tfjs's
    // layers path, tf.losses.softmaxCrossEntropy and the composed update, no accuracy count.
    const step = (): void => {
      if (rethink) {
        trainStepOn(tf, model, sgd, x, labels, 10, 0.01).dispose();
        session.endStep?.();
        return;
      }
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tfType.Tensor) as tfType.Scalar, [...sgd.variables]);
        sgd.apply(grads, 0.01);
      });
    };
    // Bind groups created per step (webgpu): each costs ≈17 µs of JavaScript; from the third step on,
    // only tfjs's own programs should create any (src/backends/webgpu/record.ts).
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    const bindGroups = device === undefined ? null : methodCounter(device, 'createBindGroup');
    // Buffers created per step: tfjs's pool should serve every one once warm; a staging buffer for a
    // value uploaded from JavaScript shows here too.
    const buffers = device === undefined ? null : methodCounter(device, 'createBuffer');
    const bindGroupsPerStep: number[] = [];
    const buffersPerStep: number[] = [];
    for (let i = 0; i < Number(args['warm-steps']); i++) {
      bindGroups?.reset();
      buffers?.reset();
      step(); // the first step builds layers and compiles shaders
      bindGroupsPerStep.push(bindGroups?.total() ?? 0);
      buffersPerStep.push(buffers?.total() ?? 0);
    }
    dispatches.reset();
    step();
    const nDispatch = dispatches.total();
    const info = await tf.profile(step);
    const byName = new Map<string, number>();
    for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
    const top = Number(args.top);
    console.log(
      JSON.stringify({
        model: name,
        backend: tf.getBackend(),
        variant: args.variant,
        variables: sgd.variables.length,
        kernelCalls: info.kernels.length,
        ...(tf.getBackend() === 'webgpu' ? { gpuDispatches: nDispatch, bindGroupsPerStep, buffersPerStep } : {}),
        ...(top > 0 ? { top: [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, top) } : {}),
      }),
    );
    sgd.dispose();
    model.dispose();
    tf.dispose([x, y, labels]);
  }
}

await main();
