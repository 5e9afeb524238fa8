// A parsed YAML file that remembers where every node came from.
import type { Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import { yamlLib } from './yaml-lib.js';
import { UserError, type Diagnostic, type Position } from '../util/user-error.js';
import { aliasProblemHint, aliasProblemMessage, checkAliases } from './aliases.js';
import { fastYamlValue } from './fast-yaml.js';

export type YamlPath = readonly (string | number)[];

/**
 * A valid file's values come from a fast parser (fast-yaml.ts); the `yaml` Document, with a source
 * range for every node, is built on first use: by a syntax error, a location asked for (a diagnostic),
 * or an edit (`--set`). A valid pipeline never pays for positions.
 */
export class SourceFile {
  /** The Document and the line offsets its parse recorded, built together on first use. */
  private parsed: { readonly doc: Document.Parsed; readonly lines: LineCounter } | undefined;
  /** The values read by the fast path, while they still are the document's (no edit since). */
  private fast: { readonly value: unknown } | undefined;
  /**
   * Each map's pairs by key, built on a map's first look-up: the yaml package's `getIn` scans a
   * map's pairs, which made locating every stage of a 10,000-stage file quadratic.
   */
  private readonly keyIndex = new WeakMap<YAMLMap, KeyIndex>();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.fast = fastYamlValue(text);
  }

  /** The `yaml` Document with source ranges, parsed on first use. */
  get doc(): Document.Parsed {
    return this.parse().doc;
  }

  /** The line offsets recorded by the Document's parse, for positions. */
  private get lineCounter(): LineCounter {
    return this.parse().lines;
  }

  private parse(): { readonly doc: Document.Parsed; readonly lines: LineCounter } {
    if (this.parsed === undefined) {
      const { LineCounter, parseDocument } = yamlLib();
      const lines = new LineCounter();
      // Duplicate keys are found below: the yaml package compares each key with every key before it
      // in its map, which made parsing a 10,000-stage file take seconds (and 100,000 stages, minutes).
      this.parsed = { doc: parseDocument(this.text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, keepSourceTokens: false }), lines };
    }
    return this.parsed;
  }

  /** Whether the Document has been built (a valid file read without edits or diagnostics has not). */
  get hasDocument(): boolean {
    return this.parsed !== undefined;
  }

  hasIn(path: YamlPath): boolean {
    return this.doc.hasIn(path);
  }

  /** Sets the value at `path` (creating maps on the way); from now on values come from the Document. */
  setIn(path: YamlPath, value: unknown): void {
    this.fast = undefined;
    this.doc.setIn(path, this.doc.createNode(value));
  }

  /** YAML syntax errors (including duplicate keys) as diagnostics, in file order. */
  syntaxErrors(): Diagnostic[] {
    // The fast path reads only files the full path finds no error in (it refuses duplicate keys too).
    if (this.fast !== undefined) return [];
    const errors = [
      ...this.doc.errors.map((e) => ({ offset: e.pos[0], end: e.pos[1], code: 'E_YAML', message: e.message.split('\n')[0]! })),
      ...duplicateKeyOffsets(this.doc).map((offset) => ({ offset, end: offset + 1, code: 'E_DUPLICATE_KEY', message: duplicateKeyMessage(this.text, offset) })),
    ];
    return errors.sort((a, b) => a.offset - b.offset).map((e) => ({ code: e.code, message: e.message, at: this.position(e.offset, e.end) }));
  }

  position(start: number, end: number): Position {
    const { line, col } = this.lineCounter.linePos(start);
    const endPos = this.lineCounter.linePos(Math.max(start, end - 1));
    const length = endPos.line === line ? endPos.col - col + 1 : 1;
    return { file: this.file, line, col, length: Math.max(1, length) };
  }

  private nodePosition(node: Node | null | undefined): Position | undefined {
    if (!node?.range) return undefined;
    return this.position(node.range[0], node.range[1]);
  }

  /**
   * Where the value at `path` is; with `key: true`, where its key is. Falls back to the nearest
   * existing ancestor (e.g. a missing key points at its parent's key).
   */
  locate(path: YamlPath, opts: { key?: boolean } = {}): Position | undefined {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      const wantKey = opts.key === true || n < path.length;
      const pos = wantKey ? this.keyPosition(sub) : this.nodePosition(this.nodeAt(sub));
      if (pos) return pos;
    }
    return { file: this.file, line: 1, col: 1, length: 1 };
  }

  private keyPosition(path: YamlPath): Position | undefined {
    if (path.length === 0) return this.nodePosition(this.doc.contents as Node | null);
    const parent = this.nodeAt(path.slice(0, -1));
    const last = path[path.length - 1]!;
    const { isMap, isScalar, isSeq } = yamlLib();
    if (isMap(parent)) {
      const pair = this.pairsOf(parent).byText.get(String(last));
      if (pair && isScalar(pair.key)) return this.nodePosition(pair.key);
    }
    if (isSeq(parent) && typeof last === 'number') return this.nodePosition(parent.items[last] as Node);
    return undefined;
  }

  isList(path: YamlPath): boolean {
    if (this.fast !== undefined) return Array.isArray(valueAt(this.fast.value, path));
    return yamlLib().isSeq(this.nodeAt(path));
  }

  /** The node at `path`, as `doc.getIn(path, true)` finds it, in time proportional to the path's length. */
  private nodeAt(path: YamlPath): Node | undefined {
    let node = this.doc.contents as Node | null;
    const { isMap, isSeq } = yamlLib();
    for (const seg of path) {
      if (isMap(node)) node = (this.pairsOf(node).byValue.get(seg)?.value as Node | null | undefined) ?? null;
      else if (isSeq(node)) node = (node.items[itemIndex(seg) ?? -1] as Node | undefined) ?? null;
      else return undefined;
    }
    return node ?? undefined;
  }

  private pairsOf(map: YAMLMap): KeyIndex {
    let index = this.keyIndex.get(map);
    // `--set` edits the document: a map whose pairs changed is indexed again.
    if (index === undefined || index.items !== map.items || index.length !== map.items.length) {
      index = { items: map.items, length: map.items.length, byValue: new Map(), byText: new Map() };
      const { isPair, isScalar } = yamlLib();
      for (const pair of map.items) {
        if (!isPair(pair)) continue;
        // As the yaml package's findPair and keyPosition compare: the first pair wins.
        const value: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
        if (!index.byValue.has(value)) index.byValue.set(value, pair);
        if (isScalar(pair.key) && !index.byText.has(String(value))) index.byText.set(String(value), pair);
      }
      this.keyIndex.set(map, index);
    }
    return index;
  }

  /**
   * The plain JS value of the document (anchors resolved). Aliases that would expand past
   * MAX_ALIAS_VALUES are a user error pointing at the alias; below that bound the expansion is
   * small enough to do, so `yaml`'s own (cruder) alias count is off.
   */
  toJS(): unknown {
    // The fast path reads only files without anchors, so without aliases to bound.
    if (this.fast !== undefined) return this.fast.value;
    const problem = checkAliases(this.doc);
    if (problem !== undefined) {
      throw new UserError([{ code: 'E_YAML_ALIASES', message: aliasProblemMessage(problem), at: this.nodePosition(problem.alias), hint: aliasProblemHint(problem) }]);
    }
    return this.doc.toJS({ maxAliasCount: -1 });
  }

}

