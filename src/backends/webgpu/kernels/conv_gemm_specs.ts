// The three convolution products as gathered GEMMs over NHWC tensors and HWIO filters:
//   forward      y[b,oh,ow,co]  = Σ_(kh,kw,ci)  x[b, oh·s+kh−p, ow·s+kw−p, ci] · W[kh,kw,ci,co]
//   input grad   dx[b,ih,iw,ci] = Σ_(kh,kw,co) dy[b, (ih+p−kh)/s, (iw+p−kw)/s, co] · W[kh,kw,ci,co]
//   filter grad  dW[kh,kw,ci,co] = Σ_(b,oh,ow) x[b, oh·s+kh−p, ow·s+kw−p, ci] · dy[b,oh,ow,co]
// Each operand's row/column-dependent index part is in `setup` (hoisted out of the K loop).
import { geometryKey, type ConvGeometry } from './conv_geometry.js';
import { GEMM_TILES, TILE_64, type Gather, type GemmSpec, type GemmTile } from './gemm_shader.js';

function roundUp(v: number, to: number): number {
  return Math.ceil(v / to) * to;
}

/** K chunks are multiples of this, which every tile's tk divides (gemm_shader.ts GEMM_TILES). */
const K_ALIGN = 16;

/**
 * The tile an M×N product starts on, before the tuner (gemm_tuning.ts) has timed the others: 128 rows
 * once there are enough of them to keep every multiprocessor busy, 32 rows or columns where 64 would be
 * mostly padding (a small batch; a 32-channel layer), else 64×64.
 */
export function tileFor(m: number, n: number): GemmTile {
  const tm = m >= 128 * 256 ? 128 : m <= 32 ? 32 : 64;
  const tn = n <= 32 ? 32 : 64;
  const tile = GEMM_TILES.find((t) => t.tm === tm && t.tn === tn);
  if (tile === undefined) throw new Error(`tileFor: no ${tm}×${tn} tile`);
  return tile;
}


/** WGSL: row m of an [images, h, w] grid as `b` (image), and `y`, `x` within it (`r` is scratch). */
function rowPosition(h: number, w: number, y: string, x: string): string {
  return `let b = m / ${h * w}; let r = m - b * ${h * w};
    let ${y} = r / ${w}; let ${x} = r - ${y} * ${w};`;
}

function plainRowMajor(n: number): Gather {
  // B[k][n] stored row-major with row length n: setup keeps the column.
  return { type: 'i32', setup: 'return n;', load: `return W[k * ${n} + r];` };
}

/** Epilogue of the forward product: optional bias then optional ReLU (what tf.layers fuses). */
export interface ForwardEpilogue {
  readonly bias: boolean;
  readonly relu: boolean;
}

const STRUCTS = `
  struct Gx { base : i32, h0 : i32, w0 : i32 };
  struct Gf { dh : i32, dw : i32, c : i32 };
`;

export function forwardSpec(g: ConvGeometry, ep: ForwardEpilogue, tileOverride?: GemmTile): GemmSpec {
  const m = g.batch * g.outH * g.outW;
  const k = g.kH * g.kW * g.inC;
  const tile = tileOverride ?? tileFor(m, g.outC);
  let value = 'v';
  if (ep.bias) value = `(${value} + bias[n])`;
  if (ep.relu) value = `max(${value}, 0.0)`;
  return {
    m,
    n: g.outC,
    k,
    kChunk: roundUp(k, tile.tk),
    tile,
    aOrder: 'k',
    bOrder: 'n',
    helpers: STRUCTS,
    a: {
      type: 'Gx',
      setup: `
    ${rowPosition(g.outH, g.outW, 'oh', 'ow')}
    return Gx(b * ${g.inH * g.inW * g.inC}, oh * ${g.strideH} - ${g.padTop}, ow * ${g.strideW} - ${g.padLeft});`,
      load: `
    let kh = k / ${g.kW * g.inC}; let r2 = k - kh * ${g.kW * g.inC};
    let kw = r2 / ${g.inC}; let ci = r2 - kw * ${g.inC};
    let ih = r.h0 + kh; let iw = r.w0 + kw;
    if (ih < 0 || ih >= ${g.inH} || iw < 0 || iw >= ${g.inW}) { return 0.0; }
    return x[r.base + (ih * ${g.inW} + iw) * ${g.inC} + ci];`,
    },
    b: plainRowMajor(g.outC),
    store: `result[m * ${g.outC} + n] = ${value};`,
  };
}

