// The plain values of a YAML file, read an order of magnitude faster than the `yaml` package builds
// its Document (which keeps a node with a source range for every value). Used only where it is sure
// to give exactly what `yaml`'s parseDocument(text).toJS() gives; anything else answers "not sure" and
// the caller takes the full path, which also produces located diagnostics.
import { load, Schema, Type, type EventType, type State } from 'js-yaml';

/** The document's value, or undefined when the fast path cannot vouch for it. */
export function fastYamlValue(text: string): { readonly value: unknown } | undefined {
  if (!plainEnough(text)) return undefined;
  let value: unknown;
  try {
    value = load(text, { schema: CORE_1_2, json: false, listener: refuseAnchorsAndTags });
  } catch {
    // A syntax error, a duplicate key, an anchor, a tag: the full path decides and says where.
    return undefined;
  }
  return isPlainObject(value) && keysAgree(value) ? { value } : undefined;
}

/**
 * The scalars of YAML 1.2's core schema exactly as the `yaml` package resolves plain scalars (its
 * regular expressions and conversions; js-yaml's own core schema also reads `1_000`, `0b1`, `-.nan`).
 * Each resolves implicitly only: an explicit tag (`!!int 3`) is left to the full path.
 */
const scalar = (name: string, test: RegExp, construct: (s: string) => unknown): Type =>
  new Type(`tag:rethink.fast,2026:${name}`, {
    kind: 'scalar',
    resolve: (data: unknown, explicitTag?: unknown) => explicitTag === undefined && typeof data === 'string' && test.test(data),
    construct: (data: string) => construct(data),
  });

const CORE_1_2 = new Schema({
  implicit: [
    scalar('null', /^(?:~|[Nn]ull|NULL)?$/, () => null),
    scalar('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === 't' || s[0] === 'T'),
    scalar('int-oct', /^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)),
    scalar('int', /^[-+]?[0-9]+$/, (s) => parseInt(s, 10)),
    scalar('int-hex', /^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)),
    scalar('float-nan', /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) =>
      s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY),
    scalar('float-exp', /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)),
    scalar('float', /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)),
  ],
});

/**
 * Called by js-yaml as each node closes: an anchor (aliases share or expand values, which the full
 * path bounds) or a non-specific `!` tag ends the fast path.
 */
function refuseAnchorsAndTags(event: EventType, state: State): void {
  if (event !== 'close') return;
  // js-yaml's state carries the node's properties; its type declarations leave them out.
  const { anchor, tag } = state as State & { readonly anchor?: string | null; readonly tag?: string | null };
  if (anchor != null || tag === '!') throw new NotPlain();
}

class NotPlain extends Error {}

/** The longest implicit key `yaml` accepts; a longer line is left to the full path to judge. */
const MAX_LINE = 1024;

/**
 * Text features where the two parsers differ or where the full path's checks matter: directives
 * (`%YAML 1.1` changes the schema), verbatim tags, tabs, very long lines, and collection keys
 * (`? …` or `[a, b]: …`: js-yaml turns them into different strings).
 */
function plainEnough(text: string): boolean {
  if (text.includes('\t') || text.includes('!<')) return false;
  if (/^%/m.test(text) || /(?:^|[\s[{,])\?(?:\s|$)/.test(text) || /[\]}][ \t]*:(?:[\s,\]}]|$)/.test(text)) return false;
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const stop = end === -1 ? text.length : end;
    if (stop - start > MAX_LINE) return false;
    start = stop + 1;
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Keys whose JS spelling differs between the parsers: a null key is "" for `yaml` and "null" for
 * js-yaml; `__proto__` is stored differently. Either ends the fast path.
 */
function keysAgree(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (key === 'null' || key === '__proto__') return false;
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
  return true;
}
