#!/usr/bin/env node
// Peak memory and read throughput of training from a dataset bigger than memory should matter:
// generates a sharded dataset of N 64×64×3 images straight into a store (as image-folder would write
// it after decoding: the same streamed tensor writer, 256 MiB shards; generated pixels, not JPEGs,
// because decoding 200,000 JPEGs on this 2-core machine would take most of the measurement's time and
// says nothing about the data path), then, in a fresh process that opens it as the train stage does:
//   - reads the batches of one seeded epoch order alone (images/s of the gather: coalesced preads
//     across shards, one batch read ahead), and the same with the batch preprocessing training does
//     (uint8 → float, centre crop, standardization);
//   - trains mlp_1x512 for --steps steps from that source through the training loop (src/train/loop.ts)
//     on --backend (native by default: the compiled step), when it is not `none`;
//   - reports that process's peak RSS (getrusage maxRSS, the same as /proc/self/status VmHWM).
// Every size runs in its own processes, so each peak is its own. Two sizes show whether it grows.
//
//   node scripts/bench-stream.mjs [--sizes 50000,200000] [--steps 300] [--batch 128] [--backend native|cpu|none] [--read-batches 400]
//
// Needs `npm run build` (or `npx tsc -p tsconfig.json`). Writes N × 12 KiB into a temp store (2.4 GB
// for 200,000 images) and deletes it after.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const dist = (p) => join(ROOT, 'dist', p);
const SIDE = 64;
const CHANNELS = 3;
const TEST = 1000;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50000,200000' },
    steps: { type: 'string', default: '300' },
    batch: { type: 'string', default: '128' },
    backend: { type: 'string', default: 'native' },
    'read-batches': { type: 'string', default: '400' },
    child: { type: 'string' },
    images: { type: 'string' },
    store: { type: 'string' },
    ref: { type: 'string' },
  },
});

if (values.child === 'generate') await generate(values.store, Number(values.images));
else if (values.child === 'read') await read(values.store, JSON.parse(values.ref));
else parent();

/** One row per size: generation, then reading and training in a process of its own. */
function parent() {
  const rows = [];
  for (const n of values.sizes.split(',').map(Number)) {
    const store = mkdtempSync(join(tmpdir(), 'rethink-bench-stream-'));
    try {
      const gen = child(['--child', 'generate', '--images', String(n), '--store', store]);
      const r = child(['--child', 'read', '--store', store, '--ref', JSON.stringify(gen.ref), '--steps', values.steps, '--batch', values.batch, '--backend', values.backend, '--read-batches', values['read-batches']]);
      rows.push({ images: n, shards: gen.ref.parts?.length ?? 1, gb: (gen.bytes / 1e9).toFixed(2), gen_s: gen.seconds.toFixed(1), gen_peak_rss_mb: gen.peakRssMb, ...r });
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  }
  console.table(rows);
}

function child(args) {
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  if (out.status !== 0) throw new Error(`child ${args[1]} failed (${out.status})`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1));
}

function peakRssMb() {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Writes the dataset through a stage's streamed tensor writer, 2,000 images at a time. */
async function generate(storeDir, n) {
  const { LocalStore } = await import(dist('src/store/local.js'));
  const { StageSession } = await import(dist('src/exec/context.js'));
  const { datasetMetadata, datasetSpecs } = await import(dist('src/data/dataset.js'));
  const { Rng } = await import(dist('src/util/random.js'));
  const started = performance.now();
  const store = new LocalStore(storeDir);
  await store.ensureDirs();
  const plugin = { name: 'bench-stream', outputs: { dataset: { kind: 'tensors' } } };
  const instance = { id: 'bench-stream', stage: 'bench-stream', matrix: {}, params: {}, seed: 0 };
  const session = new StageSession(store, plugin, instance, 'bench');
  const ctx = await session.context({}, { signal: new AbortController().signal, cores: 1, onProgress() {}, onLog() {} });
  const shape = { height: SIDE, width: SIDE, channels: CHANNELS };
  const writer = await ctx.createTensorWriter('dataset', datasetSpecs(shape, n, TEST), datasetMetadata(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], { source: 'bench-stream' }));
  const per = SIDE * SIDE * CHANNELS;
  const rng = Rng.derive(0, 'bench-stream');
  // Each image: a window of a seeded noise table (a copy, so generating costs little) with its top
  // rows at a class-dependent level: learnable, and no two neighbours alike.
  const noise = new Uint8Array(1 << 20);
  for (let k = 0; k < noise.length; k++) noise[k] = rng.int(256);
  const labels = { train: new Int32Array(n), test: new Int32Array(TEST) };
  for (const [split, count] of [['train', n], ['test', TEST]]) {
    for (let start = 0; start < count; start += 2000) {
      const rows = Math.min(2000, count - start);
      const x = new Uint8Array(rows * per);
      for (let i = 0; i < rows; i++) {
        const label = rng.int(10);
        labels[split][start + i] = label;
        const from = rng.int(noise.length - per);
        x.set(noise.subarray(from, from + per), i * per);
        x.fill(25 * label, i * per, i * per + 8 * SIDE * CHANNELS);
      }
      await writer.write(`x_${split}`, x);
    }
  }
  for (const split of ['train', 'test']) await writer.write(`y_${split}`, new Uint8Array(labels[split].buffer));
  await writer.close();
  const ref = (await session.publish()).dataset;
  await session.cleanup(true);
  const bytes = (ref.parts ?? [ref]).reduce((s, p) => s + p.size, 0);
  console.log(JSON.stringify({ ref, bytes, seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() }));
}

