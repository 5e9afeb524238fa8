// Stages that declare their own ports (`command`): a stage's `outputs:` become the plugin's param
// `outputs` (so they are in its key and in every job spec), its input names and fan-in come from its
// `inputs:`, and `${inputs.…}` / `${outputs.…}` in its `with:` wait for the plugin to fill them in.
import type { Diagnostic } from '../util/user-error.js';
import type { StageDecl } from '../config/pipeline-file.js';
import type { YamlPath } from '../config/source.js';
import type { InputSpec, Plugin } from '../plugin/types.js';
import type { InterpolateOptions } from './interpolate.js';
import type { InputRef } from './refs.js';

export type StagePorts =
  | { readonly ok: true; readonly with: Readonly<Record<string, unknown>>; readonly options?: InterpolateOptions }
  | { readonly ok: false; readonly diagnostic: Diagnostic };

const DEFERRED: ReadonlySet<string> = new Set(['inputs', 'outputs']);

/** What the planner interpolates for the stage, or why its `outputs:` do not fit its plugin. */
export function stagePorts(decl: StageDecl, plugin: Plugin<never>, at: (path: YamlPath, key?: boolean) => Diagnostic['at']): StagePorts {
  const stage: YamlPath = ['stages', decl.name];
  if (plugin.forStage === undefined) {
    if (decl.outputs === undefined) return { ok: true, with: decl.with, ...(plugin.splice === undefined ? {} : { options: { splice: plugin.splice } }) };
    return {
      ok: false,
      diagnostic: {
        code: 'E_STAGE_OUTPUTS',
        message: `stage "${decl.name}": plugin "${plugin.name}" declares its own outputs (${Object.keys(plugin.outputs).join(', ') || 'none'}); only stages of plugins such as command declare outputs:`,
        at: at([...stage, 'outputs'], true),
        hint: `remove outputs: from stage "${decl.name}"`,
      },
    };
  }
  if ('outputs' in decl.with) {
    return {
      ok: false,
      diagnostic: {
        code: 'E_STAGE_OUTPUTS',
        message: `stage "${decl.name}": the outputs of a ${plugin.name} stage are declared beside with:, not in it`,
        at: at([...stage, 'with', 'outputs'], true),
        hint: 'move them up a level: outputs: { metrics: json }',
      },
    };
  }
  if (decl.outputs === undefined) {
    return {
      ok: false,
      diagnostic: {
        code: 'E_STAGE_OUTPUTS',
        message: `stage "${decl.name}" (${plugin.name}) declares no outputs: what it writes is its cached result`,
        at: at(stage, true),
        hint: 'add outputs: name → kind (json, tensors or file), e.g. outputs: { metrics: json }, and write them to ${outputs.metrics}',
      },
    };
  }
  const unknown = unknownPort(decl, decl.outputs);
  if (unknown !== undefined) {
    const names = Object.keys(unknown.root === 'inputs' ? decl.inputs : decl.outputs);
    return {
      ok: false,
      diagnostic: {
        code: 'E_INTERPOLATION',
        message: `stage "${decl.name}": \${${unknown.root}.${unknown.name}} names no ${unknown.root === 'inputs' ? 'input' : 'output'} of the stage`,
        at: at([...stage, 'with', ...unknown.path]),
        hint: names.length > 0 ? `its ${unknown.root}: ${names.join(', ')}` : `declare it under ${unknown.root}: of stage "${decl.name}"`,
      },
    };
  }
  return { ok: true, with: { ...decl.with, outputs: decl.outputs }, options: { deferred: DEFERRED, ...(plugin.splice === undefined ? {} : { splice: plugin.splice }) } };
}

const PORT = /\$\{\s*(inputs|outputs)\.([^}\s]*)\s*\}/g;

/** The first `${inputs.X}` / `${outputs.X}` in the stage's `with:` that names no port of it. */
function unknownPort(decl: StageDecl, outputs: Readonly<Record<string, unknown>>): { root: string; name: string; path: YamlPath } | undefined {
  const visit = (value: unknown, path: YamlPath): { root: string; name: string; path: YamlPath } | undefined => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(PORT)) {
        const known = m[1] === 'inputs' ? decl.inputs : outputs;
        if (!Object.hasOwn(known, m[2]!)) return { root: m[1]!, name: m[2]!, path };
      }
      return undefined;
    }
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const found = visit(v, [...path, Array.isArray(value) ? Number(k) : k]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return visit(decl.with, []);
}

/** A stage's inputs as its plugin sees them: fan-in where it lists several refs or selects with `[…]`. */
export function inputSpecs(refs: ReadonlyMap<string, readonly { readonly ref: InputRef }[]>): Record<string, InputSpec> {
  return Object.fromEntries([...refs].map(([name, list]) => [name, { many: list.length > 1 || list.some((r) => r.ref.select === 'all') }]));
}
