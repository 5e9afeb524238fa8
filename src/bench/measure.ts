// Times full training steps of one model on one fixed synthetic batch, the PyTorch anchor's timed
// region (anchors/torch_bench.py): forward, loss, backward and momentum update, with the loss read
// back on the host each step (PyTorch's loss.backward() finishes its step before returning). The
// batch is prepared and uploaded once, before the warm-up steps, as the anchor's `x` is. Each timed
// step also records what could make it slow: GC pauses, page faults, context switches, CPU time
// and heap growth (jitter.ts reads them). One more step is profiled by kernel.
// A backend's compiled step is driven as the training loop drives it (src/train/loop.ts): chunks of
// up to maxChunkSteps steps per run, on the same batch repeated; each run is then one timed sample
// (its `steps` say how many steps it took). The warm-up is the anchor's number of steps, no more (so a
// chunk length's first run, when ORT plans its memory, may fall in the timed region, as a training
// run's first chunk pays it), and the throughput is still total images ÷ total time over the same
// number of steps as the anchor's.
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { Rng } from '../util/random.js';
import { protocolOf } from '../models/protocol.js';
import { getModel } from '../models/registry.js';
import { makeBatch } from '../train/batch.js';
import { sgdSlots } from '../train/decay.js';
import { MomentumSgd } from '../train/sgd.js';
import { trainStepOn } from '../train/step.js';
import type { Tf } from '../models/types.js';
import type { ImageSet } from '../train/types.js';
import type { BackendSession, TrainChunk } from '../backends/session.js';

export interface KernelTime {
  readonly name: string;
  readonly ms: number;
  readonly calls: number;
}

/** One timed run (a step, or a compiled step's chunk of steps) and what happened in the process meanwhile. */
export interface StepSample {
  /** Steps the run took (1 unless the backend's compiled step took a chunk). */
  readonly steps: number;
  /** Wall time of the run, milliseconds. */
  readonly ms: number;
  /** Process CPU time (user + system, all threads) during the step, milliseconds. */
  readonly cpuMs: number;
  /** Garbage-collection pauses that started during the step, milliseconds in all. */
  readonly gcMs: number;
  readonly minorFaults: number;
  readonly majorFaults: number;
  /** Times a thread of the process waited (for a lock, a condition, I/O). */
  readonly voluntarySwitches: number;
  /** Times the OS took a core from a thread of the process that could have run on. */
  readonly involuntarySwitches: number;
  /** Growth of the V8 heap over the step, bytes (negative when a GC freed more than the step allocated). */
  readonly heapBytes: number;
}

export interface ModelBench {
  readonly model: string;
  readonly params: number;
  readonly batch: number;
  /** `compiled`: the backend's whole-step path (BackendSession.compileTrainStep); `ops`: the generic step, op by op through tfjs. */
  readonly step: 'compiled' | 'ops';
  /** Per timed run, milliseconds per step (a chunk's time ÷ its steps). */
  readonly stepMs: readonly number[];
  readonly samples: readonly StepSample[];
  /** The jitter of those steps: fastest, median and slowest, milliseconds. */
  readonly stepSpreadMs: { readonly min: number; readonly median: number; readonly max: number };
  /**
   * `mean` is total images ÷ total time over the timed steps, the PyTorch anchor's definition, and
   * the only figure to compare with it; `best` (the fastest step) and `median` are shown beside it.
   */
  readonly imagesPerSecond: { readonly best: number; readonly median: number; readonly mean: number };
  /** Kernels of one profiled step by total time, descending (absent with --no-profile). */
  readonly kernels?: readonly KernelTime[];
  readonly profiledStepMs?: number;
  /** Sum over every kernel of the profiled step. */
  readonly kernelTotalMs?: number;
}

export interface MeasureOptions {
  readonly batch: number;
  readonly warmup: number;
  readonly steps: number;
  readonly top: number;
  readonly profile: boolean;
}

const SHAPE = [28, 28, 3] as const;
const MOMENTUM = 0.9;

