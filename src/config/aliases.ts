// Bounds what YAML aliases may add to a document, before it is turned into plain values: a few lines
// of nested anchors and aliases ("billion laughs") would otherwise expand to billions of values.
import type { Document, Node } from 'yaml';
import { yamlLib } from './yaml-lib.js';

/** The most values (scalars and collections) that aliases may add to one document when expanded. */
export const MAX_ALIAS_VALUES = 100_000;

export type AliasProblem =
  /** Expanding `alias` brings what aliases add past `limit` values. */
  | { readonly reason: 'too-many'; readonly alias: Node; readonly limit: number }
  /** `alias` refers to a collection that contains it: the value would be infinite. */
  | { readonly reason: 'recursive'; readonly alias: Node };

/**
 * Walks `doc` in document order, as the `yaml` package resolves aliases (an alias names the last
 * anchor before it), counting the values each alias stands for. Linear in the document's size:
 * each anchored node's expanded size is computed once.
 */
export function checkAliases(doc: Document, limit = MAX_ALIAS_VALUES): AliasProblem | undefined {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let added = 0;
  const { isAlias, isMap, isPair, isScalar, isSeq } = yamlLib();

  const size = (node: unknown): number => {
    if (isPair(node)) return size(node.key) + size(node.value);
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) return 1; // `yaml` reports an unresolved alias itself
      if (open.has(target)) throw new Stop({ reason: 'recursive', alias: node });
      const n = sizes.get(target) ?? 1;
      added += n;
      if (added > limit) throw new Stop({ reason: 'too-many', alias: node, limit });
      return n;
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) return 0;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isScalar(node)) {
      sizes.set(node, 1);
      return 1;
    }
    open.add(node);
    let n = 1;
    for (const item of node.items as readonly unknown[]) n += size(item);
    open.delete(node);
    sizes.set(node, n);
    return n;
  };

  try {
    size(doc.contents);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return e.problem;
    throw e;
  }
}

/** Ends the walk at the first problem (thrown to leave the recursion, caught in checkAliases). */
class Stop extends Error {
  constructor(readonly problem: AliasProblem) {
    super(problem.reason);
  }
}

/** How to fix it. */
export function aliasProblemHint(p: AliasProblem): string {
  return p.reason === 'recursive'
    ? 'an alias may only name an anchor outside the value it is in'
    : `aliases may add at most ${MAX_ALIAS_VALUES.toLocaleString('en-US')} values to a pipeline; write the values out, or use \${vars.…} and a matrix`;
}

/** One line saying what is wrong, for a diagnostic. */
export function aliasProblemMessage(p: AliasProblem): string {
  const name = yamlLib().isAlias(p.alias) ? `*${p.alias.source}` : 'an alias';
  return p.reason === 'recursive'
    ? `alias ${name} refers to a value that contains it (the value would be infinite)`
    : `YAML aliases expand to more than ${p.limit.toLocaleString('en-US')} values (at ${name}): refused as a resource exhaustion ("billion laughs") attack`;
}
