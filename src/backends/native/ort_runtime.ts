// Wraps onnxruntime-node's internal synchronous binding (`onnxruntime-node/dist/binding`) in one place.
// tfjs kernels must return synchronously, but the package's public `InferenceSession.run()` defers the
// native call with setImmediate; the binding underneath runs the same session synchronously. It is an
// internal API, so we pin the version, check the shape of every member we touch, and run a smoke test;
// any mismatch becomes a failure value and the caller keeps the pure-wasm path.
//
// Outputs without copies. The binding hands back every output of a run as a fresh ArrayBuffer, a
// copy, even one ORT has just written into the caller's preallocated memory: 630 MB a step of small
// Inception at batch 128, each copy in newly mapped memory faulted in page by page (≈ 10 µs a page
// on this VM), and all of it external memory that has V8 collect (a scavenge and a mark-compact)
// every 64 MB. The binding converts a run's outputs in graph order only after the run has finished
// and written them all, and throws on an element type it has no JS array for (bfloat16). So each
// graph gets a first output of that type (a scalar cast from a constant); when the binding throws
// that error on it, every preallocated output is already written and nothing was copied. A throw
// with any other message is a real error. The start-up check runs a graph this way and checks its
// output; where the binding behaves otherwise (another version), graphs run without the extra
// output and outputs are copied as before. (onnxruntime's main branch hands outputs back without
// copying; when a release does, this goes.)

import { createRequire } from 'node:module';
import { ENV } from '../../util/env.js';
import { encodeModel, OnnxType, type OnnxGraph } from '../../util/onnx-proto.js';

/** The onnxruntime-node versions whose internal binding layout this wrapper was checked against. */
export const SUPPORTED_ORT_VERSIONS: readonly string[] = ['1.30.0'];

/** What the wrapper needs from onnxruntime-node; injectable so tests can simulate its absence. */
export interface OrtModules {
  readonly version: string;
  /** `require('onnxruntime-node/dist/binding')` */
  readonly bindingModule: unknown;
  /** `require('onnxruntime-common').Tensor` */
  readonly Tensor: unknown;
}

export type OrtModuleLoader = () => Promise<OrtModules>;

export type OrtLoadFailure =
  | { readonly reason: 'missing'; readonly detail: string }
  | { readonly reason: 'version'; readonly detail: string }
  | { readonly reason: 'api-shape'; readonly detail: string }
  | { readonly reason: 'smoke-test'; readonly detail: string };

export type OrtLoadResult = { readonly ok: true; readonly runtime: OrtRuntime } | ({ readonly ok: false } & OrtLoadFailure);

export type OrtOptLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** A loaded single-graph session that runs synchronously on the caller's thread (plus ORT's pool). */
export interface OrtSession {
  /** Runs the graph; every output is written into the caller's preallocated array. */
  run(inputs: Readonly<Record<string, OrtInput>>, outputs: Readonly<Record<string, OrtInput>>): void;
  dispose(): void;
}

export interface OrtInput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Per-session departures from the runtime's defaults (a long-lived whole-step graph wants both on). */
export interface OrtSessionOverrides {
  /** Keep this session's memory arena and memory pattern (default: the runtime's `arena`). */
  readonly arena?: boolean;
  /** Let intra-op workers spin between parallel sections (default: $RETHINK_NATIVE_SPIN === '1'). */
  readonly spinning?: boolean;
}

export interface OrtRuntime {
  readonly version: string;
  readonly threads: number;
  /** Whether each session keeps ORT's memory arena (faster reuse, but memory held per session). */
  readonly arena: boolean;
  /** Whether runs skip the binding's copy of every output (see the header); false: outputs are copied as the binding does. */
  readonly outputsInPlace: boolean;
  createSession(graph: OnnxGraph, optLevel: OrtOptLevel, overrides?: OrtSessionOverrides): OrtSession;
}