export async function measureModel(tf: Tf, session: BackendSession, name: string, o: MeasureOptions): Promise<ModelBench> {
  const def = getModel(name);
  const rng = Rng.derive(0, 'bench', name);
  const n = o.batch;
  const images = new Uint8Array(n * 28 * 28 * 3);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Int32Array.from({ length: n }, () => rng.int(10));
  const set: ImageSet = { images, shape: [n, ...SHAPE], labels };
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const batch = makeBatch(set, all, { crop: null, standardize: true }, null, null);

  const model = await def.build({ inputShape: SHAPE, numClasses: 10, seed: 1 });
  const slots = sgdSlots(model, { conv: 0, dense: 0 });
  const sgd = new MomentumSgd(tf, slots, MOMENTUM, session.momentum);
  const lr = protocolOf(def.name).lr;
  // The compiled path starts, as the generic one does, from zero velocities (its own: it owns them).
  const compile = session.compileTrainStep?.bind(session);
  const velocities = compile ? tf.tidy(() => slots.map((s) => tf.variable(tf.zerosLike(s.variable), false))) : [];
  const compiled = compile?.({ model, slots, velocities, momentum: MOMENTUM, imageShape: SHAPE, numClasses: 10, batchSize: n });
  const x = tf.tensor4d(batch.data, [...batch.shape] as [number, number, number, number]);
  const y = tf.tensor1d(labels, 'int32');
  const chunkSteps = Math.min(compiled?.maxChunkSteps ?? 1, o.steps);
  const repeated = (k: number): TrainChunk => {
    const images = new Float32Array(k * batch.data.length);
    const allLabels = new Int32Array(k * n);
    for (let j = 0; j < k; j++) {
      images.set(batch.data, j * batch.data.length);
      allLabels.set(labels, j * n);
    }
    return { images, shape: batch.shape, labels: allLabels, lrs: new Array<number>(k).fill(lr) };
  };
  // Made before the warm-up, as the anchor's x is: the full chunk, the last shorter one and the warm-up's.
  const chunkLengths = (total: number): number[] => Array.from({ length: Math.ceil(total / chunkSteps) }, (_, i) => Math.min(chunkSteps, total - i * chunkSteps));
  const chunks = new Map<number, TrainChunk>();
  if (compiled) for (const k of [...chunkLengths(o.warmup), ...chunkLengths(o.steps)]) if (!chunks.has(k)) chunks.set(k, repeated(k));
  /** Runs `k` steps (k > 1 only for a compiled step) and reads the loss back. */
  const run = async (k: number): Promise<void> => {
    if (compiled) {
      compiled.run(chunks.get(k)!);
      session.endStep?.();
      return;
    }
    const out = trainStepOn(tf, model, sgd, x, y, 10, lr);
    session.endStep?.();
    await out.data();
    out.dispose();
  };
  const step = (): Promise<void> => run(1);
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  try {
    for (const k of chunkLengths(o.warmup)) await run(k);
    observer.observe({ entryTypes: ['gc'] });
    const windows: { readonly t0: number; readonly t1: number }[] = [];
    const raw: Omit<StepSample, 'gcMs'>[] = [];
    for (const k of chunkLengths(o.steps)) {
      // Counters are read outside the timed window, so that reading them is not timed.
      const r0 = process.resourceUsage();
      const h0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      await run(k);
      const t1 = performance.now();
      const h1 = process.memoryUsage().heapUsed;
      const r1 = process.resourceUsage();
      windows.push({ t0, t1 });
      raw.push({
        steps: k,
        ms: t1 - t0,
        cpuMs: (r1.userCPUTime - r0.userCPUTime + r1.systemCPUTime - r0.systemCPUTime) / 1000,
        minorFaults: r1.minorPageFault - r0.minorPageFault,
        majorFaults: r1.majorPageFault - r0.majorPageFault,
        voluntarySwitches: r1.voluntaryContextSwitches - r0.voluntaryContextSwitches,
        involuntarySwitches: r1.involuntaryContextSwitches - r0.involuntaryContextSwitches,
        heapBytes: h1 - h0,
      });
    }
    // GC entries are delivered on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    gcs.push(...observer.takeRecords());
    observer.disconnect();
    const samples = raw.map((s, i) => {
      const { t0, t1 } = windows[i]!;
      const gcMs = gcs.filter((g) => g.startTime >= t0 && g.startTime < t1).reduce((t, g) => t + g.duration, 0);
      return { ...s, gcMs };
    });
    const stepMs = samples.map((s) => s.ms / s.steps);
    const sorted = [...stepMs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const totalMs = samples.reduce((a, s) => a + s.ms, 0);
    const ips = (ms: number): number => (n * 1000) / ms;
    const result: ModelBench = {
      model: name,
      params: def.countParams(SHAPE, 10).trainable,
      batch: n,
      step: compiled ? 'compiled' : 'ops',
      stepMs,
      samples,
      stepSpreadMs: { min: sorted[0]!, median, max: sorted.at(-1)! },
      imagesPerSecond: { best: ips(sorted[0]!), median: ips(median), mean: (o.steps * n * 1000) / totalMs },
    };
    // A compiled step runs outside tfjs's kernels: there is nothing for tf.profile to list.
    if (!o.profile || compiled) return result;
    const t0 = performance.now();
    const info = await tf.profile(step);
    const profiledStepMs = performance.now() - t0;
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      // `x__op` and 'unnamed scope' entries are tf.customGrad wrappers (softmax cross-entropy, fused
      // matmul, our batch norm) whose kernels are listed too: counting both would double them.
      if (k.name.endsWith('__op') || k.name === 'unnamed scope') continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      byName.set(k.name, { ms: e.ms + ms, calls: e.calls + 1 });
    }
    const kernelTotalMs = [...byName.values()].reduce((t, e) => t + e.ms, 0);
    const kernels = [...byName.entries()]
      .map(([kname, e]) => ({ name: kname, ms: e.ms, calls: e.calls }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, o.top);
    return { ...result, kernels, profiledStepMs, kernelTotalMs };
  } finally {
    observer.disconnect();
    compiled?.dispose();
    for (const v of velocities) v.dispose();
    x.dispose();
    y.dispose();
    sgd.dispose();
    model.dispose();
  }
}
