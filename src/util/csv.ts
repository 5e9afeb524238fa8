// A table as CSV (RFC 4180): a header row, then one row per record; a cell with a comma, a quote or a
// newline is quoted, its quotes doubled; null is an empty cell. Shared by the aggregate stage, `rethink
// results --format csv` and the UI's sweep download.

export type CsvCell = string | number | boolean | null;

export function toCsv(t: { readonly columns: readonly string[]; readonly rows: readonly (readonly CsvCell[])[] }): string {
  const cell = (v: CsvCell) => (v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  return `${[t.columns, ...t.rows].map((r) => r.map(cell).join(',')).join('\n')}\n`;
}
