// How a user error that points into the pipeline file is shown: `file:line:col`, the source line, a
// marker under the bad token, and what would be valid. The error types themselves are in util/user-error.ts.
import type { Diagnostic, Position } from '../util/user-error.js';

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
