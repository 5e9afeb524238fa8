// Times full training steps of one model on synthetic data, and profiles one more step by kernel.
import { Rng } from '../util/random.js';
import { getModel } from '../models/registry.js';
import { makeBatch } from '../train/batch.js';
import { sgdSlots } from '../train/decay.js';
import { MomentumSgd } from '../train/sgd.js';
import { trainStep } from '../train/step.js';
import type { BackendSession } from '../backends/session.js';
import type { Tf } from '../models/types.js';
import type { ImageSet } from '../train/types.js';

export interface KernelTime {
  readonly name: string;
  readonly ms: number;
  readonly calls: number;
}

export interface ModelBench {
  readonly model: string;
  readonly params: number;
  readonly batch: number;
  /** Per timed step, milliseconds (batch preparation + step + reading the loss). */
  readonly stepMs: readonly number[];
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

export async function measureModel(tf: Tf, session: BackendSession, name: string, o: MeasureOptions): Promise<ModelBench> {
  const def = getModel(name);
  const rng = Rng.derive(0, 'bench', name);
  const n = o.batch;
  const images = new Uint8Array(n * 28 * 28 * 3);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Int32Array.from({ length: n }, () => rng.int(10));
  const set: ImageSet = { images, shape: [n, ...SHAPE], labels };
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const pre = { crop: null, standardize: true } as const;

  const model = await def.build({ inputShape: SHAPE, numClasses: 10, seed: 1 });
  const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 0 }), 0.9, session.momentum);
  const lr = def.defaultLearningRate;
  const step = async (): Promise<void> => {
    const batch = makeBatch(set, all, pre, null, null);
    const out = trainStep(tf, model, sgd, { images: batch.data, shape: batch.shape, labels, numClasses: 10 }, lr);
    session.endStep?.();
    await out.data();
    out.dispose();
  };
  try {
    for (let i = 0; i < o.warmup; i++) await step();
    const stepMs: number[] = [];
    for (let i = 0; i < o.steps; i++) {
      const t0 = performance.now();
      await step();
      stepMs.push(performance.now() - t0);
    }
    const sorted = [...stepMs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const totalMs = stepMs.reduce((a, b) => a + b, 0);
    const ips = (ms: number): number => (n * 1000) / ms;
    const result: ModelBench = {
      model: name,
      params: def.countParams(SHAPE, 10).trainable,
      batch: n,
      stepMs,
      stepSpreadMs: { min: sorted[0]!, median, max: sorted.at(-1)! },
      imagesPerSecond: { best: ips(sorted[0]!), median: ips(median), mean: (stepMs.length * n * 1000) / totalMs },
    };
    if (!o.profile) return result;
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
    sgd.dispose();
    model.dispose();
  }
}
