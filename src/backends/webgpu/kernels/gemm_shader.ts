// WGSL source for a tiled matrix product C[m][n] = Σ_k A(m,k)·B(k,n) whose operands are *gathered*:
// the conv kernels express im2col (forward, input gradient, filter gradient) as index functions, so no
// im2col buffer is ever written. Split-K over workgroup z feeds small-output cases (the filter gradient
// has M·N ≈ 10⁴–10⁵ but K = batch·H·W ≈ 10⁵–10⁶).
//
// Why it is shaped like this (measured on an H200: a first version that decomposed m and k with
// integer divisions for every loaded element ran at ~2 TFLOP/s, 5× slower than tfjs's own conv):
// - each thread always fills the same tile rows/columns, so the m- (or n-) dependent part of the gather
//   is computed once before the K loop (aRow/bCol) and only the k part is decomposed per element;
// - each thread owns an RM×RN block of adjacent outputs and reads its operands as vec4 from shared memory
//   (RM/4 + RN/4 loads per RM·RN FMAs); rows are padded by 4 floats to spread stores over banks.
// - optionally (a tile's `prefetch`) the next K tile's global loads go into registers before the
//   current tile's FMAs, so their latency overlaps compute. Whether that pays depends on the GPU, so the
//   tuner (gemm_tuning.ts) times tiles with and without it.

/** Tile geometry: a workgroup of (TN/RN)×(TM/RM) threads computes a TM×TN block, RM×RN per thread. */
export interface GemmTile {
  readonly tm: number;
  readonly tn: number;
  readonly tk: number;
  readonly rm: number;
  readonly rn: number;
  /**
   * Load the next K tile into registers while computing on the current one (one tile of shared memory,
   * the same two barriers per tile): global-load latency overlaps the FMAs, for a few more registers.
   */
  readonly prefetch?: boolean;
}

export const TILE_64: GemmTile = { tm: 64, tn: 64, tk: 16, rm: 4, rn: 4 };
export const TILE_128x64: GemmTile = { tm: 128, tn: 64, tk: 16, rm: 8, rn: 4 };

/**
 * Every tile the tuner (gemm_tuning.ts) may pick: narrow ones for the 32–96-channel layers a 64-wide
 * tile pads by up to half, small ones that give a small product (a batch-128 dense layer) more
 * workgroups, wider ones for large products. All fit WebGPU's default limits (≤ 256
 * threads, ≤ 16 KiB of workgroup memory). A tile changes how the work is shared out, never the order in
 * which an output sums over K, so every tile gives bitwise the same result (the tests check this).
 */
export const GEMM_TILES: readonly GemmTile[] = [
  TILE_64,
  TILE_128x64,
  { tm: 128, tn: 32, tk: 16, rm: 8, rn: 4 },
  { tm: 64, tn: 32, tk: 16, rm: 4, rn: 4 },
  { tm: 32, tn: 64, tk: 16, rm: 4, rn: 4 },
  { tm: 32, tn: 32, tk: 16, rm: 4, rn: 4 },
  { tm: 64, tn: 128, tk: 16, rm: 4, rn: 8 },
  { tm: 128, tn: 128, tk: 8, rm: 8, rn: 8 },
  { ...TILE_64, prefetch: true },
  { ...TILE_128x64, prefetch: true },
  { tm: 128, tn: 32, tk: 16, rm: 8, rn: 4, prefetch: true },
  { tm: 128, tn: 128, tk: 8, rm: 8, rn: 8, prefetch: true },
  // Widths that fit the paper's channel counts where 32/64/128 pad: 48 (48, 96, 144), 80 (80, 160),
  // 96 (96, 192; 176 pads 9%). Their elements need not divide among the threads.
  { tm: 64, tn: 48, tk: 16, rm: 4, rn: 4 },
  { tm: 128, tn: 80, tk: 8, rm: 8, rn: 8 },
  { tm: 128, tn: 96, tk: 8, rm: 8, rn: 8 },
];

export function tileKey(t: GemmTile): string {
  return `${t.tm}x${t.tn}x${t.tk}_${t.rm}x${t.rn}${t.prefetch === true ? 'p' : ''}`;
}

/** Bytes of workgroup memory the shader declares for `t` (both k-major tiles, rows padded by 4). */
export function tileSharedBytes(t: GemmTile): number {
  return 4 * t.tk * (t.tm + 4 + t.tn + 4);
}

/** One operand's gather: `setup` is the body of fn <name>Setup(i: i32) -> <type> (hoisted per row or
 * column), `load` the body of the per-element function that receives it as `r` plus `k`. */
export interface Gather {
  readonly type: string;
  readonly setup: string;
  readonly load: string;
}

