// WGSL source for a tiled matrix product C[m][n] = Σ_k A(m,k)·B(k,n) whose operands are *gathered*:
// the conv kernels express im2col (forward, input gradient, filter gradient) as loadA/loadB index
// functions, so no im2col buffer is ever written. Split-K over workgroup z feeds small-output cases
// (the filter gradient has M·N ≈ 10⁴–10⁵ but K = batch·H·W ≈ 10⁵–10⁶).

/** Tile geometry: a workgroup of (TN/RN)×(TM/RM) threads computes a TM×TN block, RM×RN per thread. */
export interface GemmTile {
  readonly tm: number;
  readonly tn: number;
  readonly tk: number;
  readonly rm: number;
  readonly rn: number;
}

export const TILE_64: GemmTile = { tm: 64, tn: 64, tk: 16, rm: 4, rn: 4 };
export const TILE_32x64: GemmTile = { tm: 32, tn: 64, tk: 16, rm: 2, rn: 4 };

export interface GemmSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** K elements per workgroup along z; ≥ k means no split. A multiple of tile.tk. */
  readonly kChunk: number;
  readonly tile: GemmTile;
  /** WGSL body of `fn loadA(m: i32, k: i32) -> f32`, called only with m < M and k < K. */
  readonly loadA: string;
  /** WGSL body of `fn loadB(k: i32, n: i32) -> f32`, called only with k < K and n < N. */
  readonly loadB: string;
  /** Which index varies fastest between neighbouring threads when filling the A / B tiles: pick the one
   * contiguous in memory so global reads coalesce (padding keeps both orders free of bank conflicts). */
  readonly aOrder: 'm' | 'k';
  readonly bOrder: 'n' | 'k';
  /** WGSL body of `fn store(m: i32, n: i32, split: i32, v: f32)`, called only with m < M and n < N. */
  readonly store: string;
  /** Extra WGSL constants/functions the bodies use. */
  readonly helpers?: string;
}

export function workgroupSize(tile: GemmTile): [number, number, number] {
  return [tile.tn / tile.rn, tile.tm / tile.rm, 1];
}

export function gemmDispatch(spec: GemmSpec): [number, number, number] {
  return [Math.ceil(spec.n / spec.tile.tn), Math.ceil(spec.m / spec.tile.tm), Math.ceil(spec.k / spec.kChunk)];
}

/** The user-code part of a tfjs WebGPU program (tfjs prepends bindings named after variableNames). */
export function gemmShader(spec: GemmSpec): string {
  const { tm, tn, tk, rm, rn } = spec.tile;
  const [wx, wy] = workgroupSize(spec.tile);
  const threads = wx * wy;
  if ((tm * tk) % threads !== 0 || (tn * tk) % threads !== 0) throw new Error('gemmShader: tile does not divide evenly among threads');
  if (spec.kChunk % tk !== 0) throw new Error('gemmShader: kChunk must be a multiple of tk');
  const sa = tm + 1;
  const sb = tn + 1;
  const tileLoad = (which: 'A' | 'B', rows: number, fastIsK: boolean): string => {
    const count = (rows * tk) / threads;
    const outer = which === 'A' ? 'm' : 'n';
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const idx = `li + ${i * threads}`;
      const kk = fastIsK ? `(${idx}) % ${tk}` : `(${idx}) / ${rows}`;
      const rr = fastIsK ? `(${idx}) / ${tk}` : `(${idx}) % ${rows}`;
      const call = which === 'A' ? `loadA(${outer}g, kg)` : `loadB(kg, ${outer}g)`;
      const limit = which === 'A' ? 'M' : 'N';
      lines.push(`{
        let kk = ${kk}; let rr = ${rr};
        let ${outer}g = ${which === 'A' ? 'm0' : 'n0'} + rr; let kg = k0 + kk;
        var v = 0.0;
        if (${outer}g < ${limit} && kg < kEnd) { v = ${call}; }
        ${which}s[kk * ${which === 'A' ? sa : sb} + rr] = v;
      }`);
    }
    return lines.join('\n');
  };
  const accDecl: string[] = [];
  const fmas: string[] = [];
  const stores: string[] = [];
  for (let i = 0; i < rm; i++) {
    for (let j = 0; j < rn; j++) {
      accDecl.push(`var c${i}_${j} = 0.0;`);
      fmas.push(`c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
      stores.push(`{ let m = m0 + ty + ${i * wy}; let n = n0 + tx + ${j * wx};
        if (m < M && n < N) { store(m, n, split, c${i}_${j}); } }`);
    }
  }
  const aLoads = Array.from({ length: rm }, (_, i) => `let a${i} = As[kk * ${sa} + ty + ${i * wy}];`).join(' ');
  const bLoads = Array.from({ length: rn }, (_, j) => `let b${j} = Bs[kk * ${sb} + tx + ${j * wx}];`).join(' ');
  return `
  const M = ${spec.m};
  const N = ${spec.n};
  const K = ${spec.k};
  const KCHUNK = ${spec.kChunk};
  var<workgroup> As : array<f32, ${tk * sa}>;
  var<workgroup> Bs : array<f32, ${tk * sb}>;
  ${spec.helpers ?? ''}
  fn loadA(m : i32, k : i32) -> f32 { ${spec.loadA} }
  fn loadB(k : i32, n : i32) -> f32 { ${spec.loadB} }
  fn store(m : i32, n : i32, split : i32, v : f32) { ${spec.store} }
  fn main(index : i32) {
    // tfjs binds its uniform buffer to every program; 'auto' layouts drop unreferenced bindings.
    _ = uniforms.NAN;
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let li = i32(localIndex);
    let n0 = i32(workgroupId.x) * ${tn};
    let m0 = i32(workgroupId.y) * ${tm};
    let split = i32(workgroupId.z);
    let kBegin = split * KCHUNK;
    let kEnd = min(K, kBegin + KCHUNK);
    ${accDecl.join('\n    ')}
    // A constant trip count keeps the barriers in uniform control flow (workgroupId, copied into a
    // private variable by tfjs's prelude, counts as non-uniform); tiles past kEnd load zeros.
    for (var t = 0; t < ${spec.kChunk / tk}; t = t + 1) {
      let k0 = kBegin + t * ${tk};
      ${tileLoad('A', tm, spec.aOrder === 'k')}
      ${tileLoad('B', tn, spec.bOrder === 'k')}
      workgroupBarrier();
      for (var kk = 0; kk < ${tk}; kk = kk + 1) {
        ${aLoads}
        ${bLoads}
        ${fmas.join('\n        ')}
      }
      workgroupBarrier();
    }
    ${stores.join('\n    ')}
  }
`;
}
