// A two-column table of a record's fields (params, provenance, metrics), nested fields dotted.
import { cell } from '../format';

/** Leaves of a JSON value as dotted paths; arrays of numbers kept whole (a history reads as one row). */
export function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (value === null || typeof value !== 'object' || (Array.isArray(value) && value.every((v) => typeof v !== 'object'))) {
    return [[prefix, value]];
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) return [[prefix, value]];
  return entries.flatMap(([k, v]) => flatten(v, prefix === '' ? k : `${prefix}.${k}`));
}

export function KvTable({ record, caption }: { record: Readonly<Record<string, unknown>>; caption: string }) {
  const rows = flatten(record);
  return (
    <table class="kv">
      <caption>{caption}</caption>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>
              <code>{Array.isArray(v) ? truncate(v.map(cell).join(', ')) : cell(v)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const truncate = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);