export interface GemmSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** K elements per workgroup along z; ≥ k means no split. A multiple of tile.tk. */
  readonly kChunk: number;
  readonly tile: GemmTile;
  /** A(m,k): setup(m) called with m < M; load(r, k) with k < K. */
  readonly a: Gather;
  /** B(k,n): setup(n) called with n < N; load(r, k) with k < K. */
  readonly b: Gather;
  /** Which index varies fastest between neighbouring threads when filling the A / B tiles: pick the one
   * contiguous in memory so global reads coalesce. */
  readonly aOrder: 'm' | 'k';
  readonly bOrder: 'n' | 'k';
  /** WGSL body of `fn store(m: i32, n: i32, split: i32, v: f32)`, called only with m < M and n < N. */
  readonly store: string;
  /** Extra WGSL (structs, constants) the bodies use. */
  readonly helpers?: string;
  /** True when the shader runs as a RecordedKernel (../record.ts), which binds no tfjs uniforms. */
  readonly recorded?: boolean;
}

export function workgroupSize(tile: GemmTile): [number, number, number] {
  return [tile.tn / tile.rn, tile.tm / tile.rm, 1];
}

export function gemmDispatch(spec: GemmSpec): [number, number, number] {
  return [Math.ceil(spec.n / spec.tile.tn), Math.ceil(spec.m / spec.tile.tm), Math.ceil(spec.k / spec.kChunk)];
}

function checkTile(t: GemmTile, threads: number, kChunk: number): void {
  if (t.rm % 4 !== 0 || t.rn % 4 !== 0) throw new Error('gemmShader: rm and rn must be multiples of 4');
  if (t.tm % t.rm !== 0 || t.tn % t.rn !== 0) throw new Error('gemmShader: rm and rn must divide the tile');
  if (t.tm * t.tk < threads || t.tn * t.tk < threads) throw new Error('gemmShader: fewer tile elements than threads');
  if (kChunk % t.tk !== 0) throw new Error('gemmShader: kChunk must be a multiple of tk');
}

/** Throws unless `t` is a tile gemmShader can build (the tuner's candidates are checked by the tests). */
export function checkGemmTile(t: GemmTile): void {
  const [wx, wy] = workgroupSize(t);
  checkTile(t, wx * wy, t.tk);
}