interface KeyIndex {
  readonly items: readonly unknown[];
  readonly length: number;
  /** By the key's value compared as `===` (how `getIn` finds a value). */
  readonly byValue: Map<unknown, Pair>;
  /** By the key's text (how a key's position is looked up). */
  readonly byText: Map<string, Pair>;
}

/** The plain value at `path` (undefined where there is none). */
function valueAt(root: unknown, path: YamlPath): unknown {
  let v = root;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** A sequence index as the yaml package reads one: a non-negative integer, or its digits. */
function itemIndex(seg: string | number): number | undefined {
  const n = typeof seg === 'string' && seg !== '' ? Number(seg) : seg;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Where each key that repeats an earlier scalar key of its map starts (as the yaml package's own check compares keys). */
function duplicateKeyOffsets(doc: Document.Parsed): number[] {
  const offsets: number[] = [];
  const { isScalar, visit } = yamlLib();
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || Number.isNaN(pair.key.value)) continue;
        if (seen.has(pair.key.value) && pair.key.range) offsets.push(pair.key.range[0]);
        seen.add(pair.key.value);
      }
    },
  });
  return offsets;
}

function duplicateKeyMessage(text: string, offset: number): string {
  const m = /^[\s-]*["']?([^"':\n]+)/.exec(text.slice(offset));
  return `duplicate key "${m?.[1]?.trim() ?? '?'}": every key in a map (and every stage id) must be unique`;
}
