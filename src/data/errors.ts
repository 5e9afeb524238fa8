// Failures a user can fix (bad URL, wrong checksum, broken archive, bad params), as one Error subclass:
// the CLI maps `userError` to exit code 2 and prints `message` without a stack.

export type DataErrorReason =
  | 'checksum_mismatch'
  | 'download_failed'
  | 'truncated'
  | 'unsafe_entry'
  | 'bad_format'
  | 'missing_file'
  | 'bad_params';

export class DataError extends Error {
  readonly userError = true;
  readonly reason: DataErrorReason;

  constructor(reason: DataErrorReason, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'DataError';
    this.reason = reason;
  }
}

export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError;
}
