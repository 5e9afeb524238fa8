// The plain values of a YAML file, read an order of magnitude faster than the `yaml` package builds
// its Document (which keeps a node with a source range for every value). Used only where it is sure
// to give exactly what `yaml`'s parseDocument(text).toJS() gives; anything else answers "not sure" and
// the caller takes the full path, which also produces located diagnostics.
//
// The values it vouched for are remembered per text (util/file-memo.ts): a rerun of an unchanged
// pipeline reads them back instead of loading js-yaml (about 10 ms of a no-op rerun), which is then
// required, synchronously like yaml-lib.ts, only for a text not seen before.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as JsYaml from 'js-yaml';
import type { EventType, State, Type } from 'js-yaml';
import { FileMemo, survivesJson } from '../util/file-memo.js';
import { installedVersion } from '../util/installed-version.js';

/**
 * What the answers depend on besides the text: this module's rules (bump the number when they
 * change) and js-yaml's version (read from its package.json, not by loading it).
 */
const RULES = 'fast-yaml-1';
const require = createRequire(import.meta.url);
let memo: FileMemo<unknown> | undefined;
let jsYamlVersion: string | undefined;

/** The document's value, or undefined when the fast path cannot vouch for it. */
export function fastYamlValue(text: string): { readonly value: unknown } | undefined {
  if (!plainEnough(text)) return undefined;
  memo ??= new FileMemo<unknown>('yaml-values');
  jsYamlVersion ??= installedVersion('js-yaml', fileURLToPath(import.meta.url)) ?? '?';
  const key = FileMemo.key(RULES, jsYamlVersion, text);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const read = readPlain(text);
  if (read !== undefined && survivesJson(read.value)) memo.set(key, read.value);
  return read;
}

function readPlain(text: string): { readonly value: unknown } | undefined {
  const { load, CORE_1_2 } = parser();
  let value: unknown;
  try {
    value = load(text, { schema: CORE_1_2, json: false, listener: plainNodes(text) });
  } catch {
    // A syntax error, a duplicate key, an anchor, a tag: the full path decides and says where.
    return undefined;
  }
  return isPlainObject(value) && keysAgree(value) ? { value } : undefined;
}

let loaded: { readonly load: typeof JsYaml.load; readonly CORE_1_2: JsYaml.Schema } | undefined;

/** js-yaml and the schema below, made on first use. */
function parser(): { readonly load: typeof JsYaml.load; readonly CORE_1_2: JsYaml.Schema } {
  if (loaded !== undefined) return loaded;
  const { load, Schema, Type: TypeClass } = require('js-yaml') as typeof JsYaml;
  /**
   * The scalars of YAML 1.2's core schema exactly as the `yaml` package resolves plain scalars (its
   * regular expressions and conversions; js-yaml's own core schema also reads `1_000`, `0b1`, `-.nan`).
   * Each resolves implicitly only: an explicit tag (`!!int 3`) is left to the full path.
   */
  const scalar = (name: string, test: RegExp, construct: (s: string) => unknown): Type =>
    new TypeClass(`tag:rethink.fast,2026:${name}`, {
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
  loaded = { load, CORE_1_2 };
  return loaded;
}

/**
 * A js-yaml listener, told as each node opens and closes, that ends the fast path at:
 * - an anchor (aliases share or expand values, which the full path bounds) or a non-specific `!` tag;
 * - a collection used as a key (`[a, b]: 1`, `{ [a] }`: js-yaml makes it a different string). A
 *   collection is a key when it is not among its parent's values: without anchors each collection
 *   is a distinct object, so identity tells;
 * - a scalar or flow collection over several lines whose continuation lines are not indented past
 *   the line it starts on (`yaml` wants them past the enclosing block; js-yaml does not check).
 */
function plainNodes(text: string): (event: EventType, state: State) => void {
  // For each open node: where it opened, and the collections read inside it so far (made on the
  // first one: two stacks rather than an object per node, since every scalar opens and closes too).
  const opened: number[] = [];
  const inner: (object[] | undefined)[] = [];
  return (event, state) => {
    if (event === 'open') {
      opened.push(state.position);
      inner.push(undefined);
      return;
    }
    const from = opened.pop()!;
    const collections = inner.pop();
    // js-yaml's state carries the node's properties; its type declarations leave them out.
    const { anchor, tag, kind, result } = state as State & { readonly anchor?: string | null; readonly tag?: string | null };
    if (anchor != null || tag === '!') throw new NotPlain();
    if (!continuationIndented(text, from, state.position, kind)) throw new NotPlain();
    if ((kind !== 'mapping' && kind !== 'sequence') || typeof result !== 'object' || result === null) return;
    if (collections !== undefined) {
      const values = new Set<unknown>(Array.isArray(result) ? result : Object.values(result as object));
      if (!collections.every((c) => values.has(c))) throw new NotPlain();
    }
    if (inner.length > 0) (inner[inner.length - 1] ??= []).push(result as object);
  };
}

/**
 * Whether the node read from `from` to `to` is on one line, a block node (its own indentation rules
 * hold in both parsers), or a flow node whose every further non-blank line is indented past its first
 * line's block content (the first column that is not a space or a `- ` sequence indicator).
 */
function continuationIndented(text: string, from: number, to: number, kind: string): boolean {
  let start = from;
  // Where the node's own text begins: js-yaml reports the position before separating space and comments.
  for (;;) {
    const c = text[start];
    if (c === ' ' || c === '\n' || c === '\r') start++;
    else if (c === '#') {
      const eol = text.indexOf('\n', start);
      if (eol === -1) return true;
      start = eol;
    } else break;
  }
  let nl = text.indexOf('\n', start);
  if (nl === -1 || nl >= to) return true;
  const c = text[start];
  const blockCollection = (kind === 'mapping' || kind === 'sequence') && c !== '[' && c !== '{';
  if (blockCollection || c === '|' || c === '>') return true;
  const lineStart = text.lastIndexOf('\n', start) + 1;
  let content = lineStart;
  while (text[content] === ' ' || (text[content] === '-' && text[content + 1] === ' ')) content++;
  const min = content - lineStart;
  for (; nl !== -1 && nl < to; nl = text.indexOf('\n', nl + 1)) {
    let i = nl + 1;
    while (text[i] === ' ') i++;
    const blank = i >= text.length || text[i] === '\n' || text[i] === '\r';
    if (!blank && i < to && i - (nl + 1) <= min) return false;
  }
  return true;
}

class NotPlain extends Error {}

/** The longest implicit key `yaml` accepts; a longer line is left to the full path to judge. */
const MAX_LINE = 1024;

/**
 * Text features where the two parsers differ or where the full path's checks matter: directives
 * (`%YAML 1.1` changes the schema), verbatim tags, tabs, a carriage return that does not end a line
 * with its line feed, very long lines, explicit keys (`? …`), a comment that touches a quote or
 * bracket before it (`"a"#c`, which js-yaml reads as a comment and `yaml` refuses), and a line that
 * starts like a document marker without being one (`---a`: js-yaml reads a marker, `yaml` a key).
 */
function plainEnough(text: string): boolean {
  if (text.includes('\t') || text.includes('!<') || /\r(?!\n)/.test(text)) return false;
  if (/^%/m.test(text) || /(?:^|[\s[{,])\?(?:\s|$)/.test(text) || /["'\]}]#/.test(text) || /^(?:---|\.\.\.)\S/m.test(text)) return false;
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
