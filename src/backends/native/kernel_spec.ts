// The union of graph specs the native kernels run; a spec is also its session's cache key.

import type { ConvForwardSpec, ConvInputGradSpec } from './conv_graph.js';
import { convForwardGraph, convInputGradGraph } from './conv_graph.js';
import type { ConvFilterGradSpec } from './filter_grad_graph.js';
import { convFilterGradGraph } from './filter_grad_graph.js';
import type { GemmAccSpec, MatMulSpec, TransposeSpec } from './matmul_graph.js';
import { gemmAccGraph, matMulGraph, transposeGraph } from './matmul_graph.js';
import type { OnnxGraph } from '../../util/onnx-proto.js';
import type { MaxPoolGradSpec } from './pool_graph.js';
import type { ConcatSpec, SplitSpec } from './split_concat.js';
import { concatGraph, splitGraph } from './split_concat.js';
import type { PadSpec, TapGemmSpec } from './tap_graph.js';
import { padGraph, tapGemmGraph } from './tap_graph.js';
import { maxPoolGradGraph } from './pool_graph.js';
import type { LrnSpec } from './lrn_graph.js';
import { lrnGraph } from './lrn_graph.js';
import type { SumRowsSpec } from './reduce_sum.js';
import { sumRowsGraph } from './reduce_sum.js';

export type KernelSpec = MatMulSpec | GemmAccSpec | TransposeSpec | ConvForwardSpec | ConvInputGradSpec | ConvFilterGradSpec
  | MaxPoolGradSpec
  | PadSpec
  | TapGemmSpec
  | SplitSpec
  | ConcatSpec
  | LrnSpec
  | SumRowsSpec;

function unreachable(x: never): never {
  throw new Error(`unexpected kernel spec ${JSON.stringify(x)}`);
}

export function graphFor(spec: KernelSpec): OnnxGraph {
  switch (spec.kind) {
    case 'matmul':
      return matMulGraph(spec);
    case 'gemm-acc':
      return gemmAccGraph(spec);
    case 'transpose-2d':
      return transposeGraph(spec);
    case 'conv-forward':
      return convForwardGraph(spec);
    case 'conv-input-grad':
      return convInputGradGraph(spec);
    case 'conv-filter-grad':
      return convFilterGradGraph(spec);
    case 'maxpool-grad':
      return maxPoolGradGraph(spec);
    case 'pad-nhwc':
      return padGraph(spec);
    case 'conv-filter-grad-taps':
      return tapGemmGraph(spec);
    case 'split':
      return splitGraph(spec);
    case 'concat':
      return concatGraph(spec);
    case 'lrn':
    case 'lrn-grad':
      return lrnGraph(spec);
    case 'sum-rows':
      return sumRowsGraph(spec);
    default:
      return unreachable(spec);
  }
}

/** Useful floating-point operations of a spec (2 per multiply-add), for GFLOP/s reports. */
export function flopsOf(spec: KernelSpec): number {
  if (spec.kind === 'matmul') return 2 * spec.batch * spec.m * spec.k * spec.n;
  if (spec.kind === 'gemm-acc') return 2 * spec.m * spec.k * spec.n;
  // Not a FLOP count: one comparison per window element, for a rough rate only.
  if (spec.kind === 'maxpool-grad') return spec.n * spec.oh * spec.ow * spec.c * spec.kh * spec.kw;
  if (spec.kind === 'pad-nhwc' || spec.kind === 'transpose-2d' || spec.kind === 'split' || spec.kind === 'concat' || spec.kind === 'sum-rows') return 0;
  // The band MatMuls (one forward, two in the gradient), as MLAS runs them.
  if ('radius' in spec) return (spec.kind === 'lrn' ? 2 : 4) * spec.m * spec.c * spec.c;
  const g = spec.g;
  return 2 * g.n * g.oh * g.ow * g.co * g.fh * g.fw * g.ci;
}
