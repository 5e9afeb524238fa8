// The leaves where two JSON values differ, with dotted paths (`a.b[2].c`); objects are walked key by
// key (in sorted order), arrays index by index when their lengths agree.

export type JsonChange =
  | { readonly path: string; readonly kind: 'added'; readonly after: unknown }
  | { readonly path: string; readonly kind: 'removed'; readonly before: unknown }
  | { readonly path: string; readonly kind: 'changed'; readonly before: unknown; readonly after: unknown };

export function jsonChanges(before: unknown, after: unknown, path = '', out: JsonChange[] = []): JsonChange[] {
  if (Object.is(before, after)) return out;
  const obj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object';
  const sameShape = Array.isArray(before) ? Array.isArray(after) && before.length === after.length : !Array.isArray(after);
  const walk = obj(before) && obj(after) && sameShape;
  if (!walk) {
    if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path, kind: 'changed', before, after });
    return out;
  }
  const keys = Array.isArray(before) ? Object.keys(before) : [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const k of keys) {
    const p = Array.isArray(before) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    if (!(k in before)) out.push({ path: p, kind: 'added', after: after[k] });
    else if (!(k in after)) out.push({ path: p, kind: 'removed', before: before[k] });
    else jsonChanges(before[k], after[k], p, out);
  }
  return out;
}
