// MaxPool and MaxPoolGrad for 'webgpu' as recorded dispatches (../record.ts). tfjs's MaxPoolGrad takes
// two dispatches, one writing each window's argmax and one scattering dy through it; here each dx
// element recomputes the argmax of the few windows that cover it (2–4 windows of 9 reads for the
// paper's 3×3 stride-2 pools), so the gradient is one dispatch with no positions buffer. Ties go where
// tfjs sends them (the last maximum in row-major window order), and dy is summed in tfjs's order, so
// the results are tfjs's bit for bit. Dilation and NCHW fall back to tfjs's kernels.
import type * as tfType from '@tensorflow/tfjs';
import { RecordedKernel, recordDispatch, recorderFor, submitBatchSize, wrapGroups } from '../record.js';
import type { KernelFn } from './conv_kernels.js';
import { Memo } from '../../../util/memo.js';

type Info = tfType.TensorInfo;
type Args = { inputs: Record<string, Info | undefined>; backend: unknown; attrs: Record<string, unknown> };

const THREADS = 256;

interface PoolGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly c: number;
  readonly outH: number;
  readonly outW: number;
  readonly fH: number;
  readonly fW: number;
  readonly sH: number;
  readonly sW: number;
  readonly padTop: number;
  readonly padLeft: number;
}

function geometry(tf: typeof tfType, x: Info, attrs: Record<string, unknown>): PoolGeometry | null {
  if (x.shape.length !== 4 || x.dtype !== 'float32') return null;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs['filterSize'] as number | [number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'valid' | 'same' | number,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.dataFormat !== 'channelsLast') return null;
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    c: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    fH: info.filterHeight,
    fW: info.filterWidth,
    sH: info.strideHeight,
    sW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

const key = (g: PoolGeometry): string => Object.values(g).join('_');

/**
 * WGSL looping over the valid entries of window (oh, ow) of channel d in image b, in tfjs's order (rows,
 * then columns); `body` sees the entry's value `v` and its window position `wr`, `wc`.
 */
function forWindow(g: PoolGeometry, body: string): string {
  return `
  let r0 = oh * ${g.sH} - ${g.padTop};
  let c0 = ow * ${g.sW} - ${g.padLeft};
  for (var wr = 0; wr < ${g.fH}; wr = wr + 1) {
    let r = r0 + wr;
    if (r < 0 || r >= ${g.inH}) { continue; }
    for (var wc = 0; wc < ${g.fW}; wc = wc + 1) {
      let cc = c0 + wc;
      if (cc < 0 || cc >= ${g.inW}) { continue; }
      let v = x[((b * ${g.inH} + r) * ${g.inW} + cc) * ${g.c} + d];
      ${body}
    }
  }`;
}

/** Flat NHWC index → (b, row, col, d) of a tensor with the given height and width. */
function unflatten(g: PoolGeometry, h: number, w: number, row: string, col: string): string {
  return `let d = index % ${g.c};
  let t = index / ${g.c};
  let ${col} = t % ${w};
  let t2 = t / ${w};
  let ${row} = t2 % ${h};
  let b = t2 / ${h};`;
}

const kernels = new Memo<string, RecordedKernel>();

function forwardKernel(g: PoolGeometry): RecordedKernel {
  const k = `rethink_maxpool_${key(g)}`;
  return kernels.get(k, () => {
    const total = g.batch * g.outH * g.outW * g.c;
    return new RecordedKernel({
      key: k,
      outputs: [{ name: 'result', type: 'f32' }],
      inputs: [{ name: 'x', type: 'f32' }],
      workgroupSize: [THREADS, 1, 1],
      // tfjs's forward: max over the valid window entries, starting from -1e20.
      code: `
fn main(index : i32) {
  if (index >= ${total}) { return; }
  ${unflatten(g, g.outH, g.outW, 'oh', 'ow')}
  var m = -1.0 / pow(10.0, -20.0);
  ${forWindow(g, 'm = max(v, m);')}
  result[index] = m;
}
`,
    });
  });
}

function gradKernel(g: PoolGeometry): RecordedKernel {
  const k = `rethink_maxpoolgrad_${key(g)}`;
  return kernels.get(k, () => {
    const total = g.batch * g.inH * g.inW * g.c;
    return new RecordedKernel({
      key: k,
      outputs: [{ name: 'result', type: 'f32' }],
      inputs: [
        { name: 'dy', type: 'f32' },
        { name: 'x', type: 'f32' },
      ],
      workgroupSize: [THREADS, 1, 1],
      code: `
fn main(index : i32) {
  if (index >= ${total}) { return; }
  ${unflatten(g, g.inH, g.inW, 'xr', 'xc')}
  // The windows covering (xr, xc): oh·s − pad ≤ xr ≤ oh·s − pad + f − 1.
  let aH = xr + ${g.padTop} - ${g.fH - 1};
  let aW = xc + ${g.padLeft} - ${g.fW - 1};
  let ohLo = select(0, (aH + ${g.sH - 1}) / ${g.sH}, aH > 0);
  let owLo = select(0, (aW + ${g.sW - 1}) / ${g.sW}, aW > 0);
  let ohHi = min(${g.outH - 1}, (xr + ${g.padTop}) / ${g.sH});
  let owHi = min(${g.outW - 1}, (xc + ${g.padLeft}) / ${g.sW});
  var acc = 0.0;
  for (var oh = ohLo; oh <= ohHi; oh = oh + 1) {
    for (var ow = owLo; ow <= owHi; ow = ow + 1) {
      // This window's argmax as tfjs picks it: the last entry ≥ the running maximum.
      var best = 0.0;
      var found = false;
      var pos = -1;
      ${forWindow(g, `if (!found || v >= best) { best = v; found = true; pos = wr * ${g.fW} + wc; }`)}
      if (pos == (xr - r0) * ${g.fW} + (xc - c0)) {
        acc = acc + dy[((b * ${g.outH} + oh) * ${g.outW} + ow) * ${g.c} + d];
      }
    }
  }
  result[index] = acc;
}
`,
    });
  });
}

const flatGroups = (total: number): [number, number, number] => wrapGroups(Math.ceil(total / THREADS));

export function maxPool(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return ((args: Args) => {
    const x = args.inputs['x'];
    const rec = recorderFor(args.backend);
    const g = x === undefined || rec === null ? null : geometry(tf, x, args.attrs);
    if (g === null || rec === null) return fallback(args as never);
    const shape = [g.batch, g.outH, g.outW, g.c];
    if (shape.some((d) => d === 0)) return fallback(args as never);
    const outputs = [{ shape, dtype: 'float32' as const }];
    return recordDispatch(rec, forwardKernel(g), { inputs: [x!], outputs, groups: flatGroups(shape.reduce((a, d) => a * d, 1)) }, submitBatchSize(tf))[0]!;
  }) as unknown as KernelFn;
}

export function maxPoolGrad(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return ((args: Args) => {
    const { dy, input } = args.inputs;
    const rec = recorderFor(args.backend);
    const g = input === undefined || dy === undefined || rec === null ? null : geometry(tf, input, args.attrs);
    if (g === null || rec === null || dy!.dtype !== 'float32' || input!.shape.some((d) => d === 0)) return fallback(args as never);
    const outputs = [{ shape: input!.shape, dtype: 'float32' as const }];
    return recordDispatch(rec, gradKernel(g), { inputs: [dy!, input!], outputs, groups: flatGroups(input!.shape.reduce((a, d) => a * d, 1)) }, submitBatchSize(tf))[0]!;
  }) as unknown as KernelFn;
}
