// The three convolution products as gathered GEMMs over NHWC tensors and HWIO filters:
//   forward      y[b,oh,ow,co]  = Σ_(kh,kw,ci)  x[b, oh·s+kh−p, ow·s+kw−p, ci] · W[kh,kw,ci,co]
//   input grad   dx[b,ih,iw,ci] = Σ_(kh,kw,co) dy[b, (ih+p−kh)/s, (iw+p−kw)/s, co] · W[kh,kw,ci,co]
//   filter grad  dW[kh,kw,ci,co] = Σ_(b,oh,ow) x[b, oh·s+kh−p, ow·s+kw−p, ci] · dy[b,oh,ow,co]
import type { ConvGeometry } from './conv_geometry.js';
import { TILE_64, type GemmSpec, type GemmTile } from './gemm_shader.js';

function roundUp(v: number, to: number): number {
  return Math.ceil(v / to) * to;
}

/** Epilogue of the forward product: optional bias then optional ReLU (what tf.layers fuses). */
export interface ForwardEpilogue {
  readonly bias: boolean;
  readonly relu: boolean;
}

export function forwardSpec(g: ConvGeometry, ep: ForwardEpilogue, tile: GemmTile = TILE_64): GemmSpec {
  const k = g.kH * g.kW * g.inC;
  let value = 'v';
  if (ep.bias) value = `(${value} + bias[n])`;
  if (ep.relu) value = `max(${value}, 0.0)`;
  return {
    m: g.batch * g.outH * g.outW,
    n: g.outC,
    k,
    kChunk: roundUp(k, tile.tk),
    tile,
    aOrder: 'k',
    bOrder: 'n',
    loadA: `
    let b = m / ${g.outH * g.outW}; let r = m % ${g.outH * g.outW};
    let oh = r / ${g.outW}; let ow = r % ${g.outW};
    let kh = k / ${g.kW * g.inC}; let r2 = k % ${g.kW * g.inC};
    let kw = r2 / ${g.inC}; let ci = r2 % ${g.inC};
    let ih = oh * ${g.strideH} + kh - ${g.padTop}; let iw = ow * ${g.strideW} + kw - ${g.padLeft};
    if (ih < 0 || ih >= ${g.inH} || iw < 0 || iw >= ${g.inW}) { return 0.0; }
    return x[((b * ${g.inH} + ih) * ${g.inW} + iw) * ${g.inC} + ci];`,
    loadB: `return W[k * ${g.outC} + n];`,
    store: `result[m * ${g.outC} + n] = ${value};`,
  };
}

export function inputGradSpec(g: ConvGeometry, tile: GemmTile = TILE_64): GemmSpec {
  const k = g.kH * g.kW * g.outC;
  return {
    m: g.batch * g.inH * g.inW,
    n: g.inC,
    k,
    kChunk: roundUp(k, tile.tk),
    tile,
    aOrder: 'k',
    bOrder: 'k',
    loadA: `
    let b = m / ${g.inH * g.inW}; let r = m % ${g.inH * g.inW};
    let ih = r / ${g.inW}; let iw = r % ${g.inW};
    let kh = k / ${g.kW * g.outC}; let r2 = k % ${g.kW * g.outC};
    let kw = r2 / ${g.outC}; let co = r2 % ${g.outC};
    let th = ih + ${g.padTop} - kh; let tw = iw + ${g.padLeft} - kw;
    if (th < 0 || tw < 0) { return 0.0; }
    let oh = th / ${g.strideH}; let ow = tw / ${g.strideW};
    if (oh * ${g.strideH} != th || ow * ${g.strideW} != tw || oh >= ${g.outH} || ow >= ${g.outW}) { return 0.0; }
    return dy[((b * ${g.outH} + oh) * ${g.outW} + ow) * ${g.outC} + co];`,
    loadB: `
    let khw = k / ${g.outC}; let co = k % ${g.outC};
    return W[(khw * ${g.inC} + n) * ${g.outC} + co];`,
    store: `result[m * ${g.inC} + n] = v;`,
  };
}

/** How finely to split K: enough workgroups to fill a large GPU, but at least minChunk of K each. */
export interface SplitPolicy {
  readonly targetWorkgroups: number;
  readonly minChunk: number;
}
export const DEFAULT_SPLIT: SplitPolicy = { targetWorkgroups: 1024, minChunk: 256 };

export function filterGradSpec(g: ConvGeometry, policy: SplitPolicy = DEFAULT_SPLIT, tile: GemmTile = TILE_64): GemmSpec {
  const m = g.kH * g.kW * g.inC;
  const n = g.outC;
  const k = g.batch * g.outH * g.outW;
  const tiles = Math.ceil(m / tile.tm) * Math.ceil(n / tile.tn);
  const wantSplits = Math.max(1, Math.ceil(policy.targetWorkgroups / tiles));
  const chunk = roundUp(Math.max(policy.minChunk, Math.ceil(k / wantSplits)), tile.tk);
  const kChunk = Math.min(chunk, roundUp(k, tile.tk));
  return {
    m,
    n,
    k,
    kChunk,
    tile,
    aOrder: 'm',
    bOrder: 'n',
    loadA: `
    let kh = m / ${g.kW * g.inC}; let r = m % ${g.kW * g.inC};
    let kw = r / ${g.inC}; let ci = r % ${g.inC};
    let b = k / ${g.outH * g.outW}; let r2 = k % ${g.outH * g.outW};
    let oh = r2 / ${g.outW}; let ow = r2 % ${g.outW};
    let ih = oh * ${g.strideH} + kh - ${g.padTop}; let iw = ow * ${g.strideW} + kw - ${g.padLeft};
    if (ih < 0 || ih >= ${g.inH} || iw < 0 || iw >= ${g.inW}) { return 0.0; }
    return x[((b * ${g.inH} + ih) * ${g.inW} + iw) * ${g.inC} + ci];`,
    loadB: `return dy[k * ${n} + n];`,
    // With one split this writes the filter gradient itself; with several, partial sums [split][m][n].
    store: `result[(split * ${m} + m) * ${n} + n] = v;`,
  };
}

export function splitCount(spec: GemmSpec): number {
  return Math.ceil(spec.k / spec.kChunk);
}
