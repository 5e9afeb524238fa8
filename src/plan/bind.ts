// Binds each instance's inputs to upstream instance outputs. A plain ref takes the one upstream
// instance that agrees on every matrix axis the two stages share; `[*]` and `[axis=value]` select
// several (fan-in), which only a `many` input accepts. Each ref's candidates are indexed once by
// the shared axes' values, so binding takes time linear in the instances and the edges.
import type { StageId } from '../util/brand.js';
import type { Diagnostic } from '../util/user-error.js';
import type { YamlPath } from '../config/source.js';
import { sameValue, valuesKey, type Combo } from './expand.js';
import type { InputBinding, SourceRef } from './plan.js';
import type { StageInfo } from './build.js';
import type { InputRef } from './refs.js';

export function bindInputs(
  infos: ReadonlyMap<string, StageInfo>,
  at: (path: YamlPath, key?: boolean) => NonNullable<Diagnostic['at']>,
): { inputs: Map<StageId, readonly InputBinding[]>; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const seen = new Set<string>();
  const report = (d: Diagnostic) => {
    const k = `${d.code}:${d.at?.line}:${d.at?.col}`;
    if (!seen.has(k)) {
      seen.add(k);
      diags.push(d);
    }
  };
  const out = new Map<StageId, readonly InputBinding[]>();
  const order = new CanonicalOrder();
  for (const info of infos.values()) {
    const stage = info.decl.name;
    const specs = info.plugin.inputs;
    const matchers = new Map<InputRef, RefMatcher>();
    const matcherOf = (ref: InputRef): RefMatcher => {
      let m = matchers.get(ref);
      if (m === undefined) matchers.set(ref, (m = new RefMatcher(infos.get(ref.stage)!, ref, info.instances[0]?.combo ?? {})));
      return m;
    };
    for (const name of info.refs.keys()) {
      if (!(name in specs)) {
        report({
          code: 'E_UNKNOWN_INPUT',
          message: `stage "${stage}": plugin "${info.plugin.name}" has no input "${name}"`,
          at: at(['stages', stage, 'inputs', name], true),
          hint: `inputs of ${info.plugin.name}: ${Object.keys(specs).join(', ') || 'none'}`,
        });
      }
    }
    for (const [name, spec] of Object.entries(specs)) {
      if (!info.refs.has(name) && !spec.optional) {
        report({
          code: 'E_MISSING_INPUT',
          message: `stage "${stage}": required input "${name}" of plugin "${info.plugin.name}" is not bound`,
          at: at(['stages', stage, 'inputs'], true),
          hint: `add inputs: { ${name}: <stage> }${spec.description ? ` (${spec.description})` : ''}`,
        });
      }
    }
    for (const { id, combo } of info.instances) {
      const bindings: InputBinding[] = [];
      for (const [name, refs] of info.refs) {
        const spec = specs[name];
        if (!spec) continue;
        const sources: (SourceRef & { stage: string; combo: Combo })[] = [];
        for (const { ref, path } of refs) {
          const up = infos.get(ref.stage)!;
          const matcher = matcherOf(ref);
          const output = matcher.output(name);
          if (typeof output !== 'string') {
            report({ code: 'E_BAD_OUTPUT', message: `stage "${stage}", input "${name}": ${output.message}`, at: at(path), hint: output.hint });
            continue;
          }
          const unknownAxis = matcher.unknownAxis;
          if (unknownAxis) {
            report({ code: 'E_BAD_REF', message: `stage "${ref.stage}" has no matrix axis "${unknownAxis}"`, at: at(path), hint: `axes of ${ref.stage}: ${axesOf(up).join(', ') || 'none'}` });
            continue;
          }
          const matches = matcher.matches(combo);
          if (matches.length === 0) {
            report({
              code: 'E_NO_MATCH',
              message: `input "${name}" of ${id}: no instance of "${ref.stage}" matches`,
              at: at(path),
              hint: `instances of ${ref.stage}: ${up.instances.map((u) => u.id).join(', ')}`,
            });
            continue;
          }
          if (ref.select === 'match' && matches.length > 1 && !spec.many) {
            const extra = axesOf(up).filter((a) => !(a in combo));
            report({
              code: 'E_AMBIGUOUS_INPUT',
              message: `input "${name}" of ${id} matches ${matches.length} instances of "${ref.stage}" (its axes ${extra.join(', ')} are not in ${stage}'s matrix)`,
              at: at(path),
              hint: `add ${extra.join(', ')} to ${stage}'s matrix, pick one with ${ref.stage}[${extra.map((a) => `${a}=…`).join(',')}], or fan in with ${ref.stage}[*] on a plugin input that takes many`,
            });
            continue;
          }
          sources.push(...matches.map((m) => ({ id: m.id, output, stage: ref.stage, combo: m.combo })));
        }
        // Fan-in members arrive in a canonical order (stage, then matrix values by axis name), so
        // reordering axes or keys in the YAML changes neither the plugin's input nor the key.
        if (spec.many) sources.sort(order.compare);
        if (!spec.many && sources.length > 1) {
          report({
            code: 'E_NOT_FANIN',
            message: `input "${name}" of plugin "${info.plugin.name}" takes one artifact, but ${id} selects ${sources.length}`,
            at: at(['stages', stage, 'inputs', name]),
            hint: 'select one instance, e.g. stage[axis=value]',
          });
          continue;
        }
        bindings.push({ name, many: spec.many === true, sources: sources.map(({ id, output }) => ({ id, output })) });
      }
      out.set(id, bindings);
    }
  }
  return { inputs: out, diagnostics: diags };
}

