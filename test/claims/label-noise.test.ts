// Figure 1b and 1c of the paper: the more labels are random, the longer SGD takes to fit the training
// set (a constant factor, not a different regime), and the worse the model tests. p ∈ {0, 0.5, 1}
// over five seeds of data, labels and weights; one-sided comparisons of the means. MLP 1x512 on
// 1,000 Fashion-MNIST training images (batch 32, so a step count is a multiple of 32: one epoch), the
// native backend, lr 0.01. The labels corrupted at p = 0.5 are a subset of those at p = 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fashionSample, fit, mean, withLabelNoise, type Fit } from '../support/claims.js';

const SEEDS = [1, 2, 3, 4, 5];
const NOISE = [0, 0.5, 1] as const;

/** Every seed's run at every p, trained once for both tests. */
const runs: Promise<ReadonlyMap<number, readonly Fit[]>> = (async () => {
  const byP = new Map<number, Fit[]>(NOISE.map((p) => [p, []]));
  for (const seed of SEEDS) {
    const { train, test } = await fashionSample(100, 50, seed);
    for (const p of NOISE) {
      byP.get(p)!.push(await fit({ train: withLabelNoise(train, p, seed), test }, { model: 'mlp_1x512', seed, lr: 0.01, batchSize: 32, maxEpochs: 300 }));
    }
  }
  return byP;
})();

test('steps to fit (train accuracy ≥ 0.99) grow with label noise: mean over 5 seeds at p=0 < p=0.5 < p=1', async (t) => {
  const byP = await runs;
  for (const [p, fits] of byP) assert.ok(fits.every((f) => f.fitted), `p=${p}: not every seed fitted: ${JSON.stringify(fits)}`);
  const steps = NOISE.map((p) => mean(byP.get(p)!.map((f) => f.steps)));
  t.diagnostic(`steps per seed: ${JSON.stringify(Object.fromEntries(NOISE.map((p) => [p, byP.get(p)!.map((f) => f.steps)])))}; means ${steps.join(' < ')}`);
  assert.ok(steps[0]! < steps[1]! && steps[1]! < steps[2]!, `mean steps ${steps.join(', ')} for p = ${NOISE.join(', ')}`);
});

test('test accuracy falls with label noise: mean over 5 seeds at p=0 > p=0.5 > p=1', async (t) => {
  const byP = await runs;
  const acc = NOISE.map((p) => mean(byP.get(p)!.map((f) => f.testAcc)));
  t.diagnostic(`test accuracy per seed: ${JSON.stringify(Object.fromEntries(NOISE.map((p) => [p, byP.get(p)!.map((f) => f.testAcc)])))}; means ${acc.join(' > ')}`);
  assert.ok(acc[0]! >= 0.6, `true labels: mean test accuracy ${acc[0]}, expected well above chance`);
  assert.ok(acc[0]! > acc[1]! && acc[1]! > acc[2]!, `mean test accuracy ${acc.join(', ')} for p = ${NOISE.join(', ')}`);
});
