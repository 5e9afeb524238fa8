// Table 1 and Figure 1a of the paper: the randomized inputs are fitted too. Shuffled pixels (one
// permutation for all images), random pixels (a permutation per image) and Gaussian noise with the
// data's moments, each made by the corrupt stage's own functions, with true labels. MLP 1x512 on
// 300 Fashion-MNIST training images, the native backend, lr 0.01.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fashionSample, fit, FIT, withRandomInputs, type InputRandomization } from '../support/claims.js';

const SEED = 1;
const sample = fashionSample(30, 100, SEED);

for (const kind of ['shuffled_pixels', 'random_pixels', 'gaussian'] as const satisfies readonly InputRandomization[]) {
  test(`MLP 1x512 fits ${kind.replace('_', ' ')} (train accuracy ≥ 0.99)`, async (t) => {
    const r = await fit(withRandomInputs(await sample, kind, SEED), { model: 'mlp_1x512', seed: SEED, lr: 0.01, batchSize: 32, maxEpochs: 200 });
    t.diagnostic(JSON.stringify(r));
    assert.ok(r.fitted && r.trainAcc >= FIT, `train accuracy ${r.trainAcc} after ${r.steps} steps`);
  });
}
