// Memory sizes as users write them for a stage's `resources:` and as Slurm reads them: a number of
// MiB, or "512M", "16G", "1.5T" (binary units: 1G = 1024M), and back into the shortest of those.

const FORM = /^([0-9]+(?:\.[0-9]+)?)([KMGT])$/i;
const UNIT_MIB = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 } as const;

/** Whole MiB (a fraction rounds up) from MiB (a number) or a text like "512M", "16G"; undefined if malformed or not positive. */
export function parseMemory(value: number | string): number | undefined {
  let mib: number;
  if (typeof value === 'number') mib = value;
  else {
    const m = FORM.exec(value.trim());
    if (!m) return undefined;
    mib = Number(m[1]) * UNIT_MIB[m[2]!.toUpperCase() as keyof typeof UNIT_MIB];
  }
  return Number.isFinite(mib) && mib > 0 ? Math.ceil(mib) : undefined;
}

/** 512M, 16G, 1.5T: the largest unit that keeps at most one decimal exact. */
export function showMemory(mib: number): string {
  for (const [unit, size] of [['T', 1024 * 1024], ['G', 1024]] as const) {
    if (mib >= size && Number.isInteger((mib / size) * 10)) return `${mib / size}${unit}`;
  }
  return `${mib}M`;
}
