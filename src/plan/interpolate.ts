// `${vars.x}` and `${matrix.axis}` substitution. A string that is exactly one `${…}` takes the
// referenced value with its type (a number stays a number); otherwise values are spliced as text (or
// as a plugin's `splice` says, e.g. shell-quoted into a command).
import type { JsonValue } from '../plugin/types.js';

export interface Scope {
  readonly vars: Readonly<Record<string, unknown>>;
  readonly matrix: Readonly<Record<string, unknown>>;
}

/** How a plugin that declares its stages' ports (`command`) wants its params interpolated. */
export interface InterpolateOptions {
  /** Roots left as written, for the plugin to fill in when it runs (`inputs`, `outputs`). */
  readonly deferred?: ReadonlySet<string>;
  /** By top-level key: how a value is spliced into that key's strings, given the text before it. */
  readonly splice?: Readonly<Record<string, (value: JsonValue, before: string) => string>>;
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

/** `options` apply to `value`'s keys: pass them only for a stage's `with:`. */
export function interpolate(value: unknown, scope: Scope, path: readonly (string | number)[] = [], options: InterpolateOptions = {}): JsonValue {
  return walk(value, scope, [...path], path.length, options);
}

/** `path` is where `value` sits, pushed and popped in place: it is copied only into an error. */
function walk(value: unknown, scope: Scope, path: (string | number)[], base: number, options: InterpolateOptions): JsonValue {
  if (typeof value === 'string') return text(value, scope, path, options, options.splice?.[String(path[base])]);
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      path.push(i);
      const out = walk(v, scope, path, base, options);
      path.pop();
      return out;
    });
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        path.push(k);
        const out = walk(v, scope, path, base, options);
        path.pop();
        return [k, out];
      }),
    );
  }
  return value as JsonValue;
}

function text(value: string, scope: Scope, path: readonly (string | number)[], options: InterpolateOptions, splice: ((v: JsonValue, before: string) => string) | undefined): JsonValue {
  const deferred = (expr: string) => options.deferred?.has(expr.trim().split('.')[0]!) === true;
  const whole = WHOLE.exec(value);
  if (whole && splice === undefined) return deferred(whole[1]!) ? value : (lookup(whole[1]!.trim(), scope, path) as JsonValue);
  if (!value.includes('${')) return value;
  let out = '';
  let last = 0;
  for (const m of value.matchAll(ANY)) {
    out += value.slice(last, m.index);
    last = m.index + m[0].length;
    if (deferred(m[1]!)) {
      out += m[0];
      continue;
    }
    const v = lookup(m[1]!.trim(), scope, path) as JsonValue;
    out += splice ? splice(v, out) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  }
  return out + value.slice(last);
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
