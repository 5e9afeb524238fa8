// Summary statistics of a few replicates (seeds): mean, sample standard deviation, range and the
// half-width of a 95% confidence interval for the mean (Student's t).
//
// Written here rather than taken from a library: the t quantile is the one non-trivial part, and the
// maintained package that has it (@stdlib/stats-base-dists-t-quantile) brings 223 packages (26 MB)
// for one function, while jstat ships no types and is no longer kept. Replicates are few, so the
// exact two-sided 97.5% points for 1–30 degrees of freedom (any t table) cover nearly every use;
// above 30 the Cornish–Fisher expansion in 1/ν (Abramowitz & Stegun 26.7.5) is within 3e-8.

export const STATS = ['mean', 'sd', 'min', 'max', 'n', 'ci95'] as const;
export type Stat = (typeof STATS)[number];

export const STAT_MEANING: Readonly<Record<Stat, string>> = {
  mean: 'the mean',
  sd: 'the sample standard deviation (n − 1)',
  min: 'the smallest value',
  max: 'the largest value',
  n: 'how many values',
  ci95: "the half-width of the mean's 95% confidence interval (Student's t)",
};

/** t(0.975, ν) for ν = 1 … 30. */
const T975 = [
  12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
  2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299, 2.109815578, 2.100922040, 2.093024054, 2.085963447,
  2.079613845, 2.073873068, 2.068657610, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
];
const Z975 = 1.959963984540054;

/** The 97.5% point of Student's t with `df` degrees of freedom (the factor of a two-sided 95% interval). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T975.length) return T975[df - 1]!;
  const z = Z975;
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

export type Summary = Readonly<Record<Stat, number | null>>;

/**
 * The statistics of `values`. Spread needs two values: with one, sd and ci95 are null. With none,
 * everything but n is null.
 */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: null, sd: null, min: null, max: null, n: 0, ci95: null };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  // Two passes: the deviations from the mean, not sums of squares, so close values keep their digits.
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : null;
  return {
    mean,
    sd,
    min: Math.min(...values),
    max: Math.max(...values),
    n,
    ci95: sd === null ? null : (tQuantile975(n - 1) * sd) / Math.sqrt(n),
  };
}
