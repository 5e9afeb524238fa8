// PipelineFile → Plan: resolve plugins, check references and cycles, expand sweeps (within the
// instance cap), interpolate, validate params against each plugin's schema, bind inputs, and order
// the DAG. Every step takes time linear in stages, instances and edges (npm run bench:plan).
import { dirname } from 'node:path';
import type { DirectedGraph } from 'graphology';
import { asStageId, type StageId } from '../util/brand.js';
import type { JsonValue, Plugin, Scalar } from '../plugin/types.js';
import { UserError, type Diagnostic } from '../util/user-error.js';
import { ajvDiagnostics } from '../config/ajv-diagnostics.js';
import { closest } from '../util/closest.js';
import { resolveParams } from '../config/params.js';
import type { PipelineFile, SlurmDecl, StageDecl } from '../config/pipeline-file.js';
import type { YamlPath } from '../config/source.js';
import { combinations, excluder, instanceId, type Combo } from './expand.js';
import { findCycles } from './cycles.js';
import { stageOrder } from './stage-order.js';
import { InstanceCap } from './instance-cap.js';
import { interpolate, InterpolationError, type InterpolateOptions } from './interpolate.js';
import { inputSpecs, stagePorts } from './stage-ports.js';
import { parseRef, type InputRef } from './refs.js';
import type { PluginRegistry, Resolved } from './registry.js';
import type { Plan, SlurmSettings, StageInstance } from './plan.js';
import { resourcesOf } from './resources.js';
import { bindInputs } from './bind.js';
import { parseDuration } from '../util/duration.js';
import { PlannedInstance, type UnboundInstance } from './instance.js';
import type { CodeClosure } from './code-closure.js';
import { planGraph } from './graph.js';

export interface StageInfo {
  readonly decl: StageDecl;
  readonly plugin: Plugin<never>;
  readonly code?: CodeClosure;
  /** input name → parsed refs, each with its YAML path. */
  readonly refs: ReadonlyMap<string, readonly { readonly ref: InputRef; readonly path: YamlPath }[]>;
  readonly instances: readonly { readonly id: StageId; readonly combo: Combo }[];
  /** Where the stage is declared (`pipelines/x.yaml:12:3`), located on the first call: only messages need it. */
  readonly where: () => string;
}

