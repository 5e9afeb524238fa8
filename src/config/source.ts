// A parsed YAML file that remembers where every node came from.
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import { UserError, type Diagnostic, type Position } from './diagnostic.js';
import { aliasProblemHint, aliasProblemMessage, checkAliases } from './aliases.js';

export type YamlPath = readonly (string | number)[];

export class SourceFile {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  }

  /** YAML syntax errors (including duplicate keys) as diagnostics. */
  syntaxErrors(): Diagnostic[] {
    return this.doc.errors.map((e) => {
      const code = e.code === 'DUPLICATE_KEY' ? 'E_DUPLICATE_KEY' : 'E_YAML';
      const message = e.code === 'DUPLICATE_KEY' ? duplicateKeyMessage(this.text, e.pos[0]) : e.message.split('\n')[0]!;
      return { code, message, at: this.position(e.pos[0], e.pos[1]) };
    });
  }

  position(start: number, end: number): Position {
    const { line, col } = this.lines.linePos(start);
    const endPos = this.lines.linePos(Math.max(start, end - 1));
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
      const pos = wantKey ? this.keyPosition(sub) : this.nodePosition(this.doc.getIn(sub, true) as Node | undefined);
      if (pos) return pos;
    }
    return { file: this.file, line: 1, col: 1, length: 1 };
  }

  private keyPosition(path: YamlPath): Position | undefined {
    if (path.length === 0) return this.nodePosition(this.doc.contents as Node | null);
    const parent = this.doc.getIn(path.slice(0, -1), true) as Node | undefined;
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p: Pair) => isScalar(p.key) && String(p.key.value) === String(last));
      if (pair && isScalar(pair.key)) return this.nodePosition(pair.key);
    }
    if (isSeq(parent) && typeof last === 'number') return this.nodePosition(parent.items[last] as Node);
    return undefined;
  }

  isList(path: YamlPath): boolean {
    return isSeq(this.doc.getIn(path, true));
  }

  /**
   * The plain JS value of the document (anchors resolved). Aliases that would expand past
   * MAX_ALIAS_VALUES are a user error pointing at the alias; below that bound the expansion is
   * small enough to do, so `yaml`'s own (cruder) alias count is off.
   */
  toJS(): unknown {
    const problem = checkAliases(this.doc);
    if (problem !== undefined) {
      throw new UserError([{ code: 'E_YAML_ALIASES', message: aliasProblemMessage(problem), at: this.nodePosition(problem.alias), hint: aliasProblemHint(problem) }]);
    }
    return this.doc.toJS({ maxAliasCount: -1 });
  }

}

function duplicateKeyMessage(text: string, offset: number): string {
  const m = /^[\s-]*["']?([^"':\n]+)/.exec(text.slice(offset));
  return `duplicate key "${m?.[1]?.trim() ?? '?'}": every key in a map (and every stage id) must be unique`;
}
