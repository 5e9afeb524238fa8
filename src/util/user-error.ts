// The errors a user can fix, in one neutral module that every room imports: `UserError` (a flag, a
// pipeline field, an environment variable, a remote: stable E_… codes, exit code 2, no stack trace) and
// `UserInputError`, the one plugins throw. config/diagnostic.ts renders them with the quoted source.

export interface Position {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Marker width on that line (≥ 1). */
  readonly length: number;
}

export interface Diagnostic {
  readonly code: string;
  readonly message: string;
  /** Absent when there is no place in a file to point at (e.g. a bad `--set`). */
  readonly at?: Position | undefined;
  /** What would be valid, or how to fix it. */
  readonly hint?: string | undefined;
  /** Other places worth showing (e.g. every stage of a cycle). */
  readonly related?: readonly { readonly at: Position; readonly label: string }[];
}

/** An error caused by the user's input (pipeline, flags): exit code 2, no stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode = 2;

  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('; '));
  }

  static of(code: string, message: string, hint?: string): UserError {
    return new UserError([{ code, message, ...(hint === undefined ? {} : { hint }) }]);
  }
}

/**
 * An error the user can fix (a bad param, an input of the wrong shape, a singular problem): a stage
 * that throws it fails with its message and no stack, and `rethink run` exits with 2, not 1. Any error
 * with `userError = true` counts the same; plugins extend this one.
 */
export class UserInputError extends Error {
  readonly userError = true;
}
