// Resolves what a command works on: the pipeline file (default: the quick-start), its plan, the store.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { CliIO } from './io.js';
import { loadPipelineFile, type PipelineFile } from '../config/pipeline-file.js';
import { buildPlan } from '../plan/build.js';
import { createRegistry, type PluginRegistry } from '../plan/registry.js';
import type { Plan } from '../plan/plan.js';
import { LocalStore } from '../store/local.js';
import type { TieredStore } from '../store/tiered.js';
import { UserError } from '../util/user-error.js';
import { unreachable } from '../util/brand.js';
import { MARKER_FILE, NotACacheError, type NotACache } from '../store/marker.js';
import { builtinPlugins } from '../../stages/index.js';
import { ENV } from '../util/env.js';
import { bundledPipelinePath, bundledPipelines } from './bundled.js';

export const QUICKSTART = 'pipelines/quickstart.yaml';

export interface Workspace {
  readonly file: PipelineFile;
  readonly plan: Plan;
  readonly registry: PluginRegistry;
}

/**
 * The pipeline a command works on. Without one named: the project's quick-start
 * (./pipelines/quickstart.yaml), and where there is none a user error saying how to start — never the
 * package's own, which would train and fill ./cache in a directory that did not ask for it. A name
 * that is not a file (`quickstart`, `figure1`) is one of the pipelines bundled with rethink.
 */
export function resolvePipeline(io: CliIO, pipeline: string | undefined): string {
  if (pipeline === undefined) {
    if (existsSync(resolve(io.cwd, QUICKSTART))) return QUICKSTART;
    throw UserError.of('E_NO_PIPELINE', `no pipeline named and none here: ${QUICKSTART} does not exist in ${io.cwd}`, startHint());
  }
  if (existsSync(resolve(io.cwd, pipeline))) return pipeline;
  const bundled = bundledPipelinePath(pipeline);
  if (bundled !== undefined) return bundled;
  throw UserError.of('E_NO_PIPELINE', `no pipeline ${pipeline}: no such file in ${io.cwd}, and no pipeline bundled with rethink has that name`, startHint());
}

/** Where a project starts: what to type with no pipeline file, naming the bundled pipelines. */
function startHint(): string {
  const [first, ...rest] = bundledPipelines();
  const bundled = first === undefined ? '' : `, or run a pipeline bundled with rethink by name: \`rethink run ${first}\`${rest.length > 0 ? ` (or ${rest.join(', ')})` : ''}`;
  return `start a project here with \`rethink init\`, or name a pipeline file (\`rethink run path/to/pipeline.yaml\`)${bundled}`;
}

export async function loadWorkspace(io: CliIO, pipeline: string | undefined, sets: readonly string[] = []): Promise<Workspace> {
  const path = resolvePipeline(io, pipeline);
  const abs = isAbsolute(path) ? path : resolve(io.cwd, path);
  const file = await loadPipelineFile(abs, sets, path);
  const registry = createRegistry(builtinPlugins);
  const plan = await buildPlan(file, registry);
  return { file, plan, registry };
}

export interface StoreFlags {
  readonly 'cache-dir'?: string | undefined;
  readonly remote?: string | undefined;
  readonly 'remote-read-only'?: boolean | undefined;
}

/**
 * The local cache, or the local cache with the shared remote behind it (`--remote`, RETHINK_REMOTE).
 * `signal` is the command's (Ctrl-C): remote calls in flight stop when it aborts.
 */
export async function openStore(io: CliIO, flags: StoreFlags, signal?: AbortSignal): Promise<LocalStore | TieredStore> {
  const local = openLocalStore(io, flags['cache-dir']);
  const fromFlag = flags.remote !== undefined;
  const spec = flags.remote ?? ENV.remote.read(io.env);
  if (spec === undefined || (!fromFlag && spec.trim() === '')) return local;
  // Loaded only with a remote: a run on the local cache alone never pays for the remote's modules.
  const { openSharedRemote, tieredOver } = await import('./remote-store.js');
  const shared = await openSharedRemote(io, spec, fromFlag ? '--remote' : ENV.remote.name, signal);
  return tieredOver(local, shared, { readOnly: remoteReadOnly(io, flags), ...(signal ? { signal } : {}) });
}

/** Whether the remote is only read from (`--remote-read-only`, RETHINK_REMOTE_READ_ONLY). */
export function remoteReadOnly(io: CliIO, flags: StoreFlags): boolean {
  return flags['remote-read-only'] === true || ENV.remoteReadOnly.read(io.env);
}

/**
 * The local cache alone (`--cache-dir`, RETHINK_CACHE_DIR, or ./cache). An empty value is refused
 * rather than read as the current directory: a cache there would mix its objects/, runs/ and tmp/
 * with the user's own files.
 */
export function openLocalStore(io: CliIO, cacheDir: string | undefined): LocalStore {
  const dir = cacheDir ?? ENV.cacheDir.read(io.env) ?? 'cache';
  if (dir.trim() === '') {
    const fromFlag = cacheDir !== undefined;
    throw UserError.of(
      'E_BAD_CACHE_DIR',
      `${fromFlag ? '--cache-dir is empty' : `${ENV.cacheDir.name} is set but empty`}: that would put the cache in the current directory, among your own files`,
      fromFlag
        ? 'name a directory (e.g. --cache-dir cache), or leave the flag out for the default ./cache'
        : `name a directory (e.g. ${ENV.cacheDir.name}=cache), or unset ${ENV.cacheDir.name} for the default ./cache`,
    );
  }
  return new LocalStore(isAbsolute(dir) ? dir : resolve(io.cwd, dir));
}

export function localOf(store: LocalStore | TieredStore): LocalStore {
  return 'local' in store ? store.local : store;
}

/**
 * gc and fsck delete or move nothing in a directory that rethink has not marked as its cache (a
 * mistyped --cache-dir, a project folder): a user error that says what to check.
 */
export async function refuseUnlessCache(store: LocalStore): Promise<void> {
  try {
    await store.assertIsCache();
  } catch (e) {
    if (e instanceof NotACacheError) throw UserError.of('E_NOT_A_CACHE', e.message, notACacheHint(e.why));
    throw e;
  }
}

function notACacheHint(why: NotACache): string {
  const check = `check --cache-dir and ${ENV.cacheDir.name}`;
  if (typeof why === 'object') return 'a newer rethink made this cache: collect its garbage with that version';
  switch (why) {
    case 'no-directory':
      return `${check}; a cache appears with the first \`rethink run\``;
    case 'missing':
      return `${check}. A cache made by an older rethink has runs/ and objects/ but no ${MARKER_FILE}: its next \`rethink run\` adds it`;
    case 'foreign':
      return `another tool's ${MARKER_FILE} is there: ${check}`;
    default:
      return unreachable(why);
  }
}
