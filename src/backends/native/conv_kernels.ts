// Conv2D, FusedConv2D, Conv2DBackpropInput and Conv2DBackpropFilter (NHWC) on ONNX Runtime.
// Anything the graphs do not reproduce exactly (NCHW data, activations other than relu, rounding
// modes that change the output extent, dilated gradients) goes to the previously registered kernel.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv_graph.js';
import type { MatMulSpec } from './matmul_graph.js';
import { blockFits, geometryMatches, inputGradSupported } from './conv_graph.js';
import type { NativeContext } from './native_context.js';
import { runSpec } from './native_context.js';
import { expandedApplies, filterGradByExpansion, type Expanded } from './filter_grad_expanded.js';
import { Scratch } from './scratch.js';
import type { TapLayout } from './tap_graph.js';
import { tapLayout } from './tap_graph.js';
import type { RunArg, WasmBackendLike } from './wasm_heap.js';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvAttrs {
  readonly strides: number | [number, number];
  readonly pad: Pad;
  readonly dataFormat?: 'NHWC' | 'NCHW';
  readonly dilations?: number | [number, number];
  readonly dimRoundingMode?: Rounding;
  readonly activation?: string;
}

type Shape4 = [number, number, number, number];

/** tfjs's conv geometry for NHWC data (the only layout these kernels take), not depthwise. */
function nhwcConvInfo(
  xShape: Shape4,
  filterShape: Shape4,
  attrs: { readonly strides: number | [number, number]; readonly pad: Pad; readonly dimRoundingMode?: Rounding },
  dilations: number | [number, number],
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

function geometry(info: backend_util.Conv2DInfo): ConvGeometry {
  const p = info.padInfo;
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pads: [p.top, p.left, p.bottom, p.right],
  };
}

function usable(g: ConvGeometry): boolean {
  return g.n * g.h * g.w * g.ci * g.co * g.oh * g.ow > 0 && geometryMatches(g);
}

/**
 * Largest intermediate of one conv graph run, in bytes. glibc serves blocks above its mmap threshold
 * (at most 32 MiB, where malloc_threshold.ts sets it at start-up) with fresh mappings, so a graph
 * whose intermediates are larger page-faults them in on every run; batches run in chunks below it
 * instead, each chunk a zero-copy view. 16 MiB rather than the 8 it was before the threshold was
 * raised: fewer, larger GEMMs (small Inception 149 and 154 img/s against 142 and 144, small AlexNet
 * 1,064 and 1,054 against 1,011 and 998; `npm run bench -- --models small_inception,small_alexnet
 * --steps 10`, the two sizes alternating, 2026-12-08).
 */
const CHUNK_INTERMEDIATE_BYTES = 16 << 20;

/** Calls run(n0, n) over consecutive image ranges of near-equal size, each within the limit. */
function inBatchChunks(g: ConvGeometry, run: (n0: number, n: number) => void): void {
  const perImage = 4 * Math.max(g.h * g.w * g.ci, g.oh * g.ow * g.co);
  const chunks = Math.min(g.n, Math.max(1, Math.ceil((g.n * perImage) / CHUNK_INTERMEDIATE_BYTES)));
  const size = Math.ceil(g.n / chunks);
  for (let n0 = 0; n0 < g.n; n0 += size) run(n0, Math.min(size, g.n - n0));
}

/** A 1×1, stride-1, unpadded conv is a plain matmul over [N·H·W, C] rows in NHWC: no transposes. */
function isPointwise(g: ConvGeometry): boolean {
  return g.fh === 1 && g.fw === 1 && g.sh === 1 && g.sw === 1 && g.pads.every((p) => p === 0);
}

function pointwiseSpec(rows: number, k: number, n: number, transA: boolean, transB: boolean, bias: readonly number[] | null, relu: boolean): MatMulSpec {
  return { kind: 'matmul', batch: 1, m: rows, k, n, transA, transB, bias, relu };
}

