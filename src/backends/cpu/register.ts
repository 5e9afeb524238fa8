// Everything this project adds to tfjs's pure-JavaScript 'cpu' backend: the fused momentum update.
// The other fused ops (batch norm, ReLU gradient, loss) keep tfjs's composed kernels on cpu, the
// reference every other backend is tested against.
import type * as tfType from '@tensorflow/tfjs';
import { MOMENTUM_UPDATE } from '../../ops/momentum_math.js';
import { cpuMomentumKernel } from './momentum.js';

const kernels: readonly tfType.KernelConfig[] = [{ kernelName: MOMENTUM_UPDATE, backendName: 'cpu', kernelFunc: cpuMomentumKernel }];

/** Registers the kernels (idempotent; a kernel someone else registered under a name stays). */
export function registerCpuKernels(tf: typeof tfType): void {
  for (const k of kernels) if (tf.getKernel(k.kernelName, k.backendName) === undefined) tf.registerKernel(k);
}
