// User-facing errors that point into the pipeline file: `file:line:col`, the source line, a marker
// under the bad token, and what would be valid. Stable codes (E_…) users can search for.

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

/** Renders diagnostics; `sourceOf(file)` returns a file's text (for the quoted line) if known. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], sourceOf: (file: string) => string | undefined): string {
  return diagnostics.map((d) => formatOne(d, sourceOf)).join('\n\n');
}

function formatOne(d: Diagnostic, sourceOf: (file: string) => string | undefined): string {
  const out: string[] = [];
  const where = d.at ? `${d.at.file}:${d.at.line}:${d.at.col}: ` : '';
  out.push(`${where}error[${d.code}]: ${d.message}`);
  if (d.at) out.push(...excerpt(d.at, sourceOf));
  for (const r of d.related ?? []) {
    out.push(`  ${r.at.file}:${r.at.line}:${r.at.col}: ${r.label}`);
    out.push(...excerpt(r.at, sourceOf));
  }
  if (d.hint) out.push(`  = ${d.hint}`);
  return out.join('\n');
}

function excerpt(at: Position, sourceOf: (file: string) => string | undefined): string[] {
  const text = sourceOf(at.file);
  if (text === undefined) return [];
  const line = text.split(/\r?\n/)[at.line - 1];
  if (line === undefined) return [];
  const num = String(at.line);
  const pad = ' '.repeat(num.length);
  const width = Math.max(1, Math.min(at.length, line.length - at.col + 1));
  return [`  ${pad} |`, `  ${num} | ${line}`, `  ${pad} | ${' '.repeat(at.col - 1)}${'^'.repeat(width)}`];
}