const allFloat = (...ts: Array<TensorInfo | undefined>): boolean => ts.every((t) => t === undefined || t.dtype === 'float32');

export function makeConvKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs;
    const act = attrs.activation ?? 'linear';
    if (x === undefined || filter === undefined || preluActivationWeights !== undefined) return fallback(args);
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || (act !== 'linear' && act !== 'relu') || !allFloat(x, filter, bias)) return fallback(args);
    if (x.shape.length !== 4 || filter.shape.length !== 4) return fallback(args);
    const info = nhwcConvInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs, attrs.dilations ?? 1);
    const g = geometry(info);
    if (!usable(g)) return fallback(args);
    let biasDims: number[] | null = null;
    if (bias !== undefined) {
      biasDims = bias.shape.length === 1 ? bias.shape.slice() : null;
      if (biasDims === null || (biasDims[0] !== g.co && biasDims[0] !== 1)) return fallback(args);
    }
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput([g.n, g.oh, g.ow, g.co], 'float32');
    const biasArg = bias === undefined || biasDims === null ? {} : { bias: { info: bias, dims: biasDims } };
    if (isPointwise(g)) {
      inBatchChunks(g, (n0, n) => {
        const [rows, row0] = [n * g.h * g.w, n0 * g.h * g.w];
        const spec = pointwiseSpec(rows, g.ci, g.co, false, false, biasDims, act === 'relu');
        const a = { info: x, dims: [rows, g.ci], offset: row0 * g.ci };
        runSpec(ctx, kernelName, backend, spec, { a, b: { info: filter, dims: [g.ci, g.co] }, ...biasArg }, { y: { info: out, dims: [rows, g.co], offset: row0 * g.co } });
      });
      return out;
    }
    const shared = { w: { info: filter, dims: filter.shape }, ...(bias === undefined || biasDims === null ? {} : { bias: { info: bias, dims: biasDims } }) };
    inBatchChunks(g, (n0, n) => {
      const spec = { kind: 'conv-forward', g: { ...g, n }, bias: biasDims, relu: act === 'relu', block: ctx.nchwcBlock } as const;
      const x0 = { info: x, dims: [n, g.h, g.w, g.ci], offset: n0 * g.h * g.w * g.ci };
      runSpec(ctx, kernelName, backend, spec, { x: x0, ...shared }, { y: { info: out, dims: [n, g.oh, g.ow, g.co], offset: n0 * g.oh * g.ow * g.co } });
    });
    return out;
  };
}

interface BackpropInputAttrs extends ConvAttrs {
  readonly inputShape: [number, number, number, number];
}

export function makeConvInputGradKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as BackpropInputAttrs;
    if (dy === undefined || filter === undefined || !allFloat(dy, filter)) return fallback(args);
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || dy.shape.length !== 4 || filter.shape.length !== 4) return fallback(args);
    const info = nhwcConvInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs, 1);
    const g = geometry(info);
    if (!usable(g) || !inputGradSupported(g) || dy.shape[1] !== g.oh || dy.shape[2] !== g.ow) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput([g.n, g.h, g.w, g.ci], 'float32');
    if (isPointwise(g)) {
      inBatchChunks(g, (n0, n) => {
        const [rows, row0] = [n * g.h * g.w, n0 * g.h * g.w];
        const spec = pointwiseSpec(rows, g.co, g.ci, false, true, null, false);
        const a = { info: dy, dims: [rows, g.co], offset: row0 * g.co };
        runSpec(ctx, kernelName, backend, spec, { a, b: { info: filter, dims: [g.ci, g.co] } }, { y: { info: out, dims: [rows, g.ci], offset: row0 * g.ci } });
      });
      return out;
    }
    inBatchChunks(g, (n0, n) => {
      const dy0 = { info: dy, dims: [n, g.oh, g.ow, g.co], offset: n0 * g.oh * g.ow * g.co };
      const dx0 = { info: out, dims: [n, g.h, g.w, g.ci], offset: n0 * g.h * g.w * g.ci };
      runSpec(ctx, kernelName, backend, { kind: 'conv-input-grad', g: { ...g, n }, block: ctx.nchwcBlock }, { dy: dy0, w: { info: filter, dims: filter.shape } }, { dx: dx0 });
    });
    return out;
  };
}

