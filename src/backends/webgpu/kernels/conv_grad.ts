// The backward pass of a convolution layer y = relu(conv2d(x, W) + b) (or without the ReLU) on WebGPU,
// in two or three dispatches instead of tfjs's five to six (Step and Multiply for the ReLU gradient,
// the filter gradient and its split-K sum, a Sum for db, the input gradient):
//   dz = dy·[y > 0]     — never materialised: applied where the GEMMs load dy
//   [dW; db]            — the filter-gradient GEMM (conv_gemm_specs.ts) with one more A row of ones, whose
//                         output row is db; split over K it writes partial sums that one more dispatch adds
//                         into dW and db
//   dx                  — the input-gradient GEMM, only when the layer's input needs a gradient
// Hand-recorded (../record.ts): dW and db are two outputs of one dispatch.
import type * as tfType from '@tensorflow/tfjs';
import { recordDispatch, RecordedKernel, recorderFor, submitBatchSize, type BindingDecl } from '../record.js';
import { convGeometry, geometryKey, type ConvAttrs, type ConvGeometry } from './conv_geometry.js';
import { DEFAULT_SPLIT, filterGradSpec, inputGradKey, inputGradRows, inputGradSpec, splitCount, tileFor, type DyRead } from './conv_gemm_specs.js';
import { recordedGemm, recordedSite, type RecordedGemm } from './gemm_program.js';
import { tileKey, TILE_64, type GemmSpec, type GemmTile } from './gemm_shader.js';
import { gemmTuner, PerTile } from './gemm_tuning.js';
import { CONV_GRAD } from '../../../ops/bias_relu.js';

type Info = tfType.TensorInfo;


export interface ConvGradAttrs {
  readonly strides: [number, number];
  readonly pad: 'same' | 'valid';
  readonly relu: boolean;
  /** Whether to compute dx (false for a layer fed by the model's input). */
  readonly inputGrad: boolean;
}

const F32 = (name: string): BindingDecl => ({ name, type: 'f32' });

/** The filter gradient with a bias row: rows 0..M−1 are dW (HWIO flattened), row M is db. */
export function filterBiasGradSpec(g: ConvGeometry, dyRead: DyRead, tile: GemmTile = TILE_64): { spec: GemmSpec; rows: number; splits: number } {
  const base = filterGradSpec(g, DEFAULT_SPLIT, tile, dyRead);
  const rows = base.m;
  const splits = splitCount(base);
  const n = base.n;
  const spec: GemmSpec = {
    ...base,
    m: rows + 1,
    recorded: true,
    a: {
      type: base.a.type,
      setup: `if (m == ${rows}) { return Gf(0, 0, -1); }\n${base.a.setup}`,
      load: `if (r.c < 0) { return 1.0; }\n${base.a.load}`,
    },
    store: splits === 1 ? `if (m < ${rows}) { dW[m * ${n} + n] = v; } else { db[n] = v; }` : `partial[(split * ${rows + 1} + m) * ${n} + n] = v;`,
  };
  return { spec, rows, splits };
}

const SUM_THREADS = 256;

/** dW and db from the split-K partial sums [splits][rows + 1][n]. */
function sumSplitsKernel(splits: number, rows: number, n: number): RecordedGemm {
  const size = (rows + 1) * n;
  return {
    kernel: new RecordedKernel({
      key: `rethink_conv_dwdb_sum_${splits}_${rows}_${n}`,
      outputs: [F32('dW'), F32('db')],
      inputs: [F32('partial')],
      workgroupSize: [SUM_THREADS, 1, 1],
      code: `
fn main(index : i32) {
  if (index >= ${size}) { return; }
  var s = 0.0;
  for (var j = 0; j < ${splits}; j = j + 1) { s = s + partial[j * ${size} + index]; }
  if (index < ${rows * n}) { dW[index] = s; } else { db[index - ${rows * n}] = s; }
}
`,
    }),
    groups: [Math.ceil(size / SUM_THREADS), 1, 1],
  };
}

interface WeightGradPlan {
  readonly gemm: RecordedGemm;
  readonly sum: RecordedGemm | null;
  readonly rows: number;
  readonly splits: number;
}

// Per product and tile: the GEMM tuner (gemm_tuning.ts) may move a product to another tile.
const weightPlans = new PerTile<WeightGradPlan>();
const inputKernels = new PerTile<RecordedGemm>();

/** A layer's [dW; db] product, `key`, on the tile the tuner gives it (its split, and so its outputs,
 * do not depend on the tile). */
