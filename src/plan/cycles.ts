// Strongly connected components (Tarjan): every stage that sits on a cycle, grouped by cycle.
// Iterative, so that a chain of 100,000 stages does not exhaust the call stack.

export function findCycles(nodes: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const fileIndex = new Map(nodes.map((n, i) => [n, i]));
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const none: ReadonlySet<string> = new Set();

  const enter = (v: string): { v: string; next: Iterator<string> } => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    return { v, next: (edges.get(v) ?? none).values() };
  };
  for (const root of nodes) {
    if (idx.has(root)) continue;
    // The call stack of the recursive algorithm: each frame is a node and where it is in its edges.
    const frames = [enter(root)];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const { v } = frame;
      const step = frame.next.next();
      if (!step.done) {
        const w = step.value;
        if (!idx.has(w)) frames.push(enter(w));
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent !== undefined) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(v)!));
      if (low.get(v) !== idx.get(v)) continue;
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)?.has(v) === true) cycles.push(scc.sort((a, b) => fileIndex.get(a)! - fileIndex.get(b)!));
    }
  }
  return cycles;
}