interface BackpropFilterAttrs extends ConvAttrs {
  readonly filterShape: [number, number, number, number];
}

/**
 * Interleaved measurements (profile.ts --compare, GFLOP/s at load ≈ 2): the transposed conv on the
 * blocked NCHWc kernels was best or near-best at every AlexNet/Inception shape (5×5 64→64 @14: 56
 * vs 32 for per-tap Gemms); without them, per-tap Gemms win from 16 input channels (93 vs 54)
 * and the plain transposed conv below (the RGB input layer).
 */
function autoFilterGradMethod(g: ConvGeometry, block: number | null): 'tap-gemm' | 'transposed-conv' {
  if (blockFits(block, g.n, g.co)) return 'transposed-conv';
  return g.ci >= 16 ? 'tap-gemm' : 'transposed-conv';
}

/**
 * Which operand to expand (filter_grad_expanded.ts), or null for the formulations below. Measured
 * here (batch 128, 'same' padding, interleaved runs of 3 calls per method, best; ms), expanding dy /
 * expanding x / the blocked transposed conv:
 *  - fewer output than input channels, dy: 3×3 96→32 @28 43 / 55 / 92, 64→48 @28 47 / 48 / 77,
 *    336→160 @7 37 / 41 / 52, 5×5 64→32 @14 21 / 25 / 22;
 *  - otherwise x: 3×3 32→64 @28 39 / 34 / 59, 16→64 @28 31 / 23 / 36, 5×5 64→64 @14 40 / 39 / 44;
 *    the RGB layer, 3×3 3→96 @28 x 11 / transposed 54, 5×5 3→64 @28 19 / 23; strided layers,
 *    3×3 80→80 @28 x 23 / transposed 34, 144→96 @14 12 / 15;
 *  - neither for 8 to 31 input channels into few outputs: 3×3 16→32 @28 19 / 15 / 14, 8→16 11 / 9 / 5.5.
 * Windows over 5×5 were not measured and keep the older formulations.
 */
function autoExpansion(g: ConvGeometry): Expanded | null {
  if (g.fh * g.fw > 25) return null;
  if (g.sh !== 1 || g.sw !== 1 || g.ci < 8) return 'x';
  if (g.ci < 32) return g.co >= 4 * g.ci ? 'x' : null;
  return g.co < g.ci ? 'dy' : 'x';
}

/** The padded operands of the tap formulation. */
const scratch = new Scratch();

