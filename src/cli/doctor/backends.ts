// `rethink doctor`'s backend checks: each tfjs backend started the way a training stage starts it
// (src/backends/select.ts), so what loads here is what a run gets — versions, threads, the GPU adapter
// — or why not and what to install. Nothing is trained.
import { NATIVE_FIX, NATIVE_MISSING, installed, resolvePackage, type Resolver } from '../native-hint.js';
import { ENV } from '../../util/env.js';

export interface BackendCheck {
  readonly name: string;
  readonly loads: boolean;
  readonly versions?: Readonly<Record<string, string>>;
  readonly threads?: number;
  readonly adapter?: Readonly<Record<string, string>>;
  /** Why it does not load (first line of the failure). */
  readonly reason?: string;
}

export interface BackendReport {
  /** What a run that leaves the backend open uses: RETHINK_BACKEND, else auto. */
  readonly request: string;
  /** The backend that request starts, or undefined when it starts none. */
  readonly default: string | undefined;
  /** Why the request starts nothing. */
  readonly defaultError?: string;
  readonly backends: readonly BackendCheck[];
}

/** Starts the default backend, then tries every other one. */
export async function checkBackends(env: Readonly<Record<string, string | undefined>>): Promise<BackendReport> {
  const { backendNames, initBackend } = await import('../../backends/select.js');
  const request = ENV.backend.read(env)?.trim() || 'auto';
  const results = new Map<string, BackendCheck>();
  let chosen: string | undefined;
  let defaultError: string | undefined;
  try {
    const { info } = await initBackend(request, {});
    chosen = info.name;
    results.set(info.name, { name: info.name, loads: true, versions: info.versions, threads: info.threads, ...(info.adapter ? { adapter: info.adapter } : {}) });
  } catch (e) {
    defaultError = firstLine(e);
  }
  for (const name of backendNames) {
    if (name === 'auto' || results.has(name)) continue;
    try {
      const { info } = await initBackend(name, {});
      results.set(name, { name, loads: true, versions: info.versions, threads: info.threads, ...(info.adapter ? { adapter: info.adapter } : {}) });
    } catch (e) {
      // The error's "backend 'x' is unavailable: " is the line's own heading here; a missing
      // onnxruntime-node has one known cause, said as such.
      const reason = name === 'native' && !installed('onnxruntime-node') ? NATIVE_MISSING : firstLine(e).replace(`backend '${name}' is unavailable: `, '');
      results.set(name, { name, loads: false, reason });
    }
  }
  return {
    request,
    default: chosen,
    ...(defaultError === undefined ? {} : { defaultError }),
    backends: backendNames.filter((n) => n !== 'auto').map((n) => results.get(n)!),
  };
}

/** The native backend's failure, said as what to do: a missing package has one known cause and fix. */
export function nativeFix(check: BackendCheck, resolve: Resolver = resolvePackage): string {
  return installed('onnxruntime-node', resolve) ? `onnxruntime-node is installed but does not load (${check.reason ?? 'unknown'}); reinstall it: ${NATIVE_FIX}` : `${NATIVE_FIX} (reinstalls onnxruntime-node, which npm dropped when its install script's CUDA download failed, without that download: the native backend uses its CPU library)`;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
