// How a stage's failure is told: the input's fault (exit code 2) or the stage's, in words for its line.

/** Errors a plugin marks with `userError = true` are the input's fault (bad URL, checksum, path). */
export function isUserError(e: unknown): boolean {
  return e instanceof Error && (e as { userError?: unknown }).userError === true;
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const userFacing = isUserError(e) || e.name === 'StageOutputError';
    return userFacing ? e.message : `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`;
  }
  return String(e);
}
