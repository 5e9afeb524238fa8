// `rethink models [--input 28x28x3] [--json]`: the registry with exact parameter counts, without tfjs.
import { jsonDocument } from '../util/json-document.js';
import { protocolOf } from './protocol.js';
import { acceptsInput, listModels } from './registry.js';

export interface ModelsArgs {
  readonly input: readonly [number, number, number];
  readonly json: boolean;
  readonly numClasses?: number;
}

export async function modelsCommand(args: ModelsArgs, out: (s: string) => void): Promise<number> {
  const [h, w, c] = args.input;
  if (![h, w, c].every((n) => Number.isInteger(n) && n > 0)) {
    out(`error: --input must be three positive integers HxWxC, got ${args.input.join('x')}`);
    return 2;
  }
  const numClasses = args.numClasses ?? 10;
  // A model that cannot take this input (Inception V3 below 75x75) is named, with what it needs.
  const tooSmall = listModels().filter((m) => !acceptsInput(m, args.input));
  const needs = tooSmall.map((m) => ({ name: m.name, minInput: m.minInput! }));
  const rows = listModels().filter((m) => acceptsInput(m, args.input)).map((m) => {
    const p = m.countParams(args.input, numClasses);
    const { lr, lrDecay } = protocolOf(m.name);
    return { name: m.name, params: p.trainable, nonTrainableParams: p.nonTrainable, learningRate: lr, lrDecay, description: m.description };
  });
  if (args.json) {
    out(jsonDocument({ input: [h, w, c], numClasses, models: rows, ...(needs.length === 0 ? {} : { needLargerInput: needs }) }, 2).trimEnd());
    return 0;
  }
  const nameWidth = Math.max(5, ...rows.map((r) => r.name.length));
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const paramWidth = Math.max(6, ...rows.map((r) => fmt(r.params).length));
  out(`models for input ${h}x${w}x${c}, ${numClasses} classes`);
  const schedule = (r: (typeof rows)[number]): string => `${r.learningRate} ×${r.lrDecay}/epoch`;
  const lrWidth = Math.max(2, ...rows.map((r) => schedule(r).length));
  out(`${'model'.padEnd(nameWidth)}  ${'params'.padStart(paramWidth)}  ${'lr'.padEnd(lrWidth)}  description`);
  for (const r of rows) out(`${r.name.padEnd(nameWidth)}  ${fmt(r.params).padStart(paramWidth)}  ${schedule(r).padEnd(lrWidth)}  ${r.description}`);
  for (const m of needs) out(`${m.name.padEnd(nameWidth)}  ${'–'.padStart(paramWidth)}  ${''.padEnd(lrWidth)}  needs an input of at least ${m.minInput.join('x')} (e.g. --input 299x299x3)`);
  return 0;
}

/** Parses `28x28x3` (also `28,28,3`); undefined when malformed. */
export function parseInputShape(s: string): [number, number, number] | undefined {
  const parts = s.split(/[x×,]/).map((p) => Number(p.trim()));
  if (parts.length !== 3 || !parts.every((n) => Number.isInteger(n) && n > 0)) return undefined;
  return [parts[0]!, parts[1]!, parts[2]!];
}