/** The extra first output that stops the binding before it copies any output (see the header). */
const DISCARD = 'rethink_discard';
/** What the binding throws when it reaches that output (bfloat16 has no JS array there): the run succeeded. */
export const DISCARD_MESSAGE = `Tensor type (${OnnxType.bfloat16}) is not supported.`;

/** `graph` with the discard output first: a bfloat16 scalar cast from a float constant. */
export function withDiscardOutput(graph: OnnxGraph): OnnxGraph {
  return {
    ...graph,
    nodes: [{ op: 'Cast', inputs: [`${DISCARD}_src`], outputs: [DISCARD], attrs: { to: { kind: 'int', value: OnnxType.bfloat16 } } }, ...graph.nodes],
    initializers: [{ name: `${DISCARD}_src`, dims: [], values: [0], type: OnnxType.float }, ...(graph.initializers ?? [])],
    outputs: [{ name: DISCARD, type: OnnxType.bfloat16, shape: [] }, ...graph.outputs],
  };
}

interface RawSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: object, fetches: object, options: object): Record<string, unknown>;
  dispose(): void;
}
type RawSessionCtor = new () => RawSession;
type TensorCtor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => object;

export const defaultOrtLoader: OrtModuleLoader = async () => {
  // onnxruntime-node 1.30 starts Microsoft's 1DS telemetry when its binding loads, unless this is
  // set: it leaves mat-debug-<pid>.log and .ses files in $TMPDIR for every process. A research tool
  // reports nothing by default; a user who wants it sets ORT_DISABLE_TELEMETRY=0.
  process.env['ORT_DISABLE_TELEMETRY'] ??= '1';
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('onnxruntime-node/package.json');
  const version = (require(pkgPath) as { version: string }).version;
  // onnxruntime-common is resolved from onnxruntime-node's own location: it is that package's dependency.
  const fromOrt = createRequire(pkgPath);
  return {
    version,
    bindingModule: fromOrt('./dist/binding'),
    Tensor: (fromOrt('onnxruntime-common') as { Tensor: unknown }).Tensor,
  };
};

function isFunction(x: unknown): x is (...args: never[]) => unknown {
  return typeof x === 'function';
}

function checkShape(mods: OrtModules): { ctor: RawSessionCtor; init: () => void; Tensor: TensorCtor } | string {
  const b = mods.bindingModule as { binding?: { InferenceSession?: unknown }; initOrt?: unknown } | null;
  if (b === null || typeof b !== 'object') return 'binding module is not an object';
  if (!isFunction(b.initOrt)) return 'binding module has no initOrt()';
  const ctor = b.binding?.InferenceSession;
  if (!isFunction(ctor)) return 'binding.InferenceSession is not a constructor';
  const proto = (ctor as { prototype?: Record<string, unknown> }).prototype ?? {};
  for (const m of ['loadModel', 'run', 'dispose']) {
    if (!isFunction(proto[m])) return `binding.InferenceSession has no ${m}()`;
  }
  if (!isFunction(mods.Tensor)) return 'onnxruntime-common has no Tensor constructor';
  return { ctor: ctor as unknown as RawSessionCtor, init: b.initOrt as () => void, Tensor: mods.Tensor as unknown as TensorCtor };
}