/**
 * How the gradient operand dy is read at a flat index: plainly, or as the gradient of a ReLU that
 * follows the convolution, dy·[y > 0] with y the ReLU's output (the fused training kernels).
 */
export type DyRead = 'plain' | 'relu';

function readDy(mode: DyRead, index: string): string {
  return mode === 'relu' ? `let di = ${index};\n    return select(0.0, dy[di], y[di] > 0.0);` : `return dy[${index}];`;
}

/** Whether strided input gradients skip the taps that meet no dy (tests compare against the plain GEMM). */
export const inputGradOptions = { phases: true };

/** Rows and taps of the phase-split input gradient of a strided convolution (see phasedInputGradSpec). */
export interface InputGradPhases {
  /** Strided positions per phase along each axis: ⌈(in + pad) / s⌉. */
  readonly qH: number;
  readonly qW: number;
  /** Filter taps per phase along each axis: ⌈k / s⌉. */
  readonly tH: number;
  readonly tW: number;
  /** The product's rows (per phase) and its K per phase, padded to K_ALIGN. */
  readonly rows: number;
  readonly kPhase: number;
}

export function inputGradPhases(g: ConvGeometry): InputGradPhases | null {
  if (!inputGradOptions.phases || (g.strideH === 1 && g.strideW === 1)) return null;
  const qH = Math.floor((g.inH - 1 + g.padTop) / g.strideH) + 1;
  const qW = Math.floor((g.inW - 1 + g.padLeft) / g.strideW) + 1;
  const tH = Math.ceil(g.kH / g.strideH);
  const tW = Math.ceil(g.kW / g.strideW);
  return { qH, qW, tH, tW, rows: g.batch * qH * qW, kPhase: roundUp(tH * tW * g.outC, K_ALIGN) };
}

/** The input-gradient product's key part: its geometry, and whether it is split into phases. */
export function inputGradKey(g: ConvGeometry): string {
  return `${geometryKey(g)}${inputGradPhases(g) === null ? '' : '_phases'}`;
}

/** The rows of the input-gradient product: dx's positions, or with phases the positions of one phase. */
export function inputGradRows(g: ConvGeometry): number {
  return inputGradPhases(g)?.rows ?? g.batch * g.inH * g.inW;
}

export function inputGradSpec(g: ConvGeometry, tileOverride?: GemmTile, dyRead: DyRead = 'plain'): GemmSpec {
  const phases = inputGradPhases(g);
  if (phases !== null) return phasedInputGradSpec(g, phases, tileOverride, dyRead);
  const m = g.batch * g.inH * g.inW;
  const k = g.kH * g.kW * g.outC;
  const tile = tileOverride ?? tileFor(m, g.inC);
  const unitStride = g.strideH === 1 && g.strideW === 1;
  const dyIndex = unitStride
    ? `
    if (th >= ${g.outH} || tw >= ${g.outW}) { return 0.0; }
    ${readDy(dyRead, `r.base + (th * ${g.outW} + tw) * ${g.outC} + co`)}`
    : `
    let oh = th / ${g.strideH}; let ow = tw / ${g.strideW};
    if (oh * ${g.strideH} != th || ow * ${g.strideW} != tw || oh >= ${g.outH} || ow >= ${g.outW}) { return 0.0; }
    ${readDy(dyRead, `r.base + (oh * ${g.outW} + ow) * ${g.outC} + co`)}`;
  return {
    m,
    n: g.inC,
    k,
    kChunk: roundUp(k, tile.tk),
    tile,
    aOrder: 'k',
    bOrder: 'k',
    helpers: STRUCTS,
    a: {
      type: 'Gx',
      setup: `
    ${rowPosition(g.inH, g.inW, 'ih', 'iw')}
    return Gx(b * ${g.outH * g.outW * g.outC}, ih + ${g.padTop}, iw + ${g.padLeft});`,
      load: `
    let kh = k / ${g.kW * g.outC}; let r2 = k - kh * ${g.kW * g.outC};
    let kw = r2 / ${g.outC}; let co = r2 - kw * ${g.outC};
    let th = r.h0 - kh; let tw = r.w0 - kw;
    if (th < 0 || tw < 0) { return 0.0; }${dyIndex}`,
    },
    b: {
      type: 'i32',
      setup: 'return n;',
      load: `
    let khw = k / ${g.outC}; let co = k - khw * ${g.outC};
    return W[(khw * ${g.inC} + r) * ${g.outC} + co];`,
    },
    store: `result[m * ${g.inC} + n] = v;`,
  };
}

