// The paper's central claim (§2, Table 1, Figure 1a): a network that generalizes on true labels also
// fits the same images with random labels perfectly, and then does no better than chance on test
// images; each of the five models (with explicit regularization: regularizers.test.ts). Tiny real
// runs on the native backend, 1,000 test images: the MLPs on 1,000 Fashion-MNIST training images at
// the paper's lr 0.01, small AlexNet on 300 at 14×14 (lr 0.01), small Inception on 200 at 7×7 with
// the paper's lr 0.1 × 0.95 per epoch (the conv nets are slow on a CPU). With few training images per
// class, random labels correlate with the true classes by chance and the test accuracy strays from
// 0.1; 100 per class keeps it within a few points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fashionSample, fit, FIT, withLabelNoise, type Fit, type FitOptions, type Sample } from '../support/claims.js';

const SEED = 1;
/** 10 classes: chance is 0.1; ± 0.05 is about five standard errors on 1,000 test images. */
const CHANCE = { low: 0.05, high: 0.15 };
const mlp: FitOptions = { model: 'mlp_1x512', seed: SEED, lr: 0.01, batchSize: 64, maxEpochs: 300 };

const sample = fashionSample(100, 100, SEED);
const randomLabels = async (s: Promise<Sample>): Promise<Sample> => {
  const { train, test } = await s;
  return { train: withLabelNoise(train, 1, SEED), test };
};

function assertFitsAtChance(r: Fit): void {
  assert.ok(r.fitted && r.trainAcc >= FIT, `train accuracy ${r.trainAcc} after ${r.steps} steps`);
  assert.ok(r.testAcc >= CHANCE.low && r.testAcc <= CHANCE.high, `test accuracy ${r.testAcc} is not within chance ± 0.05`);
}

test('MLP 1x512 fits random labels (train accuracy ≥ 0.99) and tests at chance, while true labels test well above it', async (t) => {
  const random = await fit(await randomLabels(sample), mlp);
  const truth = await fit(await sample, mlp);
  t.diagnostic(`random labels: ${JSON.stringify(random)}`);
  t.diagnostic(`true labels: ${JSON.stringify(truth)}`);
  assertFitsAtChance(random);
  assert.ok(truth.fitted, `true labels: train accuracy ${truth.trainAcc}`);
  assert.ok(truth.testAcc >= 0.6, `true labels: test accuracy ${truth.testAcc}, expected well above chance`);
});

test('MLP 3x512 fits random labels and tests at chance', async (t) => {
  const r = await fit(await randomLabels(sample), { ...mlp, model: 'mlp_3x512' });
  t.diagnostic(JSON.stringify(r));
  assertFitsAtChance(r);
});

test('small AlexNet (at 14×14, the images 2×2-averaged for speed) fits random labels and tests at chance', async (t) => {
  const small = fashionSample(30, 100, SEED, 2);
  const r = await fit(await randomLabels(small), { ...mlp, model: 'small_alexnet', batchSize: 32 });
  t.diagnostic(JSON.stringify(r));
  assertFitsAtChance(r);
});

test('small Inception with batch norm (at 7×7, the images 4×4-averaged for speed; lr 0.1 × 0.95 per epoch) fits random labels and tests at chance', async (t) => {
  const tiny = fashionSample(20, 100, SEED, 4);
  const r = await fit(await randomLabels(tiny), { model: 'small_inception_bn', seed: SEED, lr: 0.1, lrDecay: 0.95, batchSize: 32, maxEpochs: 80 });
  t.diagnostic(JSON.stringify(r));
  assertFitsAtChance(r);
});

// Measured at 7×7 on 100 and 200 images: online train accuracy 0.14 to 0.27 after 40 to 60 epochs
// at lr 0.1 × 0.95 per epoch (the paper's), 0.16 at a constant 0.03, against 0.93 to 0.94 with batch
// norm in the same runs; fitting it would take several minutes of CPU, past the suite's budget.
test.todo('small Inception without batch norm fits random labels: not shown at this size (stays near chance on 7×7 images within the CPU budget)');