/** Stage, then matrix values by axis name (an upstream stage's instances all have the same axes). */
class CanonicalOrder {
  private readonly axes = new Map<string, readonly string[]>();

  readonly compare = (a: { stage: string; combo: Combo }, b: { stage: string; combo: Combo }): number => {
    if (a.stage !== b.stage) return a.stage < b.stage ? -1 : 1;
    let axes = this.axes.get(a.stage);
    if (axes === undefined) this.axes.set(a.stage, (axes = Object.keys(a.combo).sort()));
    for (const axis of axes) {
      const x = a.combo[axis];
      const y = b.combo[axis];
      if (x === y) continue;
      if (typeof x === 'number' && typeof y === 'number') return x - y;
      return String(x) < String(y) ? -1 : 1;
    }
    return 0;
  };
}

/**
 * One ref of one downstream stage: the upstream instances its selector admits, grouped by their
 * values on the axes the two stages share, so that each downstream instance finds its matches by a
 * look-up instead of a scan of every upstream instance.
 */
class RefMatcher {
  /** The selector's first axis the upstream stage does not have. */
  readonly unknownAxis: string | undefined;
  private readonly shared: readonly string[];
  private groups: Map<string, { id: StageId; combo: Combo }[]> | undefined;

  constructor(
    private readonly up: StageInfo,
    private readonly ref: InputRef,
    /** Any instance's matrix values: every instance of a stage has the same axes. */
    downstream: Combo,
  ) {
    const upAxes = axesOf(up);
    this.unknownAxis = Object.keys(ref.where).find((k) => !upAxes.includes(k));
    this.shared = upAxes.filter((k) => k in downstream);
  }

  private picked: ReturnType<typeof pickOutput> | undefined;

  /** Which upstream output the ref reads; worked out once (a ref belongs to one input), not per instance. */
  output(inputName: string): ReturnType<typeof pickOutput> {
    return (this.picked ??= pickOutput(this.up, this.ref, inputName));
  }

  /** The upstream instances that agree with `combo` on every shared axis and satisfy the selector, in upstream order. */
  matches(combo: Combo): readonly { id: StageId; combo: Combo }[] {
    if (this.groups === undefined) {
      this.groups = new Map();
      const where = Object.entries(this.ref.where);
      for (const u of this.up.instances) {
        if (!where.every(([k, v]) => k in u.combo && sameValue(u.combo[k], v))) continue;
        const key = this.keyOf(u.combo);
        const group = this.groups.get(key);
        if (group === undefined) this.groups.set(key, [u]);
        else group.push(u);
      }
    }
    return this.groups.get(this.keyOf(combo)) ?? [];
  }

  private keyOf(combo: Combo): string {
    return valuesKey(this.shared, combo);
  }
}

function axesOf(info: StageInfo): string[] {
  return Object.keys(info.instances[0]?.combo ?? {});
}

function pickOutput(up: StageInfo, ref: InputRef, inputName: string): string | { message: string; hint: string } {
  const outputs = Object.keys(up.plugin.outputs);
  const list = `outputs of ${ref.stage} (${up.plugin.name}): ${outputs.join(', ')}`;
  if (ref.output !== undefined) {
    return outputs.includes(ref.output) ? ref.output : { message: `stage "${ref.stage}" has no output "${ref.output}"`, hint: list };
  }
  if (outputs.length === 1) return outputs[0]!;
  if (outputs.includes(inputName)) return inputName;
  return { message: `"${ref.stage}" has several outputs; say which`, hint: `${list}; e.g. ${ref.stage}.${outputs[0]}` };
}