/**
 * The input gradient of a strided convolution without the products by zero. With stride s, dx at
 * input row ih meets dy only through the taps kh ≡ ih + pad (mod s): the plain gather (above) spends
 * (s² − 1)/s² of its multiply-adds on dy's gaps. Here dx's positions are split into s² phases
 * (ph, pw) = ((ih + padTop) mod s, (iw + padLeft) mod s), one workgroup layer (z) each, as a split-K
 * product whose splits write disjoint outputs:
 *   dx[b, s·qh + ph − padTop, s·qw + pw − padLeft, ci]
 *     = Σ_(jh < ⌈kH/s⌉, jw < ⌈kW/s⌉, co) dy[b, qh − jh, qw − jw, co] · W[ph + s·jh, pw + s·jw, ci, co]
 * (a tap past the filter's edge, or a dy index outside dy, reads 0). Each phase's K covers only its taps,
 * in the plain product's order (kh, then kw, then co ascending), and the skipped terms were exact zeros,
 * so every output is bitwise the plain product's. A 3×3 stride-2 layer does 4/9 of the multiply-adds.
 */
function phasedInputGradSpec(g: ConvGeometry, p: InputGradPhases, tileOverride?: GemmTile, dyRead: DyRead = 'plain'): GemmSpec {
  const sH = g.strideH;
  const sW = g.strideW;
  const taps = p.tH * p.tW * g.outC;
  const tile = tileOverride ?? tileFor(p.rows, g.inC);
  // Both operands decompose k alike: phase, then tap (jh, jw), then co; kh/kw past the filter read 0.
  const tap = `
    let phase = k / ${p.kPhase}; let kk = k - phase * ${p.kPhase};
    if (kk >= ${taps}) { return 0.0; }
    let t = kk / ${g.outC}; let co = kk - t * ${g.outC};
    let jh = t / ${p.tW}; let jw = t - jh * ${p.tW};
    let ph = phase / ${sW}; let pw = phase - ph * ${sW};
    let kh = ph + ${sH} * jh; let kw = pw + ${sW} * jw;
    if (kh >= ${g.kH} || kw >= ${g.kW}) { return 0.0; }`;
  return {
    m: p.rows,
    n: g.inC,
    k: sH * sW * p.kPhase,
    kChunk: p.kPhase,
    tile,
    aOrder: 'k',
    bOrder: 'k',
    helpers: STRUCTS,
    a: {
      type: 'Gx',
      setup: `
    ${rowPosition(p.qH, p.qW, 'qh', 'qw')}
    return Gx(b * ${g.outH * g.outW * g.outC}, qh, qw);`,
      load: `${tap}
    let oh = r.h0 - jh; let ow = r.w0 - jw;
    if (oh < 0 || ow < 0 || oh >= ${g.outH} || ow >= ${g.outW}) { return 0.0; }
    ${readDy(dyRead, `r.base + (oh * ${g.outW} + ow) * ${g.outC} + co`)}`,
    },
    b: {
      type: 'i32',
      setup: 'return n;',
      load: `${tap}
    return W[((kh * ${g.kW} + kw) * ${g.inC} + r) * ${g.outC} + co];`,
    },
    // Split z is the phase; rows of a phase that fall past dx's edge are not stored.
    store: `
    ${rowPosition(p.qH, p.qW, 'qh', 'qw')}
    let ph = split / ${sW}; let pw = split - ph * ${sW};
    let ih = qh * ${sH} + ph - ${g.padTop}; let iw = qw * ${sW} + pw - ${g.padLeft};
    if (ih >= 0 && ih < ${g.inH} && iw >= 0 && iw < ${g.inW}) {
      result[((b * ${g.inH} + ih) * ${g.inW} + iw) * ${g.inC} + n] = v;
    }`,
  };
}

