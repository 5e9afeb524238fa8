// The paper's Figure 1a on a GPU, through the product's own training loop (src/train/loop.ts): each
// model fits true and random labels of 10,000 Fashion-MNIST images (make-fit-data.ts) to 100% online
// train accuracy, as `rethink run pipelines/figure1.yaml --set vars.model=M` would on more data than two
// CPU cores can train. Unlike bench.ts (one random batch kept on the device), every step here builds
// its batch in JavaScript and uploads it, so the loop's images/second say what a user's run gets.
// Prints one JSON object per epoch and per run.
//   node --import tsx scripts/gpu/fit.ts --data fit.bin.gz [--backend auto|webgpu|native|…]
//        [--models small_inception_bn,small_alexnet,mlp_1x512] [--kinds random,true] [--max-epochs 60]
//        [--run-seconds 40] [--lr L] [--train-count N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { initBackend } from '../../src/backends/select.js';
import { corruptLabels } from '../../src/data/corrupt-labels.js';
import { MNIST_SIDE } from '../../src/data/npm-datasets.js';
import { protocolOf } from '../../src/models/protocol.js';
import { getModel } from '../../src/models/registry.js';
import { evaluate } from '../../src/train/evaluate.js';
import { train } from '../../src/train/loop.js';
import type { EpochRecord, ImageSet, TrainOptions } from '../../src/train/types.js';
import { Rng } from '../../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '.gpu/fit.bin.gz' },
    backend: { type: 'string', default: 'auto' },
    models: { type: 'string', default: 'small_inception_bn,small_alexnet,mlp_1x512' },
    kinds: { type: 'string', default: 'random,true' },
    'max-epochs': { type: 'string', default: '60' },
    // A run still short of 100% train accuracy after this long is stopped (reported as stoppedBy: time):
    // seconds for every model, or per model, e.g. `40,small_inception_bn=80`.
    'run-seconds': { type: 'string', default: '40' },
    'batch-size': { type: 'string', default: '128' },
    // Default: the model's own (SPEC: 0.1 for the Inceptions, 0.01 for AlexNet and the MLPs).
    lr: { type: 'string' },
    'train-count': { type: 'string' },
  },
});

const emit = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
/** Values per image (28×28×1, as make-fit-data.ts writes them). */
const PX = MNIST_SIDE * MNIST_SIDE;
const INPUT_SHAPE = [MNIST_SIDE, MNIST_SIDE, 1] as const;

/** `--run-seconds` for a model: its `model=N` entry, else the bare N. */
function runSeconds(model: string): number {
  const entries = args['run-seconds']!.split(',').map((e) => e.split('='));
  const own = entries.find((e) => e[0] === model && e.length === 2);
  const plain = entries.find((e) => e.length === 1);
  const v = Number((own ?? plain ?? ['', '40']).at(-1));
  if (!(v > 0)) throw new Error(`--run-seconds: no positive number of seconds for ${model} in '${args['run-seconds']}'`);
  return v;
}

function readData(path: string): { train: ImageSet; test: ImageSet } {
  const b = gunzipSync(readFileSync(path));
  if (b.toString('ascii', 0, 4) !== 'RFIT') throw new Error(`${path}: not a make-fit-data.ts file`);
  const nTrain = b.readUInt32LE(4);
  const nTest = b.readUInt32LE(8);
  let at = 12;
  const take = (n: number): Uint8Array => {
    const v = new Uint8Array(b.buffer, b.byteOffset + at, n);
    at += n;
    return Uint8Array.from(v);
  };
  const set = (n: number): ImageSet => {
    const images = take(n * PX);
    return { images, shape: [n, ...INPUT_SHAPE], labels: Int32Array.from(take(n)) };
  };
  // Train first: the file holds the train set, then the test set.
  return { train: set(nTrain), test: set(nTest) };
}

async function main(): Promise<void> {
  const data = readData(args.data!);
  const count = args['train-count'] === undefined ? data.train.shape[0] : Number(args['train-count']);
  const trainSet: ImageSet = { images: data.train.images.subarray(0, count * PX), shape: [count, ...INPUT_SHAPE], labels: data.train.labels.subarray(0, count) };
  const session = await initBackend(args.backend);
  emit({ kind: 'backend', ...session.info });
  const tf = await import('@tensorflow/tfjs');
  for (const name of args.models!.split(',')) {
    for (const labels of args.kinds!.split(',')) {
      const y = labels === 'random' ? corruptLabels(trainSet.labels, 10, 1, Rng.derive(0, 'corrupt', name)).labels : trainSet.labels;
      const def = getModel(name);
      const model = await def.build({ inputShape: [...INPUT_SHAPE], numClasses: 10, seed: 1 });
      const lr = args.lr === undefined ? protocolOf(def.name).lr : Number(args.lr);
      const opts: TrainOptions = {
        seed: 1,
        epochs: Number(args['max-epochs']),
        batchSize: Number(args['batch-size']),
        momentum: 0.9,
        schedule: { kind: 'exponential', initial: lr, decay: 1, staircase: true },
        weightDecay: { conv: 0, dense: 0 },
        preprocessing: { crop: null, standardize: true },
        augmentation: null,
        targetTrainAcc: 1,
        evalEvery: 0,
      };
      const epochs: EpochRecord[] = [];
      const deadline = AbortSignal.timeout(runSeconds(name) * 1000);
      let stoppedBy = 'epochs';
      const t0 = performance.now();
      try {
        const r = await train(tf, session, model, { train: { ...trainSet, labels: y }, test: data.test, numClasses: 10 }, opts, {
          signal: deadline,
          onKernelTuning: (t) => emit({ kind: 'tuning', model: name, labels, ...t }),
          onEpoch(e) {
            epochs.push(e);
            emit({ kind: 'epoch', model: name, labels, ...e, imgPerSec: Math.round(count / e.seconds) });
          },
        });
        stoppedBy = r.stoppedBy;
      } catch (e) {
        if (!deadline.aborted) throw e;
        stoppedBy = 'time';
      }
      const seconds = (performance.now() - t0) / 1000;
      // Epoch 1 includes shader compilation and tile tuning; the steady rate is over the later ones.
      const later = epochs.slice(1);
      const steady = later.length === 0 ? undefined : Math.round((later.length * count) / later.reduce((s, e) => s + e.seconds, 0));
      const test = await evaluate(tf, model, data.test, { preprocessing: opts.preprocessing, batchSize: 512, numClasses: 10 });
      const last = epochs.at(-1);
      emit({ kind: 'fit', model: name, labels, lr, stoppedBy, epochs: epochs.length, seconds: Number(seconds.toFixed(1)), steadyImgPerSec: steady, firstEpochS: epochs[0]?.seconds, trainAcc: last?.acc, trainLoss: last?.loss, testAcc: test.acc });
      model.dispose();
    }
  }
}

await main();
process.exit(0);
