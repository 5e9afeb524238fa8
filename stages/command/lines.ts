// What a command prints, line by line: `::progress k=v …` feeds the live display, `::error <message>`
// names a fault the user must fix, anything else goes to the stage's log; the last lines are kept
// for the failure message.
import type { ProgressUpdate } from '../../src/plugin/types.js';

export type Line =
  | { readonly kind: 'progress'; readonly update: ProgressUpdate }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'log'; readonly text: string };

const COUNT = /^(\d+)\/(\d+)$/;

export function parseLine(line: string): Line {
  if (line.startsWith('::progress ') || line === '::progress') return { kind: 'progress', update: progressOf(line.slice('::progress'.length).trim()) };
  if (line.startsWith('::error ')) return { kind: 'error', message: line.slice('::error '.length).trim() };
  return { kind: 'log', text: line };
}

/**
 * `epoch=3/20 loss=0.41` → message `epoch 3/20 loss 0.41`, done 3 of 20 (the first `n/m` value);
 * `done=` and `total=` set them directly.
 */
export function progressOf(text: string): ProgressUpdate {
  const pairs = text.split(/\s+/).filter(Boolean).map((w) => {
    const eq = w.indexOf('=');
    return eq > 0 ? ([w.slice(0, eq), w.slice(eq + 1)] as const) : ([w, undefined] as const);
  });
  let done: number | undefined;
  let total: number | undefined;
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    const count = COUNT.exec(v);
    if (count && done === undefined) [done, total] = [Number(count[1]), Number(count[2])];
  }
  const num = (k: string) => {
    const v = pairs.find(([key]) => key === k)?.[1];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  done = num('done') ?? done;
  total = num('total') ?? total;
  const message = pairs.filter(([k]) => k !== 'done' && k !== 'total').map(([k, v]) => (v === undefined ? k : `${k} ${v}`)).join(' ');
  return { ...(message === '' ? {} : { message }), ...(done === undefined ? {} : { done }), ...(total === undefined ? {} : { total }) };
}

/** The last `size` lines seen. */
export class Tail {
  private readonly lines: string[] = [];

  constructor(private readonly size: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.size) this.lines.shift();
  }

  get(): readonly string[] {
    return [...this.lines];
  }
}
