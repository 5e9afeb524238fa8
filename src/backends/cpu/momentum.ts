// RethinkMomentumUpdate on tfjs's pure-JavaScript cpu backend: the update of ops/momentum_math.ts over
// the typed arrays in the backend's data map, one kernel call per variable instead of four to six.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { momentumOperands, momentumUpdate } from '../../ops/momentum_math.js';

interface CpuLike {
  readonly data: { get(id: unknown): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
}

export const cpuMomentumKernel: KernelFunc = (args) => {
  const { w, v, g, attrs } = momentumOperands(args);
  const b = args.backend as unknown as CpuLike;
  const vals = (t: TensorInfo): Float32Array => b.data.get(t.dataId)!.values as Float32Array;
  const n = vals(w).length;
  const wOut = new Float32Array(n);
  const vOut = new Float32Array(n);
  momentumUpdate(vals(w), vals(v), vals(g), attrs, wOut, vOut);
  return [b.makeTensorInfo([...w.shape], 'float32', wOut), b.makeTensorInfo([...w.shape], 'float32', vOut)];
};