/** Opens the dataset as the train stage does, reads one epoch order's batches, then trains. */
async function read(storeDir, ref) {
  const { LocalStore } = await import(dist('src/store/local.js'));
  const { shardPaths } = await import(dist('src/store/parts.js'));
  const { openTensorArtifact } = await import(dist('src/tensors/sharded.js'));
  const { fileSource, readAhead } = await import(dist('src/train/source.js'));
  const { makeBatch } = await import(dist('src/train/batch.js'));
  const { Rng } = await import(dist('src/util/random.js'));
  const batch = Number(values.batch);
  const store = new LocalStore(storeDir);
  const file = await openTensorArtifact(await store.objectPath(ref.hash), await shardPaths(store, ref));
  const source = await fileSource(file, 'train');
  const n = source.shape[0];
  const order = Rng.derive(1, 'shuffle', 0).permutation(n).subarray(0, Math.min(n, Number(values['read-batches']) * batch));
  const pre = { crop: [56, 56], standardize: true };
  const own = Uint32Array.from({ length: batch }, (_, i) => i);
  // Alternating rounds, best of each: the machine is shared.
  const rounds = { read: [], preprocess: [] };
  for (let round = 0; round < 2; round++) {
    for (const kind of ['read', 'preprocess']) {
      const t0 = performance.now();
      for await (const set of readAhead(source, order, batch)) if (kind === 'preprocess') makeBatch(set, own.subarray(0, set.shape[0]), pre, null, null);
      rounds[kind].push(order.length / ((performance.now() - t0) / 1000));
    }
  }
  const result = {
    read_img_s: Math.round(Math.max(...rounds.read)),
    read_preprocess_img_s: Math.round(Math.max(...rounds.preprocess)),
    peak_rss_mb_after_read: peakRssMb(),
  };
  if (values.backend !== 'none') {
    const { initBackend } = await import(dist('src/backends/select.js'));
    const { getModel } = await import(dist('src/models/registry.js'));
    const { train } = await import(dist('src/train/loop.js'));
    const session = await initBackend(values.backend);
    const tf = await import('@tensorflow/tfjs');
    const model = await getModel('mlp_1x512').build({ inputShape: [56, 56, 3], numClasses: 10, seed: 0, dropout: 0 });
    const steps = Number(values.steps);
    const opts = {
      seed: 0,
      epochs: Math.ceil((steps * batch) / n) + 1,
      batchSize: batch,
      momentum: 0.9,
      schedule: { kind: 'exponential', initial: 0.01, decay: 1, staircase: true },
      weightDecay: { conv: 0, dense: 0 },
      preprocessing: pre,
      augmentation: null,
      maxSteps: steps,
    };
    const t0 = performance.now();
    const r = await train(tf, session, model, { train: source, numClasses: 10 }, opts);
    const seconds = (performance.now() - t0) / 1000;
    Object.assign(result, { backend: session.info.name, step: r.step, train_steps: r.totalSteps, train_img_s: Math.round((r.totalSteps * batch) / seconds), last_loss: Number(r.history.at(-1)?.loss.toFixed(3)) });
  }
  await file.close();
  console.log(JSON.stringify({ ...result, peak_rss_mb: peakRssMb() }));
}