function makeRuntime(version: string, threads: number, arena: boolean, outputsInPlace: boolean, api: { ctor: RawSessionCtor; Tensor: TensorCtor }): OrtRuntime {
  const { ctor, Tensor } = api;
  const toFeeds = (vals: Readonly<Record<string, OrtInput>>): Record<string, object> => {
    const out: Record<string, object> = {};
    for (const [name, v] of Object.entries(vals)) out[name] = new Tensor('float32', v.data, v.dims);
    return out;
  };
  return {
    version,
    threads,
    arena,
    outputsInPlace,
    createSession(graph, optLevel, overrides = {}) {
      const model = encodeModel(outputsInPlace ? withDiscardOutput(graph) : graph);
      const raw = new ctor();
      const sessionArena = overrides.arena ?? arena;
      const spinning = overrides.spinning ?? ENV.nativeSpin.read();
      raw.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: optLevel,
        enableCpuMemArena: sessionArena,
        enableMemPattern: sessionArena,
        // Every cached session owns a thread pool; a worker spinning after its session's run would
        // steal the core the next session's worker needs, so workers sleep as soon as work runs out
        // (RETHINK_NATIVE_SPIN=1 restores ORT's default).
        extra: { 'session.intra_op.allow_spinning': spinning ? '1' : '0' },
      });
      return {
        run(inputs, outputs) {
          if (!outputsInPlace) {
            raw.run(toFeeds(inputs), toFeeds(outputs), {});
            return;
          }
          const fetches = { [DISCARD]: null, ...toFeeds(outputs) };
          // The expected throw needs no stack trace.
          const limit = Error.stackTraceLimit;
          Error.stackTraceLimit = 0;
          try {
            raw.run(toFeeds(inputs), fetches, {});
          } catch (e) {
            if (!(e instanceof Error && e.message === DISCARD_MESSAGE)) throw e;
          } finally {
            Error.stackTraceLimit = limit;
          }
        },
        dispose() {
          raw.dispose();
        },
      };
    },
  };
}

/** Loads and validates the binding; never throws. */
export async function loadOrtRuntime(
  threads: number,
  arena: boolean,
  loader: OrtModuleLoader = defaultOrtLoader,
  smokeTest: (rt: OrtRuntime) => string | null = () => null,
): Promise<OrtLoadResult> {
  let mods: OrtModules;
  try {
    mods = await loader();
  } catch (e) {
    return { ok: false, reason: 'missing', detail: e instanceof Error ? e.message : String(e) };
  }
  if (!SUPPORTED_ORT_VERSIONS.includes(mods.version)) {
    return { ok: false, reason: 'version', detail: `onnxruntime-node ${mods.version}; supported: ${SUPPORTED_ORT_VERSIONS.join(', ')}` };
  }
  const api = checkShape(mods);
  if (typeof api === 'string') return { ok: false, reason: 'api-shape', detail: api };
  try {
    api.init();
    // Outputs in place where the binding behaves as the header says, else copied as it does.
    const inPlace = makeRuntime(mods.version, threads, arena, true, api);
    if (ENV.nativeOutputCopies.read() === false && outputsInPlaceHold(inPlace) && smokeTest(inPlace) === null) return { ok: true, runtime: inPlace };
    const runtime = makeRuntime(mods.version, threads, arena, false, api);
    const problem = smokeTest(runtime);
    if (problem !== null) return { ok: false, reason: 'smoke-test', detail: problem };
    return { ok: true, runtime };
  } catch (e) {
    return { ok: false, reason: 'smoke-test', detail: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Whether a run with the discard output (run() absorbs the expected throw) has written its
 * preallocated output: a Neg over 5 floats at a non-zero offset of a larger buffer. Any other throw,
 * or an output left unwritten (a binding that rejects the discard output before running), says no.
 */
function outputsInPlaceHold(rt: OrtRuntime): boolean {
  const f = OnnxType.float;
  const session = rt.createSession({ nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', type: f, shape: [5] }], outputs: [{ name: 'y', type: f, shape: [5] }] }, 'basic');
  try {
    const heap = new ArrayBuffer(64);
    const x = new Float32Array(heap, 4, 5);
    const y = new Float32Array(heap, 32, 5).fill(Number.NaN);
    x.set([1, -2, 3, -4, 0.5]);
    session.run({ x: { data: x, dims: [5] } }, { y: { data: y, dims: [5] } });
    return Array.from(y).every((v, i) => v === -(x[i] as number));
  } catch {
    return false;
  } finally {
    session.dispose();
  }
}
