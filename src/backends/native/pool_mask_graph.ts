// MaxPoolGrad (NHWC) as an ONNX graph of element-wise ops, without transposes and without ORT's
// MaxPool-with-indices (single-threaded, ~25× slower than plain MaxPool here) or ScatterElements:
//  1. each window offset (i, j), in row-major order, is a strided Slice of x padded with −∞; it
//     holds the window's first maximum where it equals the forward output y and no earlier offset
//     did (the cpu backend's choice among ties), and its share of dy is first·dy;
//  2. the shares are scattered back (col2im) by stride phase: offset i = s·di + pi lands on padded
//     row s·(oh + di) + pi, so the shares of one phase (pi, pj) are Pad-shifted by (di, dj) and
//     summed, and the s² phase sums are interleaved by Unsqueeze + Concat + Reshape;
//  3. a Slice drops the padding rows and columns.
// Needs k ≥ s in both axes (every phase receives some offset); the kernel checks that.
// Measured (2 cores, batch 128, interleaved best of 7): 128×28×28×64 3/2 same 47 ms vs 42 ms for the
// indices graph (wasm JS 71 ms); whole small-AlexNet steps A/B within noise. ORT's Pad, Concat and
// Slice copy at only ~1.5–3 GB/s (ORT profile: Pad of x 17 ms, Concats 19, Slices 14 of ~60), so
// it is opt-in (ctx.maxPoolGrad = 'mask'); a scatter without those copies would make it win.

import type { OnnxGraph, OnnxInt64Initializer, OnnxNode } from './onnx_proto.js';
import { OnnxType } from './onnx_proto.js';

export interface MaxPoolGradMaskSpec {
  readonly kind: 'maxpool-grad-mask';
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly oh: number;
  readonly ow: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  /** top, left (bottom and right follow from the output extent) */
  readonly top: number;
  readonly left: number;
}

const f = OnnxType.float;

/** Geometry of one axis: padded input extent, shifts per phase, and the scattered extent. */
function axisPlan(size: number, out: number, k: number, s: number, before: number) {
  const padAfter = Math.max(0, (out - 1) * s + k - before - size);
  const shifts = Math.ceil(k / s);
  // Phase tensors have `len` rows; after interleaving they cover len·s padded rows, which must
  // reach past the last real row.
  const len = Math.max(out + shifts - 1, Math.ceil((before + size) / s));
  return { padAfter, shifts, len };
}