/** How finely to split K: enough workgroups to fill a large GPU, but at least minChunk of K each. */
export interface SplitPolicy {
  readonly targetWorkgroups: number;
  readonly minChunk: number;
}
export const DEFAULT_SPLIT: SplitPolicy = { targetWorkgroups: 1024, minChunk: 256 };

/**
 * K per split of a product with M×N outputs summed over K. It depends on the shape alone, never on the
 * tile: the split fixes the order of the sums, so any tile gives bitwise the same gradient. Counted in
 * 64×64 tiles and rounded to 16, a multiple of every tile's tk.
 */
export function splitChunk(m: number, n: number, k: number, policy: SplitPolicy = DEFAULT_SPLIT): number {
  const tiles = Math.ceil(m / TILE_64.tm) * Math.ceil(n / TILE_64.tn);
  const wantSplits = Math.max(1, Math.ceil(policy.targetWorkgroups / tiles));
  const chunk = roundUp(Math.max(policy.minChunk, Math.ceil(k / wantSplits)), K_ALIGN);
  return Math.min(chunk, roundUp(k, K_ALIGN));
}

export function filterGradSpec(g: ConvGeometry, policy: SplitPolicy = DEFAULT_SPLIT, tile: GemmTile = TILE_64, dyRead: DyRead = 'plain'): GemmSpec {
  const m = g.kH * g.kW * g.inC;
  const n = g.outC;
  const k = g.batch * g.outH * g.outW;
  const kChunk = splitChunk(m, n, k, policy);
  return {
    m,
    n,
    k,
    kChunk,
    tile,
    aOrder: 'm',
    bOrder: 'n',
    helpers: STRUCTS,
    a: {
      type: 'Gf',
      setup: `
    let kh = m / ${g.kW * g.inC}; let r = m - kh * ${g.kW * g.inC};
    let kw = r / ${g.inC}; let ci = r - kw * ${g.inC};
    return Gf(kh - ${g.padTop}, kw - ${g.padLeft}, ci);`,
      load: `
    let b = k / ${g.outH * g.outW}; let r2 = k - b * ${g.outH * g.outW};
    let oh = r2 / ${g.outW}; let ow = r2 - oh * ${g.outW};
    let ih = oh * ${g.strideH} + r.dh; let iw = ow * ${g.strideW} + r.dw;
    if (ih < 0 || ih >= ${g.inH} || iw < 0 || iw >= ${g.inW}) { return 0.0; }
    return x[((b * ${g.inH} + ih) * ${g.inW} + iw) * ${g.inC} + r.c];`,
    },
    b: { type: 'i32', setup: 'return n;', load: readDy(dyRead, `k * ${n} + r`) },
    // With one split this writes the filter gradient itself; with several, partial sums [split][m][n].
    store: `result[(split * ${m} + m) * ${n} + n] = v;`,
  };
}

export function splitCount(spec: GemmSpec): number {
  return Math.ceil(spec.k / spec.kChunk);
}

