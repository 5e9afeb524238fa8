// Table 1's and Table 4's random-label rows (§3 of the paper): explicit regularization does not stop a
// network from fitting random labels. Weight decay, dropout and random crops, each alone, and weight
// decay with random crops together (Table 4's row), on MLP 1x512 with the paper's lr 0.01 on the
// native backend; each then tests at chance. Weight decay and dropout on 1,000 Fashion-MNIST training
// images; random crops, which make the network fit every image at 25 positions, on 300, and beside a
// run without them on the same images, to show the crops were applied: they slow the fit down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fashionSample, fit, FIT, withLabelNoise, type Fit, type FitOptions, type Sample } from '../support/claims.js';

const SEED = 1;
/** 10 classes: chance is 0.1; ± 0.05 is about five standard errors on 1,000 test images. */
const CHANCE = { low: 0.05, high: 0.15 };
const mlp: FitOptions = { model: 'mlp_1x512', seed: SEED, lr: 0.01, batchSize: 64, maxEpochs: 300 };
const uncropped: FitOptions = { ...mlp, batchSize: 32, maxEpochs: 600 };
/** Shifts of up to 2 pixels each way, as the paper's 28×28 crops of 32×32 CIFAR-10 images. */
const crops: FitOptions = { ...uncropped, randomCropPad: 2 };

const randomLabels = async (perClass: number): Promise<Sample> => {
  const { train, test } = await fashionSample(perClass, 100, SEED);
  return { train: withLabelNoise(train, 1, SEED), test };
};
const large = randomLabels(100);
const small = randomLabels(30);

function assertFitsAtChance(r: Fit): void {
  assert.ok(r.fitted && r.trainAcc >= FIT, `train accuracy ${r.trainAcc} after ${r.steps} steps`);
  assert.ok(r.testAcc >= CHANCE.low && r.testAcc <= CHANCE.high, `test accuracy ${r.testAcc} is not within chance ± 0.05`);
}

test('MLP 1x512 with weight decay 5e-4 still fits random labels and tests at chance', async (t) => {
  const r = await fit(await large, { ...mlp, weightDecay: 5e-4 });
  t.diagnostic(JSON.stringify(r));
  assertFitsAtChance(r);
});

test('MLP 1x512 with dropout 0.5 still fits random labels and tests at chance', async (t) => {
  const r = await fit(await large, { ...mlp, dropout: 0.5 });
  t.diagnostic(JSON.stringify(r));
  assertFitsAtChance(r);
});

test('MLP 1x512 with random crops (shifts of up to 2 pixels) still fits random labels, in more steps than without, and tests at chance', async (t) => {
  const cropped = await fit(await small, crops);
  const plain = await fit(await small, uncropped);
  t.diagnostic(`random crops: ${JSON.stringify(cropped)}`);
  t.diagnostic(`without: ${JSON.stringify(plain)}`);
  assertFitsAtChance(cropped);
  assert.ok(plain.fitted && cropped.steps > plain.steps, `steps to fit with random crops ${cropped.steps}, without ${plain.steps}`);
});

test('MLP 1x512 with weight decay 5e-4 and random crops together (Table 4) still fits random labels and tests at chance', async (t) => {
  const r = await fit(await small, { ...crops, weightDecay: 5e-4 });
  t.diagnostic(JSON.stringify(r));
  assertFitsAtChance(r);
});
