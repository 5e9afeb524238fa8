// `${inputs.NAME}` and `${outputs.NAME}` in a command stage's text: the files it reads and writes,
// filled in when it runs (the planner leaves them as written, since paths differ on every machine).
import { delimiter } from 'node:path';
import type { ArtifactKind } from '../../src/plugin/types.js';
import { quoteAfter } from '../../src/util/shell.js';

/** The extension an artifact's file gets where a command reads or writes it. */
export const EXTENSIONS: Readonly<Record<ArtifactKind, string>> = { json: '.json', tensors: '.safetensors', file: '' };

/** Each port's path; a fan-in input has several, in its canonical order. */
export type PortPaths = { readonly inputs: ReadonlyMap<string, readonly string[]>; readonly outputs: ReadonlyMap<string, string> };

const PORT = /\$\{\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}/g;

/** The names `${inputs.…}` / `${outputs.…}` in `text` refer to. */
export function portRefs(text: string): { readonly root: 'inputs' | 'outputs'; readonly name: string }[] {
  return [...text.matchAll(PORT)].map((m) => ({ root: m[1] as 'inputs' | 'outputs', name: m[2]! }));
}

/**
 * `text` with every port replaced: quoted for where it lands in command text (`quote`), so a path
 * stays one word and a fan-in input becomes one word per file; or as it is in an env value, a fan-in
 * input's paths joined with the platform's path-list delimiter (`:`).
 */
export function fillPorts(text: string, paths: PortPaths, quote: boolean): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(PORT)) {
    out += text.slice(last, m.index);
    last = m.index + m[0].length;
    const values = m[1] === 'inputs' ? paths.inputs.get(m[2]!) : ((p) => (p === undefined ? undefined : [p]))(paths.outputs.get(m[2]!));
    if (values === undefined) throw new Error(`\${${m[1]}.${m[2]}} is not a port of this stage`); // the planner checked
    out += quote ? values.map((v) => quoteAfter(out, v)).join(' ') : values.join(delimiter);
  }
  return out + text.slice(last);
}
