// `${vars.x}` and `${matrix.axis}` substitution. A string that is exactly one `${…}` takes the
// referenced value with its type (a number stays a number); otherwise values are spliced as text.
import type { JsonValue } from '../plugin/types.js';

export interface Scope {
  readonly vars: Readonly<Record<string, unknown>>;
  readonly matrix: Readonly<Record<string, unknown>>;
}

export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
  constructor(
    message: string,
    /** Path below the interpolated root where the bad string sits. */
    readonly path: readonly (string | number)[],
    readonly hint: string,
  ) {
    super(message);
  }
}

const WHOLE = /^\$\{([^}]+)\}$/;
const ANY = /\$\{([^}]+)\}/g;

export function interpolate(value: unknown, scope: Scope, path: readonly (string | number)[] = []): JsonValue {
  return walk(value, scope, [...path]);
}

/** `path` is where `value` sits, pushed and popped in place: it is copied only into an error. */
function walk(value: unknown, scope: Scope, path: (string | number)[]): JsonValue {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1]!.trim(), scope, path) as JsonValue;
    if (!value.includes('${')) return value;
    return value.replace(ANY, (_, expr: string) => {
      const v = lookup(expr.trim(), scope, path);
      return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      path.push(i);
      const out = walk(v, scope, path);
      path.pop();
      return out;
    });
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        path.push(k);
        const out = walk(v, scope, path);
        path.pop();
        return [k, out];
      }),
    );
  }
  return value as JsonValue;
}

function lookup(expr: string, scope: Scope, path: readonly (string | number)[]): unknown {
  const [root, ...rest] = expr.split('.');
  if (root !== 'vars' && root !== 'matrix') {
    throw new InterpolationError(`unknown reference \${${expr}}`, [...path], 'references are ${vars.<name>} or ${matrix.<axis>}');
  }
  let cur: unknown = scope[root];
  for (const [i, seg] of rest.entries()) {
    if (cur === null || typeof cur !== 'object' || !(seg in cur)) {
      const known = cur !== null && typeof cur === 'object' ? Object.keys(cur) : [];
      const where = [root, ...rest.slice(0, i)].join('.');
      throw new InterpolationError(
        `\${${expr}}: ${where} has no "${seg}"`,
        [...path],
        known.length > 0 ? `${where} has: ${known.join(', ')}` : root === 'matrix' ? 'this stage has no matrix' : `${where} is empty`,
      );
    }
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (rest.length === 0) throw new InterpolationError(`\${${expr}} needs a name`, [...path], `use \${${root}.<name>}`);
  return cur;
}
