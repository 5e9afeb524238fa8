// WGSL snippets shared by this project's WebGPU kernels.

/** A WGSL f32 literal (toString round-trips doubles; WGSL rounds it to f32 as tfjs rounds scalars). */
export const f32Literal = (v: number): string => (Number.isInteger(v) ? `${v}.0` : `${v}`);

/**
 * Declarations of one workgroup array per name, `threads` long, for workgroupTreeSum (put them at
 * module scope).
 */
export function workgroupArrays(names: readonly string[], threads: number): string {
  return names.map((n) => `var<workgroup> ${n} : array<f32, ${threads}>;`).join('\n');
}

/**
 * Stores each thread's partial `values[i]` in `arrays[i][t]` and sums every array into its element 0
 * by halving: `threads` a power of two, `t` the local index; every thread must run it (barriers).
 */
export function workgroupTreeSum(arrays: readonly string[], values: readonly string[], threads: number): string {
  return `${arrays.map((a, i) => `${a}[t] = ${values[i]};`).join('\n  ')}
  workgroupBarrier();
  for (var h = ${threads / 2}; h > 0; h = h / 2) {
    if (t < h) {
      ${arrays.map((a) => `${a}[t] = ${a}[t] + ${a}[t + h];`).join('\n      ')}
    }
    workgroupBarrier();
  }`;
}
