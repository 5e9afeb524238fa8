// Resolves what a command works on: the pipeline file (default: the quick-start), its plan, the store.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { packageRoot } from '../exec/environment.js';
import type { CliIO } from './io.js';
import { loadPipelineFile, type PipelineFile } from '../config/pipeline-file.js';
import { buildPlan } from '../plan/build.js';
import { createRegistry, type PluginRegistry } from '../plan/registry.js';
import type { Plan } from '../plan/plan.js';
import { LocalStore } from '../store/local.js';
import { REMOTE_ENV, REMOTE_READ_ONLY_ENV } from '../store/remote.js';
import type { TieredStore } from '../store/tiered.js';
import { UserError } from '../config/diagnostic.js';
import { unreachable } from '../util/brand.js';
import { MARKER_FILE, NotACacheError, type NotACache } from '../store/marker.js';
import { builtinPlugins } from '../../stages/index.js';

export const QUICKSTART = 'pipelines/quickstart.yaml';
export const CACHE_ENV = 'RETHINK_CACHE_DIR';

export interface Workspace {
  readonly file: PipelineFile;
  readonly plan: Plan;
  readonly registry: PluginRegistry;
}

export function defaultPipeline(io: CliIO): string {
  const local = resolve(io.cwd, QUICKSTART);
  if (existsSync(local)) return QUICKSTART;
  // Outside the project (e.g. `npx rethink` elsewhere): the package's own quick-start.
  return resolve(packageRoot(), QUICKSTART);
}

export async function loadWorkspace(io: CliIO, pipeline: string | undefined, sets: readonly string[] = []): Promise<Workspace> {
  const path = pipeline ?? defaultPipeline(io);
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
  const spec = flags.remote ?? io.env[REMOTE_ENV];
  if (spec === undefined || (!fromFlag && spec.trim() === '')) return local;
  // Loaded only with a remote: a run on the local cache alone never pays for the remote's modules.
  const { openSharedRemote, tieredOver } = await import('./remote-store.js');
  const shared = await openSharedRemote(io, spec, fromFlag ? '--remote' : REMOTE_ENV, signal);
  return tieredOver(local, shared, { readOnly: remoteReadOnly(io, flags), ...(signal ? { signal } : {}) });
}

/** Whether the remote is only read from (`--remote-read-only`, RETHINK_REMOTE_READ_ONLY). */
export function remoteReadOnly(io: CliIO, flags: StoreFlags): boolean {
  return flags['remote-read-only'] === true || /^(1|true|yes)$/i.test(io.env[REMOTE_READ_ONLY_ENV] ?? '');
}

/**
 * The local cache alone (`--cache-dir`, RETHINK_CACHE_DIR, or ./cache). An empty value is refused
 * rather than read as the current directory: a cache there would mix its objects/, runs/ and tmp/
 * with the user's own files.
 */
export function openLocalStore(io: CliIO, cacheDir: string | undefined): LocalStore {
  const dir = cacheDir ?? io.env[CACHE_ENV] ?? 'cache';
  if (dir.trim() === '') {
    const fromFlag = cacheDir !== undefined;
    throw UserError.of(
      'E_BAD_CACHE_DIR',
      `${fromFlag ? '--cache-dir is empty' : `${CACHE_ENV} is set but empty`}: that would put the cache in the current directory, among your own files`,
      fromFlag
        ? 'name a directory (e.g. --cache-dir cache), or leave the flag out for the default ./cache'
        : `name a directory (e.g. ${CACHE_ENV}=cache), or unset ${CACHE_ENV} for the default ./cache`,
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
  const check = `check --cache-dir and ${CACHE_ENV}`;
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