export async function buildPlan(file: PipelineFile, registry: PluginRegistry): Promise<Plan> {
  const diags: Diagnostic[] = [];
  const at = (path: YamlPath, key = false) => file.source.locate(path, { key })!;
  const stagePath = (s: string): YamlPath => ['stages', s];
  const names = file.stages.map((s) => s.name);
  const known = new Set(names);

  // 1. Plugins, each resolved once however many stages use it.
  const plugins = new Map<string, { plugin: Plugin<never>; code?: CodeClosure }>();
  const resolving = new Map<string, Promise<Resolved>>();
  const resolve = (uses: string) => {
    let r = resolving.get(uses);
    if (r === undefined) resolving.set(uses, (r = registry.resolve(uses, dirname(file.path))));
    return r;
  };
  await Promise.all(
    file.stages.map(async (s) => {
      const r = await resolve(s.uses);
      if (r.ok) plugins.set(s.name, r.code === undefined ? { plugin: r.plugin } : { plugin: r.plugin, code: r.code });
      else {
        const guess = closest(s.uses, registry.names());
        diags.push({ code: 'E_UNKNOWN_PLUGIN', message: `stage "${s.name}": ${r.message}`, at: at([...stagePath(s.name), 'uses']), hint: `${guess ? `did you mean "${guess}"? ` : ''}${r.hint}` });
      }
    }),
  );

  // 2. References between stages, and cycles.
  const refs = new Map<string, Map<string, { ref: InputRef; path: YamlPath }[]>>();
  /** upstream stage → the stages that read it, in file order. */
  const edges = new Map<string, Set<string>>();
  for (const s of file.stages) {
    const mine = new Map<string, { ref: InputRef; path: YamlPath }[]>();
    for (const [input, texts] of Object.entries(s.inputs)) {
      const list: { ref: InputRef; path: YamlPath }[] = [];
      texts.forEach((text, i) => {
        const base: YamlPath = [...stagePath(s.name), 'inputs', input];
        const path: YamlPath = file.source.isList(base) ? [...base, i] : base;
        const ref = parseRef(text);
        if (typeof ref === 'string') diags.push({ code: 'E_BAD_REF', message: ref, at: at(path), hint: 'stage, stage.output, stage[*], stage[axis=value]' });
        else if (!known.has(ref.stage)) {
          const guess = closest(ref.stage, names);
          diags.push({ code: 'E_UNKNOWN_STAGE', message: `stage "${s.name}", input "${input}": no stage "${ref.stage}"`, at: at(path), hint: `${guess ? `did you mean "${guess}"? ` : ''}stages: ${names.join(', ')}` });
        } else {
          list.push({ ref, path });
          const readers = edges.get(ref.stage) ?? new Set();
          edges.set(ref.stage, readers.add(s.name));
        }
      });
      mine.set(input, list);
    }
    refs.set(s.name, mine);
  }
  for (const cycle of findCycles(names, edges)) {
    const [first, ...rest] = cycle;
    diags.push({
      code: 'E_CYCLE',
      message: `cycle between stages: ${[...cycle, first].join(' → ')}`,
      at: at(stagePath(first!), true),
      related: rest.map((n) => ({ at: at(stagePath(n), true), label: `stage "${n}" is on the cycle` })),
      hint: 'a stage cannot depend on its own outputs; remove one of these inputs',
    });
  }
  // 3. Sweep expansion, interpolation, params: checked even after errors above, so that one pass
  // reports a misspelt input and a bad param together (a stage without a plugin is skipped).
  const infos = new Map<string, StageInfo>();
  const instances = new Map<StageId, UnboundInstance>();
  const seenParamErrors = new Set<string>();
  const cap = new InstanceCap(file.maxInstances);
  for (const s of file.stages) {
    const resolvedPlugin = plugins.get(s.name);
    if (resolvedPlugin === undefined) continue;
    const { plugin, code } = resolvedPlugin;
    const axes: [string, Scalar[]][] = [];
    for (const [axis, raw] of Object.entries(s.matrix ?? {})) {
      const path = [...stagePath(s.name), 'matrix', axis];
      const values = tryInterpolate(raw, { vars: file.vars, matrix: {} }, path, diags, at);
      if (values === undefined) continue;
      if (!Array.isArray(values) || values.length === 0 || values.some((v) => v !== null && typeof v === 'object')) {
        diags.push({ code: 'E_BAD_MATRIX', message: `matrix axis "${axis}" of stage "${s.name}" must be a non-empty list of scalars`, at: at(path) });
      } else axes.push([axis, values as Scalar[]]);
    }
    // Refused before a combination is allocated: a 10⁸-instance sweep would exhaust memory.
    const allowed = cap.admit(s.name, axes, () => at([...stagePath(s.name), 'matrix'], true));
    if (!allowed.ok) {
      if (allowed.diagnostic !== undefined) diags.push(allowed.diagnostic);
      continue;
    }
    const isExcluded = excluder(s.exclude ?? []);
    const combos = combinations(axes).filter((c) => !isExcluded(c));
    if (combos.length === 0) diags.push({ code: 'E_BAD_MATRIX', message: `stage "${s.name}": exclude leaves no instance`, at: at([...stagePath(s.name), 'exclude'], true) });
    const list: { id: StageId; combo: Combo }[] = [];
    // Located when first asked for, not here: a valid file's plan never needs the positioned Document.
    let whereText: string | undefined;
    const where = (): string => (whereText ??= fmt(at(stagePath(s.name), true)));
    // One object for every instance of the stage: resources are literal values, never per combination.
    const resources = resourcesOf(plugin, s.resources);
    const withPath = [...stagePath(s.name), 'with'];
    const seedPath = [...stagePath(s.name), 'seed'];
    const ports = stagePorts(s, plugin, at);
    if (!ports.ok) {
      diags.push(ports.diagnostic);
      continue;
    }
    /** The descriptor every instance of the stage runs with (its own, for a plugin with `forStage`). */
    let staged: Plugin<never> | undefined;
    for (const combo of combos) {
      const id = asStageId(instanceId(s.name, combo));
      // Every instance already listed is in `instances` (and ids of different stages differ).
      if (instances.has(id)) {
        diags.push({ code: 'E_DUPLICATE_ID', message: `stage instance ${id} appears twice (a matrix axis repeats a value)`, at: at([...stagePath(s.name), 'matrix'], true) });
        continue;
      }
      const scope = { vars: file.vars, matrix: combo };
      const params = tryInterpolate(ports.with, scope, withPath, diags, at, ports.options);
      const seedRaw = s.seed === undefined ? file.seed : tryInterpolate(s.seed, scope, seedPath, diags, at);
      if (params === undefined || seedRaw === undefined) continue; // reported; nothing more to check
      const seed = Number(seedRaw);
      if (!Number.isInteger(seed) || seed < 0) {
        diags.push({ code: 'E_BAD_SEED', message: `stage ${id}: seed must be a non-negative integer, got ${JSON.stringify(seedRaw)}`, at: at(seedPath) });
      }
      const resolved = resolveParams(plugin, params);
      if (!resolved.ok) {
        for (const d of ajvDiagnostics(resolved.errors, file.source, withPath, `plugin "${plugin.name}"`)) {
          const k = `${d.at?.line}:${d.at?.col}:${d.message}`;
          if (!seenParamErrors.has(k)) {
            seenParamErrors.add(k);
            diags.push(combos.length > 1 ? { ...d, message: `${d.message} (in ${id})` } : d);
          }
        }
        continue;
      }
      const seeded = plugin.seeded !== false;
      staged ??= plugin.forStage?.({ params: resolved.params as never, inputs: inputSpecs(refs.get(s.name)!), baseDir: dirname(file.path) }) ?? plugin;
      instances.set(id, {
        id,
        stage: s.name,
        plugin: staged,
        uses: s.uses,
        matrix: combo,
        params: resolved.params,
        seed,
        keyBase: {
          plugin: plugin.name,
          version: plugin.version,
          ...(code === undefined ? {} : { code: code.hash, codeFiles: code.files }),
          params: resolved.params,
          ...(seeded ? { seed } : {}),
        },
        ...(s.retries === undefined ? {} : { retries: s.retries }),
        ...(s.timeout === undefined ? {} : { timeoutMs: parseDuration(s.timeout)! /* the schema has checked its form */ }),
        resources,
        ...(s.executor === 'local' ? { placement: 'local' as const } : {}),
      });
      list.push({ id, combo });
    }
    infos.set(s.name, { decl: s, plugin: staged ?? plugin, ...(code === undefined ? {} : { code }), refs: refs.get(s.name)!, instances: list, where });
  }
  // In file order, as a reader fixes them.
  if (diags.length > 0) throw new UserError(diags.sort((a, b) => (a.at?.line ?? 0) - (b.at?.line ?? 0) || (a.at?.col ?? 0) - (b.at?.col ?? 0)));

  // 4. Inputs.
  const bound = bindInputs(infos, at);
  if (bound.diagnostics.length > 0) throw new UserError(bound.diagnostics);
  const planned = new Map<StageId, StageInstance>();
  for (const info of infos.values()) {
    for (const { id } of info.instances) {
      planned.set(id, new PlannedInstance(instances.get(id)!, bound.inputs.get(id)!, info.where));
    }
  }

  // 5. The DAG, in a stable topological order; its graphology graph when first asked for (graph.ts).
  const order: StageId[] = [];
  for (const stage of stageOrder(names, edges)) for (const { id } of infos.get(stage)!.instances) order.push(id);
  let graph: DirectedGraph | undefined;
  return {
    pipeline: file.path,
    display: file.source.file,
    name: file.name,
    get graph() {
      return (graph ??= planGraph(order, planned));
    },
    instances: planned,
    order,
    ...(file.slurm === undefined ? {} : { slurm: slurmSettings(file.slurm) }),
  };
}

