// Table 1 and Figure 1a of the paper: the randomized inputs are fitted too. Shuffled pixels (one
// permutation for all images of both splits), random pixels (a permutation per image) and Gaussian
// noise with the data's moments, each made by the corrupt stage's own functions, with true labels.
// What is left of the signal shows on 1,000 test images: a shared permutation keeps it (an MLP does
// not see pixel order), a permutation per image and Gaussian noise leave chance. MLP 1x512 on 300
// Fashion-MNIST training images, the native backend, lr 0.01.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fashionSample, fit, FIT, withRandomInputs, type InputRandomization } from '../support/claims.js';

const SEED = 1;
const sample = fashionSample(30, 100, SEED);

/** Test accuracy each randomization must show: well above chance, or chance ± 0.05 (10 classes). */
const expected: Readonly<Record<InputRandomization, { readonly low: number; readonly high: number; readonly says: string }>> = {
  shuffled_pixels: { low: 0.6, high: 1, says: 'tests well above chance' },
  random_pixels: { low: 0.05, high: 0.15, says: 'tests at chance' },
  gaussian: { low: 0.05, high: 0.15, says: 'tests at chance' },
};

for (const [kind, bounds] of Object.entries(expected) as [InputRandomization, (typeof expected)[InputRandomization]][]) {
  test(`MLP 1x512 fits ${kind.replace('_', ' ')} (train accuracy ≥ 0.99) and ${bounds.says}`, async (t) => {
    const r = await fit(withRandomInputs(await sample, kind, SEED), { model: 'mlp_1x512', seed: SEED, lr: 0.01, batchSize: 32, maxEpochs: 200 });
    t.diagnostic(JSON.stringify(r));
    assert.ok(r.fitted && r.trainAcc >= FIT, `train accuracy ${r.trainAcc} after ${r.steps} steps`);
    assert.ok(r.testAcc >= bounds.low && r.testAcc <= bounds.high, `test accuracy ${r.testAcc}, expected in [${bounds.low}, ${bounds.high}]`);
  });
}
