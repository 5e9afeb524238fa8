// Why the native backend may be missing from an install, and the one line that says so before a run
// trains on a slower backend. onnxruntime-node (an optional dependency) runs an install script that,
// on Linux x64, downloads its CUDA/TensorRT providers from NuGet; where that download fails (no
// network beyond the npm registry, a proxy), npm drops the whole package without a visible word and
// `auto` trains on wasm. The CPU library the native backend uses is in the npm package itself, so
// skipping the script is the fix.
import { createRequire } from 'node:module';

/** The command that reinstalls onnxruntime-node without its CUDA download, on any npm. */
export const NATIVE_FIX = 'ONNXRUNTIME_NODE_INSTALL=skip npm install';

/** Why onnxruntime-node is absent, as one clause. */
export const NATIVE_MISSING = 'onnxruntime-node is not installed (npm drops it when its install script, a CUDA download, fails)';

/** Resolves a package the way rethink's own modules import it; throws when it is not installed. */
export type Resolver = (pkg: string) => string;

const require = createRequire(import.meta.url);

export const resolvePackage: Resolver = (pkg) => require.resolve(pkg);

/** Whether `pkg` can be imported from rethink's install. */
export function installed(pkg: string, resolve: Resolver = resolvePackage): boolean {
  try {
    resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** What a run's training stages leave open and how the run asks for a backend. */
export interface BackendUse {
  /** --backend or RETHINK_BACKEND, when set. */
  readonly request: string | undefined;
  /** The `backend` param of each stage that picks one (null: the request, else auto). */
  readonly stageBackends: readonly (string | null)[];
}

/**
 * The line a run prints before training when `auto` would pass over the native backend because
 * onnxruntime-node is missing, or undefined when it would not: no stage leaves the backend open to
 * auto, or tfjs-node (which auto prefers) is installed.
 */
export function nativeFallbackNote(use: BackendUse, resolve: Resolver = resolvePackage): string | undefined {
  const request = use.request === undefined || use.request.trim() === '' ? 'auto' : use.request.trim().toLowerCase();
  const auto = use.stageBackends.some((b) => (b ?? request) === 'auto');
  if (!auto || installed('onnxruntime-node', resolve)) return undefined;
  if (installed('@tensorflow/tfjs-node', resolve) || installed('@tensorflow/tfjs-node-gpu', resolve)) return undefined;
  return `note: training falls back from the native backend to wasm (webgpu where a GPU is found), several times slower: ${NATIVE_MISSING}. Fix: ${NATIVE_FIX}; \`rethink doctor\` checks every backend`;
}
