// Identity without a copy. tfjs-backend-wasm's Identity copies the whole tensor (tf.clone, layers
// and gradient bookkeeping call it over a hundred times per Inception step); like the cpu backend,
// we share the data and count the extra reference, which BackendWasm.disposeData already honours.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCounted {
  readonly dataIdMap: { get(dataId: object): { refCount: number } | undefined };
}

export function makeIdentityKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = (args.inputs as Record<string, TensorInfo | undefined>)['x'];
    const entry = x === undefined || x.dtype === 'string' ? undefined : (args.backend as unknown as RefCounted).dataIdMap.get(x.dataId);
    if (x === undefined || entry === undefined || typeof entry.refCount !== 'number') return fallback(args);
    entry.refCount += 1;
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}
