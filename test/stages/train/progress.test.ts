// What the train stage tells the live display: the epoch (a ceiling when a target may stop it), the
// mean epoch time once an epoch has ended (the ETA's measure), images per second, and the epoch's
// online accuracy so far, which at the epoch's last step is the accuracy the target is checked on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { trainPlugin } from '../../../stages/train/plugin.js';
import { toyDataset, toyImages } from '../../train/helpers.js';

const dataset = toyDataset(toyImages(48, 8, 8, 3, 1), toyImages(24, 8, 8, 3, 2));
const params = { model: 'mlp_1x512', epochs: 3, batch_size: 20, preprocessing: { crop: 6, standardize: true }, backend: 'cpu' };

test('train progress carries epochs, the mean epoch time after the first, img/s and the online accuracy', async () => {
  const h = await createHarness();
  try {
    const run = await h.run(trainPlugin, { params, seed: 7, inputs: { data: dataset } });
    const history = (await run.outputs['metrics']!.readJson<{ history: { acc: number }[] }>()).history;
    const steps = run.progress.filter((u) => u.epochs !== undefined);
    // Each epoch's last step always reports (48 images in batches of 20: 3 steps).
    const ends = steps.filter((u) => u.done! % 3 === 0);
    assert.deepEqual(ends.map((u) => u.epochs), [
      { current: 1, total: 3, finished: 0 },
      { current: 2, total: 3, finished: 1, meanSeconds: ends[1]!.epochs!.meanSeconds! },
      { current: 3, total: 3, finished: 2, meanSeconds: ends[2]!.epochs!.meanSeconds! },
    ]);
    assert.ok(ends.slice(1).every((u) => u.epochs!.meanSeconds! > 0));
    ends.forEach((u, i) => assert.ok(Math.abs(u.metrics!['acc']! - history[i]!.acc) < 1e-9, `epoch ${i + 1}: the online accuracy`));
    // Images per second are timed (over stretches of at least 250 ms: the toy may end sooner), so only their form is checked.
    assert.ok(steps.every((u) => u.rate === undefined || (u.rate.unit === 'img' && u.rate.perSecond > 0)));
    assert.match(ends[1]!.message!, /^epoch 2\/3 step 3\/3 loss \d\.\d{4} acc \d\.\d{4}$/);

    const target = await h.run(trainPlugin, { params: { ...params, target_train_acc: 1 }, seed: 7, inputs: { data: dataset } });
    const first = target.progress.find((u) => u.epochs !== undefined)!;
    assert.equal(first.epochs!.upTo, true, 'a target may stop it before the last epoch');
    assert.match(first.message!, /^epoch 1 \(up to 3\) step /);
  } finally {
    await h.close();
  }
});
