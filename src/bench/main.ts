// `npm run bench [-- --json]`: training throughput per paper model and batch size on the active
// backend, measured as the PyTorch anchor measures it (measure.ts), with the step-time jitter.
import { parseBenchArgs } from './args.js';
import { measureModel, type ModelBench } from './measure.js';
import { jitterLine, jitterOf, type JitterReport } from './jitter.js';
import type { SessionInfo } from '../backends/session.js';

/** One model at one batch size: its best round by mean, and every round's mean. */
export interface BenchResult extends ModelBench {
  readonly jitter: JitterReport;
  /** images/second (mean) of every round, in the order measured. */
  readonly roundMeans: readonly number[];
}

export interface BenchReport {
  /** The document's version: fields are only ever added within one format. */
  readonly format: 1;
  readonly backend: SessionInfo;
  /** The same as backend.versions, at the top for run records. */
  readonly versions: Readonly<Record<string, string>>;
  readonly input: readonly [number, number, number];
  readonly batches: readonly number[];
  readonly warmup: number;
  readonly steps: number;
  readonly rounds: number;
  readonly node: string;
  readonly cpus: number;
  /** The 1-minute load average when the measurement started and when it ended. */
  readonly loadAverage: readonly [number, number];
  /** Per batch size (in the order asked), per model. */
  readonly models: readonly BenchResult[];
}

export async function bench(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (!parsed.ok) {
    err(parsed.message);
    return parsed.message.startsWith('usage') ? 0 : 2;
  }
  const a = parsed.args;
  const { initBackend } = await import('../backends/select.js');
  const session = await initBackend(a.backend);
  const backend = session.info;
  const tf = await import('@tensorflow/tfjs');
  const os = await import('node:os');
  const load0 = os.loadavg()[0]!;
  if (!a.json) {
    out(`backend ${backend.name} (tfjs '${backend.tfBackend}', ${backend.threads} threads); batch ${a.batches.join(', ')}; 28x28x3; one fixed batch; ${a.warmup} warm-up + ${a.steps} timed steps; ${a.rounds} round(s)`);
  }
  const best = new Map<string, { result: ModelBench; means: number[] }>();
  for (let round = 0; round < a.rounds; round++) {
    for (const batch of a.batches) {
      for (const name of a.models) {
        // Kernels are profiled in the first round only: one extra step each.
        const r = await measureModel(tf, session, name, { ...a, batch, profile: a.profile && round === 0 });
        if (!a.json) printModel(r, round, out);
        const key = `${name}@${batch}`;
        const seen = best.get(key);
        const means = [...(seen?.means ?? []), r.imagesPerSecond.mean];
        const better = seen === undefined || r.imagesPerSecond.mean > seen.result.imagesPerSecond.mean;
        const kept = better ? (r.kernels === undefined && seen?.result.kernels !== undefined ? withKernels(r, seen.result) : r) : seen.result;
        best.set(key, { result: kept, means });
      }
    }
  }
  const models: BenchResult[] = a.batches.flatMap((batch) =>
    a.models.map((name) => {
      const { result, means } = best.get(`${name}@${batch}`)!;
      return { ...result, jitter: jitterOf(result.samples), roundMeans: means };
    }),
  );
  const report: BenchReport = {
    format: 1,
    backend,
    versions: backend.versions,
    input: [28, 28, 3],
    batches: a.batches,
    warmup: a.warmup,
    steps: a.steps,
    rounds: a.rounds,
    node: process.version,
    cpus: os.availableParallelism(),
    loadAverage: [load0, os.loadavg()[0]!],
    models,
  };
  if (a.json) out(JSON.stringify(report, null, 2));
  else printTable(report, out);
  return 0;
}

function withKernels(r: ModelBench, from: ModelBench): ModelBench {
  return { ...r, ...(from.kernels === undefined ? {} : { kernels: from.kernels }), ...(from.profiledStepMs === undefined ? {} : { profiledStepMs: from.profiledStepMs }), ...(from.kernelTotalMs === undefined ? {} : { kernelTotalMs: from.kernelTotalMs }) };
}

function printModel(r: ModelBench, round: number, out: (s: string) => void): void {
  out(`\n${r.model} batch ${r.batch} (${r.params.toLocaleString('en-US')} params, ${r.step} step), round ${round + 1}: ${r.imagesPerSecond.mean.toFixed(1)} img/s over ${r.samples.reduce((t, s) => t + s.steps, 0)} steps in ${r.samples.length} runs (fastest run ${r.imagesPerSecond.best.toFixed(1)}); ms/step by run ${r.stepMs.map((m) => m.toFixed(1)).join(' ')}`);
  if (r.kernels === undefined || r.kernels.length === 0) return;
  const total = r.kernelTotalMs ?? 0;
  out(`  top kernels of one profiled step (kernels ${total.toFixed(0)} ms of ${r.profiledStepMs!.toFixed(0)} ms with profiling):`);
  const width = Math.max(24, ...r.kernels.map((k) => k.name.length));
  for (const k of r.kernels) out(`  ${k.name.padEnd(width)} ${k.ms.toFixed(1).padStart(9)} ms ${String(k.calls).padStart(5)} calls ${((100 * k.ms) / total).toFixed(0).padStart(4)}%`);
}

function printTable(r: BenchReport, out: (s: string) => void): void {
  const [l0, l1] = r.loadAverage;
  out('');
  // img/s is total images ÷ total time of the timed steps (what the PyTorch anchor reports); the
  // fastest step's rate is shown beside it, labelled, never instead of it.
  out(`img/s = total images ÷ total time over ${r.steps} timed steps; best of ${r.rounds} round(s) by that mean; load average ${l0.toFixed(1)} → ${l1.toFixed(1)} on ${r.cpus} cores${Math.max(l0, l1) > r.cpus / 2 ? ' (the machine was busy)' : ''}`);
  out(`${'model'.padEnd(20)} ${'batch'.padStart(5)} ${'img/s'.padStart(10)} ${'best run'.padStart(10)}   ms/step (per run) min / median / max`);
  for (const m of r.models) {
    const { min, median, max } = m.stepSpreadMs;
    out(`${m.model.padEnd(20)} ${String(m.batch).padStart(5)} ${m.imagesPerSecond.mean.toFixed(1).padStart(10)} ${m.imagesPerSecond.best.toFixed(1).padStart(10)}   ${[min, median, max].map((x) => x.toFixed(1)).join(' / ')}`);
  }
  out('\njitter:');
  for (const m of r.models) out(`  ${m.model} batch ${m.batch}: ${jitterLine(m.jitter)}`);
}

// Run when executed directly (node dist/src/bench/main.js), not when imported by tests.
if (process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const code = await bench(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
  // The threaded wasm backend's workers keep the event loop alive: exit explicitly.
  process.exit(code);
}