export function maxPoolGradMaskGraph(s: MaxPoolGradMaskSpec): OnnxGraph {
  const rows = axisPlan(s.h, s.oh, s.kh, s.sh, s.top);
  const cols = axisPlan(s.w, s.ow, s.kw, s.sw, s.left);
  const nodes: OnnxNode[] = [];
  const inits: OnnxInt64Initializer[] = [
    { name: 'sliceAxes', dims: [2], values: [1, 2] },
    { name: 'sliceSteps', dims: [2], values: [s.sh, s.sw] },
  ];
  // Unpadded pooling ('valid' without leftovers, Inception's) slices x itself.
  const padX = s.top > 0 || s.left > 0 || rows.padAfter > 0 || cols.padAfter > 0;
  if (padX) {
    inits.push({ name: 'xpads', dims: [8], values: [0, s.top, s.left, 0, 0, rows.padAfter, cols.padAfter, 0] });
    inits.push({ name: 'negInf', dims: [], values: [Number.NEGATIVE_INFINITY], type: f });
  }
  nodes.push({ op: padX ? 'Pad' : 'Identity', inputs: padX ? ['x', 'xpads', 'negInf'] : ['x'], outputs: ['xp'] });
  // share[i][j]: dy where offset (i, j) holds the window's first maximum.
  let taken = '';
  for (let i = 0; i < s.kh; i++) {
    for (let j = 0; j < s.kw; j++) {
      const t = `${i}_${j}`;
      inits.push({ name: `st${t}`, dims: [2], values: [i, j] });
      inits.push({ name: `en${t}`, dims: [2], values: [i + (s.oh - 1) * s.sh + 1, j + (s.ow - 1) * s.sw + 1] });
      nodes.push({ op: 'Slice', inputs: ['xp', `st${t}`, `en${t}`, 'sliceAxes', 'sliceSteps'], outputs: [`xs${t}`] });
      nodes.push({ op: 'Equal', inputs: [`xs${t}`, 'y'], outputs: [`eq${t}`] });
      let first = `eq${t}`;
      if (taken !== '') {
        nodes.push({ op: 'Not', inputs: [taken], outputs: [`free${t}`] });
        nodes.push({ op: 'And', inputs: [`eq${t}`, `free${t}`], outputs: [`first${t}`] });
        first = `first${t}`;
      }
      const last = i === s.kh - 1 && j === s.kw - 1;
      if (!last) {
        if (taken === '') taken = `eq${t}`;
        else {
          nodes.push({ op: 'Or', inputs: [taken, `eq${t}`], outputs: [`taken${t}`] });
          taken = `taken${t}`;
        }
      }
      // Cast + Mul: ORT's Where is single-threaded and ~3× slower here.
      nodes.push({ op: 'Cast', inputs: [first], outputs: [`firstf${t}`], attrs: { to: { kind: 'int', value: f } } });
      nodes.push({ op: 'Mul', inputs: [`firstf${t}`, 'dy'], outputs: [`share${t}`] });
    }
  }
  // Phase sums: offset i = sh·di + pi goes to phase row pi, shifted down by di.
  const phases: string[][] = [];
  for (let pi = 0; pi < s.sh; pi++) {
    const row: string[] = [];
    for (let pj = 0; pj < s.sw; pj++) {
      const terms: string[] = [];
      for (let i = pi; i < s.kh; i += s.sh) {
        for (let j = pj; j < s.kw; j += s.sw) {
          const [di, dj] = [(i - pi) / s.sh, (j - pj) / s.sw];
          const t = `${i}_${j}`;
          const pads = [0, di, dj, 0, 0, rows.len - s.oh - di, cols.len - s.ow - dj, 0];
          inits.push({ name: `sp${t}`, dims: [8], values: pads });
          nodes.push({ op: 'Pad', inputs: [`share${t}`, `sp${t}`], outputs: [`shifted${t}`] });
          terms.push(`shifted${t}`);
        }
      }
      const name = `phase${pi}_${pj}`;
      nodes.push(terms.length === 1 ? { op: 'Identity', inputs: terms, outputs: [name] } : { op: 'Sum', inputs: terms, outputs: [name] });
      row.push(name);
    }
    phases.push(row);
  }
  // Interleave: [n, len_r, len_c, c] phases → [n, len_r, sh, len_c, sw, c] → [n, len_r·sh, len_c·sw, c].
  inits.push({ name: 'axes24', dims: [2], values: [2, 4] });
  const rowsOfPhases = phases.map((row, pi) => {
    row.forEach((p) => nodes.push({ op: 'Unsqueeze', inputs: [p, 'axes24'], outputs: [`${p}u`] }));
    const name = `prow${pi}`;
    nodes.push(row.length === 1 ? { op: 'Identity', inputs: [`${row[0]}u`], outputs: [name] } : { op: 'Concat', inputs: row.map((p) => `${p}u`), outputs: [name], attrs: { axis: { kind: 'int', value: 4 } } });
    return name;
  });
  nodes.push(rowsOfPhases.length === 1 ? { op: 'Identity', inputs: rowsOfPhases, outputs: ['inter'] } : { op: 'Concat', inputs: rowsOfPhases, outputs: ['inter'], attrs: { axis: { kind: 'int', value: 2 } } });
  inits.push({ name: 'padded', dims: [4], values: [s.n, rows.len * s.sh, cols.len * s.sw, s.c] });
  const crop = s.top > 0 || s.left > 0 || rows.len * s.sh !== s.h || cols.len * s.sw !== s.w;
  nodes.push({ op: 'Reshape', inputs: ['inter', 'padded'], outputs: [crop ? 'dxp' : 'dx'] });
  if (crop) {
    inits.push({ name: 'cropStart', dims: [2], values: [s.top, s.left] });
    inits.push({ name: 'cropEnd', dims: [2], values: [s.top + s.h, s.left + s.w] });
    nodes.push({ op: 'Slice', inputs: ['dxp', 'cropStart', 'cropEnd', 'sliceAxes'], outputs: ['dx'] });
  }
  return {
    nodes,
    initializers: inits,
    inputs: [
      { name: 'x', type: f, shape: [s.n, s.h, s.w, s.c] },
      { name: 'y', type: f, shape: [s.n, s.oh, s.ow, s.c] },
      { name: 'dy', type: f, shape: [s.n, s.oh, s.ow, s.c] },
    ],
    outputs: [{ name: 'dx', type: f, shape: [s.n, s.h, s.w, s.c] }],
  };
}