/** dW for stride 1 as one Gemm per tap over shifted views of the padded input (see tap_graph.ts). */
function filterGradByTaps(
  ctx: NativeContext,
  kernelName: string,
  backend: WasmBackendLike,
  g: ConvGeometry,
  layout: TapLayout,
  x: TensorInfo,
  dy: TensorInfo,
  out: TensorInfo,
): void {
  const [t, l, b, r] = g.pads;
  const full = g.n * layout.hp * layout.wp;
  let xp: Float32Array | null = null;
  if (t + l + b + r > 0) {
    xp = scratch.get(0, full * g.ci);
    const spec = { kind: 'pad-nhwc', shape: [g.n, g.h, g.w, g.ci], pads: g.pads } as const;
    runSpec(ctx, kernelName, backend, spec, { x: { info: x, dims: x.shape } }, { y: { data: xp, dims: [g.n, layout.hp, layout.wp, g.ci] } });
  }
  let dyp: RunArg = { info: dy, dims: [layout.rows, g.co] };
  if (g.oh !== layout.hp || g.ow !== layout.wp) {
    const data = scratch.get(1, full * g.co);
    const spec = { kind: 'pad-nhwc', shape: [g.n, g.oh, g.ow, g.co], pads: [0, 0, layout.hp - g.oh, layout.wp - g.ow] } as const;
    runSpec(ctx, kernelName, backend, spec, { x: { info: dy, dims: dy.shape } }, { y: { data, dims: [g.n, layout.hp, layout.wp, g.co] } });
    dyp = { data: data.subarray(0, layout.rows * g.co), dims: [layout.rows, g.co] };
  }
  const inputs: Record<string, RunArg> = { dy: dyp };
  const outputs: Record<string, RunArg> = {};
  layout.offsets.forEach((o, k) => {
    const start = o * g.ci;
    inputs[`x${k}`] =
      xp === null
        ? { info: x, dims: [layout.rows, g.ci], offset: start }
        : { data: xp.subarray(start, start + layout.rows * g.ci), dims: [layout.rows, g.ci] };
    outputs[`w${k}`] = { info: out, dims: [g.ci, g.co], offset: k * g.ci * g.co };
  });
  runSpec(ctx, kernelName, backend, { kind: 'conv-filter-grad-taps', g, layout }, inputs, outputs);
}

export function makeConvFilterGradKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc | null): KernelFunc {
  const delegate: KernelFunc = (args) => {
    if (fallback === null) throw new Error(`native: ${kernelName} case not supported and no fallback kernel is registered`);
    return fallback(args);
  };
  return (args) => {
    const { x, dy } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as BackpropFilterAttrs;
    if (x === undefined || dy === undefined || !allFloat(x, dy)) return delegate(args);
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || x.shape.length !== 4 || dy.shape.length !== 4) return delegate(args);
    const info = nhwcConvInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs, 1);
    const g = geometry(info);
    if (!usable(g) || dy.shape[1] !== g.oh || dy.shape[2] !== g.ow) return delegate(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(attrs.filterShape.slice(), 'float32');
    if (isPointwise(g) && ctx.filterGrad === 'auto') {
      const rows = g.n * g.h * g.w;
      const spec = pointwiseSpec(g.ci, rows, g.co, true, false, null, false);
      runSpec(ctx, kernelName, backend, spec, { a: { info: x, dims: [rows, g.ci] }, b: { info: dy, dims: [rows, g.co] } }, { y: { info: out, dims: [g.ci, g.co] } });
      return out;
    }
    const choice = ctx.filterGrad;
    const expanded: Expanded | null = choice === 'expanded-dy' ? 'dy' : choice === 'expanded-x' ? 'x' : choice === 'auto' ? autoExpansion(g) : null;
    if (expanded !== null && expandedApplies(expanded, g)) {
      filterGradByExpansion(expanded, ctx, kernelName, backend, g, x, dy, out);
      return out;
    }
    const layout = choice === 'taps' ? tapLayout(g) : null;
    if (layout !== null) {
      filterGradByTaps(ctx, kernelName, backend, g, layout, x, dy, out);
      return out;
    }
    const method = choice === 'auto' || choice === 'expanded-dy' || choice === 'expanded-x' ? autoFilterGradMethod(g, ctx.nchwcBlock) : choice === 'taps' ? 'transposed-conv' : choice;
    const flat = method !== 'transposed-conv';
    const dyDims = flat ? [g.n * g.oh * g.ow, g.co] : dy.shape;
    const outDims = flat ? [g.fh * g.fw * g.ci, g.co] : out.shape;
    runSpec(
      ctx,
      kernelName,
      backend,
      { kind: 'conv-filter-grad', g, method, block: ctx.nchwcBlock },
      { x: { info: x, dims: x.shape }, dy: { info: dy, dims: dyDims } },
      { dw: { info: out, dims: outDims } },
    );
    return out;
  };
}
