// The environment a command gets: only what its stage's `env:` says, plus what finding programs and
// text needs (PATH, HOME, LANG), so that nothing the key does not hold changes what it computes.

/** The variables passed through from rethink's own environment when set (not part of the key). */
export const PASSED_THROUGH = ['PATH', 'HOME', 'LANG'] as const;

export function hermeticEnv(own: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...own };
}
