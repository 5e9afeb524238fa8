// What the user wrote, validated against the pipeline schema, with --set overrides applied.
// Values are still raw: `${…}` interpolation and sweep expansion happen in plan/.
import { readFile } from 'node:fs/promises';
import { pipelineSchema } from './pipeline-schema.js';
import { validatorFor, validatorKey } from './ajv.js';
import { FileMemo, survivesJson } from '../util/file-memo.js';
import { ajvDiagnostics } from './ajv-diagnostics.js';
import { UserError, type Diagnostic } from '../util/user-error.js';
import { SourceFile, type YamlPath } from './source.js';
import { yamlLib } from './yaml-lib.js';
import { aliasProblemHint, aliasProblemMessage, checkAliases } from './aliases.js';
import { NON_FINITE_HINT, yamlSpelling } from './finite.js';
import { fieldPath, nonFiniteNumbers } from '../util/non-finite.js';
import type { ArtifactKind, JsonSchema } from '../plugin/types.js';
import type { ResourcesDecl } from './resources-decl.js';

export interface StageDecl {
  readonly name: string;
  readonly uses: string;
  readonly description?: string;
  readonly with: Readonly<Record<string, unknown>>;
  /** input name → one or more refs, as written. */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  /** output name → kind, for plugins whose stages declare their outputs (`command`). */
  readonly outputs?: Readonly<Record<string, ArtifactKind>>;
  readonly matrix?: Readonly<Record<string, unknown>>;
  readonly exclude?: readonly Readonly<Record<string, unknown>>[];
  readonly seed?: unknown;
  readonly retries?: number;
  /** Seconds, or a string like "30m" (checked by the schema). */
  readonly timeout?: number | string;
  /** What one instance needs where it runs, as written (forms checked by the schema). */
  readonly resources?: ResourcesDecl;
  /** `local`: stays on the coordinator under a distributed executor. */
  readonly executor?: 'local';
}

/** The top-level `slurm:` block, as written. */
export interface SlurmDecl {
  readonly partition?: string;
  readonly gpu_partition?: string;
  readonly account?: string;
  readonly args?: readonly string[];
}

export interface PipelineFile {
  readonly path: string;
  readonly source: SourceFile;
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  readonly vars: Readonly<Record<string, unknown>>;
  /** `max_instances`: the most stage instances the sweeps may expand to (undefined: plan's default). */
  readonly maxInstances?: number;
  readonly slurm?: SlurmDecl;
  /** In file order. */
  readonly stages: readonly StageDecl[];
}

interface RawPipeline {
  name?: string;
  description?: string;
  seed?: number;
  vars?: Record<string, unknown>;
  max_instances?: number;
  slurm?: SlurmDecl;
  stages: Record<string, {
    uses: string;
    description?: string;
    with?: Record<string, unknown>;
    inputs?: Record<string, string | string[]>;
    outputs?: Record<string, ArtifactKind>;
    matrix?: Record<string, unknown>;
    exclude?: Record<string, unknown>[];
    seed?: unknown;
    retries?: number;
    timeout?: number | string;
    resources?: ResourcesDecl;
    executor?: 'local';
  }>;
}

const TOP_LEVEL = new Set(['name', 'description', 'seed', 'vars', 'max_instances', 'slurm', 'stages']);

