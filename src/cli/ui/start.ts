// Starts `rethink ui`'s server: checks the cache, opens the store (the remote read-only behind it),
// loads the pipelines, follows the cache live, and listens on loopback, or elsewhere with a token.
// The command (cli/commands/ui.ts) and the tests call this.
import type { AddressInfo } from 'node:net';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import type { CliIO } from '../io.js';
import { openLocalStore } from '../workspace.js';
import { ENV } from '../../util/env.js';
import { openSharedRemote, tieredOver } from '../remote-store.js';
import { UserError } from '../../util/user-error.js';
import { packageRoot } from '../../exec/environment.js';
import { checkMarker } from '../../store/marker.js';
import { CachedLocalStore } from './cached-store.js';
import { LiveMonitor, type LiveOptions } from './live.js';
import { isLoopback, newToken } from './security.js';
import { createUiServer } from './server.js';
import { StaticFiles } from './static-files.js';
import { UiData, type PipelineSource } from './ui-data.js';

export interface UiOptions {
  /** Pipeline files as the user named them (at least one). */
  readonly pipelines: readonly string[];
  readonly cacheDir?: string | undefined;
  readonly remote?: string | undefined;
  /** Default 127.0.0.1. */
  readonly host?: string | undefined;
  /** Default: a free port. */
  readonly port?: number | undefined;
  readonly sets?: readonly string[];
  /** The built app (default: the package's dist/ui). */
  readonly appDir?: string;
  readonly live?: LiveOptions;
}

export interface RunningUi {
  /** What to open: with `?token=…` when the server needs one. */
  readonly url: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly data: UiData;
  readonly live: LiveMonitor;
  close(): Promise<void>;
}

export async function startUi(io: CliIO, options: UiOptions): Promise<RunningUi> {
  const location = openLocalStore(io, options.cacheDir).location;
  await checkCache(location, options.cacheDir !== undefined);
  const local = new CachedLocalStore(location);
  const remoteSpec = options.remote ?? (ENV.remote.read(io.env)?.trim() || undefined);
  // Read-only: records from the remote are read into memory, never uploaded or written to the cache.
  const store = remoteSpec === undefined ? local : await tieredOver(local, await openSharedRemote(io, remoteSpec, options.remote === undefined ? ENV.remote.name : '--remote'), { readOnly: true });
  const data = new UiData(io, local, store, remoteSpec ?? null, pipelineSources(io, options.pipelines), options.sets ?? []);
  await data.loadAll();
  const live = new LiveMonitor(local, options.live);
  await live.start();
  const host = options.host ?? '127.0.0.1';
  const token = isLoopback(host) ? undefined : newToken();
  const server = createUiServer({
    data,
    app: new StaticFiles(options.appDir ?? join(packageRoot(), 'dist', 'ui')),
    live,
    ...(token === undefined ? {} : { token }),
    log: (line) => io.stderr(`${line}\n`),
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(UserError.of('E_PORT', `port ${options.port ?? 0} on ${host} is in use`, 'pass another --port, or leave it out for a free one'));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') fail(UserError.of('E_HOST', `cannot listen on --host ${host}: no such address on this machine`, 'e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface, with a token)'));
      else fail(e);
    });
    server.listen(options.port ?? 0, host, () => done());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/${token === undefined ? '' : `?token=${token}`}`;
  return {
    url,
    port,
    token,
    data,
    live,
    close: () =>
      new Promise<void>((done) => {
        live.stop();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** The cache must exist (a typo in --cache-dir is said at once) and be rethink's. */
async function checkCache(location: string, fromFlag: boolean): Promise<void> {
  const why = await checkMarker(location);
  const check = fromFlag ? 'check --cache-dir' : `check --cache-dir and ${ENV.cacheDir.name} (default ./cache)`;
  if (why === 'no-directory') throw UserError.of('E_NO_CACHE', `no cache at ${location}`, `${check}; a cache appears with the first \`rethink run\``);
  if (why === 'foreign') throw UserError.of('E_NOT_A_CACHE', `${location} is not a rethink cache (another tool's marker is there)`, check);
  if (typeof why === 'object') throw UserError.of('E_NOT_A_CACHE', `a newer rethink made the cache at ${location} (format ${why.newerFormat})`, 'use that version of rethink to show it');
  // 'missing': a cache made before the marker existed, readable as it is.
}

/** Each pipeline with an id for URLs: its file name without the extension, numbered where two share one. */
function pipelineSources(io: CliIO, files: readonly string[]): PipelineSource[] {
  const taken = new Set<string>();
  return files.map((display) => {
    const file = isAbsolute(display) ? display : resolve(io.cwd, display);
    const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'pipeline';
    let id = stem;
    for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`;
    taken.add(id);
    return { id, file, display };
  });
}
