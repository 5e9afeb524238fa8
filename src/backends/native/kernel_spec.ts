// The union of graph specs the native kernels run; a spec is also its session's cache key.

import type { ConvFilterGradSpec, ConvForwardSpec, ConvInputGradSpec } from './conv_graph.js';
import { convFilterGradGraph, convForwardGraph, convInputGradGraph } from './conv_graph.js';
import type { MatMulSpec } from './matmul_graph.js';
import { matMulGraph } from './matmul_graph.js';
import type { OnnxGraph } from './onnx_proto.js';

export type KernelSpec = MatMulSpec | ConvForwardSpec | ConvInputGradSpec | ConvFilterGradSpec;

function unreachable(x: never): never {
  throw new Error(`unexpected kernel spec ${JSON.stringify(x)}`);
}

export function graphFor(spec: KernelSpec): OnnxGraph {
  switch (spec.kind) {
    case 'matmul':
      return matMulGraph(spec);
    case 'conv-forward':
      return convForwardGraph(spec);
    case 'conv-input-grad':
      return convInputGradGraph(spec);
    case 'conv-filter-grad':
      return convFilterGradGraph(spec);
    default:
      return unreachable(spec);
  }
}

/** Useful floating-point operations of a spec (2 per multiply-add), for GFLOP/s reports. */
export function flopsOf(spec: KernelSpec): number {
  if (spec.kind === 'matmul') return 2 * spec.batch * spec.m * spec.k * spec.n;
  const g = spec.g;
  return 2 * g.n * g.oh * g.ow * g.co * g.fh * g.fw * g.ci;
}