function weightGradPlan(key: string, g: ConvGeometry, relu: boolean, x: Info, dy: Info): WeightGradPlan {
  const make = (t: GemmTile): WeightGradPlan =>
    weightPlans.get(key, t, () => {
      const { spec, rows, splits } = filterBiasGradSpec(g, relu ? 'relu' : 'plain', t);
      const inputs = relu ? ['x', 'dy', 'y'] : ['x', 'dy'];
      const gemm = recordedGemm(`${key}_${tileKey(t)}`, spec, splits === 1 ? ['dW', 'db'] : ['partial'], inputs);
      return { gemm, sum: splits === 1 ? null : sumSplitsKernel(splits, rows, g.outC), rows, splits };
    });
  const tile = gemmTuner.tile(key, TILE_64, () => {
    const p = make(TILE_64);
    const outputs = p.sum === null ? [[p.rows, g.outC], [g.outC]] : [[p.splits, p.rows + 1, g.outC]];
    const inputs = relu ? [x.shape, dy.shape, dy.shape] : [x.shape, dy.shape];
    return recordedSite(key, p.rows + 1, g.outC, (t) => make(t).gemm, [...outputs, ...inputs]);
  });
  return make(tile);
}

/** A layer's dx product, `key`, on the tile the tuner gives it. */
function inputGradKernel(key: string, g: ConvGeometry, relu: boolean, x: Info, W: Info, dy: Info): RecordedGemm {
  const make = (t: GemmTile): RecordedGemm =>
    inputKernels.get(key, t, () => {
      const spec: GemmSpec = { ...inputGradSpec(g, t, relu ? 'relu' : 'plain'), recorded: true };
      return recordedGemm(`${key}_${tileKey(t)}`, spec, ['result'], relu ? ['dy', 'y', 'W'] : ['dy', 'W']);
    });
  const m = inputGradRows(g);
  const tile = gemmTuner.tile(key, tileFor(m, g.inC), () => {
    const inputs = relu ? [dy.shape, dy.shape, W.shape] : [dy.shape, W.shape];
    return recordedSite(key, m, g.inC, make, [x.shape, ...inputs]);
  });
  return make(tile);
}

/**
 * Kernel function: inputs x [B, H, W, Cin], W [kH, kW, Cin, Cout], dy [B, oH, oW, Cout] and, when relu,
 * y (the layer's output); outputs [dx,] dW, db (dx first, and only when inputGrad). NHWC, dilation 1.
 */
export const convGradKernel =
  (tf: typeof tfType): tfType.KernelFunc =>
  (args) => {
    const { x, W, dy, y } = args.inputs as { x: Info; W: Info; dy: Info; y?: Info };
    const a = args.attrs as unknown as ConvGradAttrs;
    const b = recorderFor(args.backend);
    if (b === null) throw new Error(`${CONV_GRAD}: this tfjs-backend-webgpu lacks the internals it records with`);
    if (a.relu && y === undefined) throw new Error(`${CONV_GRAD}: relu needs the layer's output y`);
    const g = convGeometry(tf, x.shape, W.shape, { strides: a.strides, pad: a.pad } as ConvAttrs);
    if (g === null) throw new Error(`${CONV_GRAD}: unsupported convolution`);
    const submit = submitBatchSize(tf);
    const masked = a.relu ? [dy, y!] : [dy];
    const layer = `${a.relu}_${geometryKey(g)}`;
    const out: Info[] = [];
    if (a.inputGrad) {
      const c = inputGradKernel(`rethink_conv_dx_${a.relu}_${inputGradKey(g)}`, g, a.relu, x, W, dy);
      out.push(...recordDispatch(b, c.kernel, { inputs: [...masked, W], outputs: [{ shape: x.shape, dtype: 'float32' }], groups: c.groups }, submit));
    }
    const p = weightGradPlan(`rethink_conv_dwdb_${layer}`, g, a.relu, x, dy);
    const grads = [
      { shape: W.shape, dtype: 'float32' },
      { shape: [g.outC], dtype: 'float32' },
    ] as const;
    if (p.sum === null) {
      out.push(...recordDispatch(b, p.gemm.kernel, { inputs: [x, ...masked], outputs: grads, groups: p.gemm.groups }, submit));
      return out;
    }
    const [partial] = recordDispatch(b, p.gemm.kernel, { inputs: [x, ...masked], outputs: [{ shape: [p.splits, p.rows + 1, g.outC], dtype: 'float32' }], groups: p.gemm.groups }, submit);
    out.push(...recordDispatch(b, p.sum.kernel, { inputs: [partial!], outputs: grads, groups: p.sum.groups }, submit));
    b.disposeData(partial!.dataId);
    return out;
  };