function tryInterpolate(
  value: unknown,
  scope: { vars: Readonly<Record<string, unknown>>; matrix: Readonly<Record<string, unknown>> },
  base: YamlPath,
  diags: Diagnostic[],
  at: (p: YamlPath) => Diagnostic['at'],
  options?: InterpolateOptions,
): JsonValue | undefined {
  try {
    return interpolate(value, scope, [], options);
  } catch (e) {
    if (!(e instanceof InterpolationError)) throw e;
    const d: Diagnostic = { code: 'E_INTERPOLATION', message: e.message, at: at([...base, ...e.path]), hint: e.hint };
    if (!diags.some((x) => x.message === d.message && x.at?.line === d.at?.line)) diags.push(d);
    return undefined;
  }
}

/** The `slurm:` block in the plan's spelling. */
function slurmSettings(decl: SlurmDecl): SlurmSettings {
  return {
    ...(decl.partition === undefined ? {} : { partition: decl.partition }),
    ...(decl.gpu_partition === undefined ? {} : { gpuPartition: decl.gpu_partition }),
    ...(decl.account === undefined ? {} : { account: decl.account }),
    ...(decl.args === undefined ? {} : { args: decl.args }),
  };
}

function fmt(p: Diagnostic['at']): string {
  return p ? `${p.file}:${p.line}:${p.col}` : '?';
}
