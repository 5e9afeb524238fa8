// How a pipeline's non-finite numbers are reported. YAML reads `.inf`, `-.inf`, `.nan` (and
// `1e999`) as numbers, but no stage can use them and no cache key can hold them: they are refused
// where the pipeline is read, with the field named, rather than crashing a run later.

/** How YAML spells it: `.inf`, `-.inf`, `.nan`. */
export function yamlSpelling(value: number): string {
  return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
}

export const NON_FINITE_HINT = 'use a finite number: YAML reads .inf, -.inf, .nan (and overflowing literals like 1e999) as non-finite';