/** The user-code part of a tfjs WebGPU program (tfjs prepends bindings named after variableNames). */
export function gemmShader(spec: GemmSpec): string {
  const { tm, tn, tk, rm, rn } = spec.tile;
  const [wx, wy] = workgroupSize(spec.tile);
  const threads = wx * wy;
  checkTile(spec.tile, threads, spec.kChunk);
  const sa = tm + 4; // padded row length (floats) of the k-major shared tiles
  const sb = tn + 4;

  // Per operand: which (row, kk) each of this thread's tile slots holds; both are loop-invariant.
  // body: load into shared memory; regs/fetch/put: the prefetching loop's registers, its loads of the
  // next tile into them, and their stores into shared memory.
  const slots = (which: 'a' | 'b', rows: number, fastIsK: boolean): Record<'pre' | 'body' | 'regs' | 'fetch' | 'put', string> => {
    // Slots per thread; where the tile's elements do not divide among the threads (a 96-wide tile on
    // 192 threads), the last round's extra threads hold none.
    const elements = rows * tk;
    const count = Math.ceil(elements / threads);
    const pre: string[] = [];
    const body: string[] = [];
    const regs: string[] = [];
    const fetch: string[] = [];
    const put: string[] = [];
    const limit = which === 'a' ? 'M' : 'N';
    const origin = which === 'a' ? 'm0' : 'n0';
    const stride = which === 'a' ? sa : sb;
    const mem = which === 'a' ? 'As' : 'Bs';
    for (let i = 0; i < count; i++) {
      const partial = (i + 1) * threads > elements;
      // A slot past the tile's elements (partial round only) aims at the last one and never stores.
      const idx = partial ? `min(li + ${i * threads}, ${elements - 1})` : `(li + ${i * threads})`;
      const kk = fastIsK ? `${idx} % ${tk}` : `${idx} / ${rows}`;
      const rr = fastIsK ? `${idx} / ${tk}` : `${idx} % ${rows}`;
      const live = partial ? `${which}in${i}` : 'true';
      pre.push(`let ${which}kk${i} = ${kk}; let ${which}rr${i} = ${rr};${partial ? `
    let ${which}in${i} = li + ${i * threads} < ${elements};` : ''}
    let ${which}ok${i} = ${origin} + ${which}rr${i} < ${limit};
    let ${which}g${i} = ${which}Setup(min(${origin} + ${which}rr${i}, ${limit} - 1));
    let ${which}at${i} = ${which}kk${i} * ${stride} + ${which}rr${i};`);
      const store = (value: string): string => (partial ? `if (${live}) { ${mem}[${which}at${i} / 4][${which}at${i} % 4] = ${value}; }` : `${mem}[${which}at${i} / 4][${which}at${i} % 4] = ${value};`);
      body.push(`{ let kg = k0 + ${which}kk${i}; var v = 0.0;
        if (${which}ok${i} && kg < kEnd) { v = ${which}Load(${which}g${i}, kg); }
        ${store('v')} }`);
      regs.push(`var ${which}r${i} = 0.0;`);
      fetch.push(`{ let kg = k0 + ${which}kk${i}; ${which}r${i} = 0.0;
        if (${which}ok${i} && kg < kEnd) { ${which}r${i} = ${which}Load(${which}g${i}, kg); } }`);
      put.push(store(`${which}r${i}`));
    }
    return { pre: pre.join('\n    '), body: body.join('\n      '), regs: regs.join(' '), fetch: fetch.join('\n      '), put: put.join('\n      ') };
  };
  const A = slots('a', tm, spec.aOrder === 'k');
  const B = slots('b', tn, spec.bOrder === 'k');

  const acc: string[] = [];
  const fmas: string[] = [];
  const stores: string[] = [];
  const aVecs: string[] = [];
  const bVecs: string[] = [];
  for (let v = 0; v < rm / 4; v++) aVecs.push(`let av${v} = As[(kk * ${sa} + ty * ${rm} + ${v * 4}) / 4];`);
  for (let v = 0; v < rn / 4; v++) bVecs.push(`let bv${v} = Bs[(kk * ${sb} + tx * ${rn} + ${v * 4}) / 4];`);
  for (let i = 0; i < rm; i++) {
    for (let j = 0; j < rn; j++) {
      acc.push(`var c${i}_${j} = 0.0;`);
      fmas.push(`c${i}_${j} = fma(av${i >> 2}[${i & 3}], bv${j >> 2}[${j & 3}], c${i}_${j});`);
      stores.push(`if (m0 + ty * ${rm} + ${i} < M && n0 + tx * ${rn} + ${j} < N) { store(m0 + ty * ${rm} + ${i}, n0 + tx * ${rn} + ${j}, split, c${i}_${j}); }`);
    }
  }
  const tiles = spec.kChunk / tk;
  const compute = `for (var kk = 0; kk < ${tk}; kk = kk + 1) {
        ${aVecs.join(' ')}
        ${bVecs.join(' ')}
        ${fmas.join('\n        ')}
      }`;
  const plainLoop = `for (var t = 0; t < ${tiles}; t = t + 1) {
      let k0 = kBegin + t * ${tk};
      ${A.body}
      ${B.body}
      workgroupBarrier();
      ${compute}
      workgroupBarrier();
    }`;
  // The same sums in the same order; tile t + 1's global loads are in flight while tile t computes.
  const prefetchLoop = `${A.regs} ${B.regs}
    { let k0 = kBegin;
      ${A.fetch}
      ${B.fetch} }
    for (var t = 0; t < ${tiles}; t = t + 1) {
      ${A.put}
      ${B.put}
      workgroupBarrier();
      if (t + 1 < ${tiles}) {
        let k0 = kBegin + (t + 1) * ${tk};
        ${A.fetch}
        ${B.fetch}
      }
      ${compute}
      workgroupBarrier();
    }`;
  return `
  const M = ${spec.m};
  const N = ${spec.n};
  const K = ${spec.k};
  const KCHUNK = ${spec.kChunk};
  var<workgroup> As : array<vec4<f32>, ${(tk * sa) / 4}>;
  var<workgroup> Bs : array<vec4<f32>, ${(tk * sb) / 4}>;
  ${spec.helpers ?? ''}
  fn aSetup(m : i32) -> ${spec.a.type} { ${spec.a.setup} }
  fn aLoad(r : ${spec.a.type}, k : i32) -> f32 { ${spec.a.load} }
  fn bSetup(n : i32) -> ${spec.b.type} { ${spec.b.setup} }
  fn bLoad(r : ${spec.b.type}, k : i32) -> f32 { ${spec.b.load} }
  fn store(m : i32, n : i32, split : i32, v : f32) { ${spec.store} }
  fn main(index : i32) {
    ${spec.recorded === true ? '' : "// tfjs binds its uniform buffer to every program; 'auto' layouts drop unreferenced bindings.\n    _ = uniforms.NAN;"}
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let li = i32(localIndex);
    let n0 = i32(workgroupId.x) * ${tn};
    let m0 = i32(workgroupId.y) * ${tm};
    let split = i32(workgroupId.z);
    let kBegin = split * KCHUNK;
    let kEnd = min(K, kBegin + KCHUNK);
    ${A.pre}
    ${B.pre}
    ${acc.join(' ')}
    // A constant trip count keeps the barriers in uniform control flow (workgroupId, copied into a
    // private variable by tfjs's prelude, counts as non-uniform); tiles past kEnd load zeros.
    ${spec.tile.prefetch === true ? prefetchLoop : plainLoop}
    ${stores.join('\n    ')}
  }
`;
}
