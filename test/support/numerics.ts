// Numeric comparison for kernel tests: every backend's kernels are checked against the cpu backend.

/** ‖got − want‖ / ‖want‖ (infinite when lengths differ or anything is not finite). */
export function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < got.length; i++) {
    const d = got[i]! - want[i]!;
    num += d * d;
    den += want[i]! ** 2;
  }
  if (!Number.isFinite(num)) return Number.POSITIVE_INFINITY;
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
