// `npm run bench [-- --json]`: training throughput per paper model on the active tfjs backend.
import { parseBenchArgs } from './args.js';
import { measureModel, type ModelBench } from './measure.js';
import type { SessionInfo } from '../backends/session.js';

export interface BenchReport {
  readonly backend: SessionInfo;
  /** The same as backend.versions, at the top for run records. */
  readonly versions: Readonly<Record<string, string>>;
  readonly input: readonly [number, number, number];
  readonly batch: number;
  readonly warmup: number;
  readonly steps: number;
  readonly node: string;
  readonly cpus: number;
  readonly models: readonly ModelBench[];
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
  if (!a.json) out(`backend ${backend.name} (tfjs '${backend.tfBackend}', ${backend.threads} threads); batch ${a.batch}, 28x28x3; ${a.warmup} warm-up + ${a.steps} timed steps`);
  const models: ModelBench[] = [];
  for (const name of a.models) {
    const r = await measureModel(tf, session, name, a);
    models.push(r);
    if (!a.json) printModel(r, out);
  }
  const report: BenchReport = {
    backend,
    versions: backend.versions,
    input: [28, 28, 3],
    batch: a.batch,
    warmup: a.warmup,
    steps: a.steps,
    node: process.version,
    cpus: os.availableParallelism(),
    models,
  };
  if (a.json) out(JSON.stringify(report, null, 2));
  else {
    out('');
    // img/s is total images ÷ total time of the timed steps (what the PyTorch anchor reports); the
    // fastest step's rate is shown beside it, never instead of it.
    out(`${'model'.padEnd(20)} ${'img/s'.padStart(10)} ${'best step'.padStart(10)}   ms/step min / median / max`);
    for (const r of models) {
      const { min, median, max } = r.stepSpreadMs;
      out(`${r.model.padEnd(20)} ${r.imagesPerSecond.mean.toFixed(1).padStart(10)} ${r.imagesPerSecond.best.toFixed(1).padStart(10)}   ${[min, median, max].map((m) => m.toFixed(1)).join(' / ')}`);
    }
  }
  return 0;
}

function printModel(r: ModelBench, out: (s: string) => void): void {
  out(`\n${r.model} (${r.params.toLocaleString('en-US')} params): ${r.imagesPerSecond.mean.toFixed(1)} img/s over ${r.stepMs.length} steps (fastest step ${r.imagesPerSecond.best.toFixed(1)}); steps ${r.stepMs.map((m) => m.toFixed(0)).join(' ')} ms`);
  if (r.kernels === undefined || r.kernels.length === 0) return;
  const total = r.kernelTotalMs ?? 0;
  out(`  top kernels of one profiled step (kernels ${total.toFixed(0)} ms of ${r.profiledStepMs!.toFixed(0)} ms with profiling):`);
  const width = Math.max(24, ...r.kernels.map((k) => k.name.length));
  for (const k of r.kernels) out(`  ${k.name.padEnd(width)} ${k.ms.toFixed(1).padStart(9)} ms ${String(k.calls).padStart(5)} calls ${((100 * k.ms) / total).toFixed(0).padStart(4)}%`);
}

// Run when executed directly (node dist/src/bench/main.js), not when imported by tests.
if (process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const code = await bench(process.argv.slice(2), (s) => process.stdout.write(`${s}\n`), (s) => process.stderr.write(`${s}\n`));
  // The threaded wasm backend's workers keep the event loop alive: exit explicitly.
  process.exit(code);
}
