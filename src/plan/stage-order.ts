// The order stages run and are listed in: Kahn's algorithm, taking among the ready stages the one
// written first in the file. Ready stages wait in a binary heap of file positions, so ordering is
// O((stages + edges) · log stages) where a sort per step made 10,000 stages take minutes.

export function stageOrder(names: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const position = new Map(names.map((n, i) => [n, i]));
  const indegree = names.map(() => 0);
  for (const tos of edges.values()) for (const t of tos) indegree[position.get(t)!]!++;
  const ready = new MinHeap();
  indegree.forEach((d, i) => d === 0 && ready.push(i));
  const out: string[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    const n = names[i]!;
    out.push(n);
    for (const t of edges.get(n) ?? []) {
      const j = position.get(t)!;
      if (--indegree[j]! === 0) ready.push(j);
    }
  }
  return out;
}

/** A binary min-heap of integers. */
class MinHeap {
  private readonly items: number[] = [];

  push(x: number): void {
    const a = this.items;
    let i = a.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= x) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = x;
  }

  pop(): number | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const c = l + 1 < a.length && a[l + 1]! < a[l]! ? l + 1 : l;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}