/** `display` is the path as the user typed it, used in messages; `path` is what is read. */
export async function loadPipelineFile(path: string, sets: readonly string[] = [], display = path): Promise<PipelineFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw UserError.of('E_NO_PIPELINE', `cannot read pipeline ${display}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'pass a path to a pipeline .yaml file');
  }
  return parsePipeline(path, text, sets, display);
}

export function parsePipeline(path: string, text: string, sets: readonly string[] = [], display = path): PipelineFile {
  const source = new SourceFile(display, text);
  const syntax = source.syntaxErrors();
  if (syntax.length > 0) throw new UserError(syntax);
  applySets(source, sets);
  const raw = source.toJS();
  const nonFinite = nonFiniteNumbers(raw);
  if (nonFinite.length > 0) {
    throw new UserError(
      nonFinite.map(({ path, value }) => ({
        code: 'E_NOT_FINITE',
        message: `${fieldPath(path)} is ${yamlSpelling(value)}: pipeline values must be finite numbers`,
        at: source.locate(path),
        hint: NON_FINITE_HINT,
      })),
    );
  }
  const p = validated(raw, source, sets.length === 0 ? text : undefined);
  const stages: StageDecl[] = Object.entries(p.stages).map(([name, s]) => ({
    name,
    uses: s.uses,
    ...(s.description === undefined ? {} : { description: s.description }),
    with: s.with ?? {},
    inputs: Object.fromEntries(Object.entries(s.inputs ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
    ...(s.outputs === undefined ? {} : { outputs: s.outputs }),
    ...(s.matrix === undefined ? {} : { matrix: s.matrix }),
    ...(s.exclude === undefined ? {} : { exclude: s.exclude }),
    ...(s.seed === undefined ? {} : { seed: s.seed }),
    ...(s.retries === undefined ? {} : { retries: s.retries }),
    ...(s.timeout === undefined ? {} : { timeout: s.timeout }),
    ...(s.resources === undefined ? {} : { resources: s.resources }),
    ...(s.executor === undefined ? {} : { executor: s.executor }),
  }));
  return {
    path,
    source,
    name: p.name ?? path.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/, ''),
    ...(p.description === undefined ? {} : { description: p.description }),
    seed: p.seed ?? 0,
    vars: p.vars ?? {},
    ...(p.max_instances === undefined ? {} : { maxInstances: p.max_instances }),
    ...(p.slurm === undefined ? {} : { slurm: p.slurm }),
    stages,
  };
}

/** The rules of the memo below: bump when what validated() remembers changes. */
const VALIDATED = 'pipeline-validated-1';
let validatedMemo: FileMemo<RawPipeline> | undefined;

/**
 * `raw` checked against the pipeline schema, its defaults filled in, or a UserError with located
 * diagnostics. A text validated before (`text` given: no `--set` edited its values) is not checked
 * again: what the schema made of it is remembered (util/file-memo.ts) under the validator's identity
 * (ajv's version and options, the schema), so a rerun of an unchanged pipeline neither loads the
 * compiled validator nor runs it.
 */
function validated(raw: unknown, source: SourceFile, text: string | undefined): RawPipeline {
  const schema = pipelineSchema as unknown as JsonSchema;
  let key: string | undefined;
  if (text !== undefined) {
    validatedMemo ??= new FileMemo<RawPipeline>('pipelines-validated');
    key = FileMemo.key(VALIDATED, validatorKey(schema), text);
    const known = validatedMemo.get(key);
    if (known !== undefined) return known.value;
  }
  const validate = validatorFor(schema);
  if (!validate(raw)) throw new UserError(ajvDiagnostics(validate.errors ?? [], source, [], 'pipeline'));
  if (key !== undefined && survivesJson(raw)) validatedMemo!.set(key, raw as RawPipeline);
  return raw as RawPipeline;
}

/**
 * `--set path=value`: `vars.x=3`, `seed=1`, `train.with.epochs=5` (a stage name first means
 * `stages.<name>…`). Values are YAML: `3` is a number, `[1,2]` a list, `abc` a string.
 */
function applySets(source: SourceFile, sets: readonly string[]): void {
  const errors: Diagnostic[] = [];
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) {
      errors.push({ code: 'E_BAD_SET', message: `--set "${set}" is not key=value`, hint: 'e.g. --set vars.epochs=3 or --set train.with.lr=0.05' });
      continue;
    }
    const segs = set.slice(0, eq).split('.');
    const path = TOP_LEVEL.has(segs[0]!) ? segs : ['stages', ...segs];
    if (path[0] === 'stages' && path.length > 1 && !source.hasIn(['stages', path[1]!])) {
      const names = Object.keys((source.toJS() as { stages?: object } | null)?.stages ?? {});
      errors.push({
        code: 'E_BAD_SET',
        message: `--set ${set}: no stage "${path[1]}"`,
        hint: `stages: ${names.join(', ')}; top-level keys: ${[...TOP_LEVEL].join(', ')}`,
      });
      continue;
    }
    const value = setValue(set.slice(eq + 1));
    if (!value.ok) {
      errors.push({ code: value.code, message: `--set ${fieldPath([...segs, ...(value.path ?? [])])}: ${value.message}`, hint: value.hint });
      continue;
    }
    source.setIn(path, value.value);
  }
  if (errors.length > 0) throw new UserError(errors);
}

type SetValue =
  | { readonly ok: true; readonly value: unknown }
  /** `path`: where in the value, e.g. [1] for `--set lr=[1, .inf]`. */
  | { readonly ok: false; readonly code: string; readonly message: string; readonly hint: string; readonly path?: YamlPath };

/** A `--set` value as YAML, or as the plain string when it is not valid YAML (`--set name=a: b`). */
function setValue(text: string): SetValue {
  const doc = yamlLib().parseDocument(text);
  if (doc.errors.length > 0) return { ok: true, value: text };
  const problem = checkAliases(doc);
  if (problem !== undefined) return { ok: false, code: 'E_YAML_ALIASES', message: aliasProblemMessage(problem), hint: aliasProblemHint(problem) };
  const value: unknown = doc.toJS({ maxAliasCount: -1 });
  const nonFinite = nonFiniteNumbers(value)[0];
  if (nonFinite !== undefined) {
    return { ok: false, code: 'E_NOT_FINITE', message: `${yamlSpelling(nonFinite.value)} is not a finite number`, hint: NON_FINITE_HINT, path: nonFinite.path };
  }
  return { ok: true, value };
}
