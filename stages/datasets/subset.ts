// `subset`: a seeded, stratified subset of a dataset (n per class, or a fraction of each class) for
// quick runs. Kept examples stay in dataset order; images are streamed batch by batch.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import {
  DATASET_OUTPUT,
  SPLITS,
  bytesOf,
  classCounts,
  datasetInfo,
  datasetSpecs,
  imageBatches,
  imageSize,
  readLabels,
  writeChunked,
  type Split,
} from '../../src/data/dataset.js';
import { stratifiedSubset, type SubsetSpec } from '../../src/data/stratify.js';
import { Rng } from '../../src/util/random.js';

export interface SubsetParams {
  readonly train?: SubsetSpec;
  readonly test?: SubsetSpec;
}

const specSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    per_class: { type: 'integer', minimum: 1, description: 'examples kept per class' },
    fraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'share of each class kept' },
  },
};

const READ_ROWS = 4096;

export const subset = definePlugin<SubsetParams>({
  name: 'subset',
  version: '1',
  description: 'seeded stratified subset of a dataset: { per_class: n } or { fraction: f } for train and/or test',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: { train: specSchema, test: specSchema },
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: {
    dataset: { kind: 'tensors' },
    metrics: { kind: 'json' },
  },
  async run(ctx) {
    const file = await (ctx.inputs['dataset'] as Artifact).readTensors();
    try {
      const info = await datasetInfo(file);
      const size = imageSize(info);
      const chosen = {} as Record<Split, Uint32Array>;
      const labels = {} as Record<Split, Int32Array>;
      for (const split of SPLITS) {
        const y = await readLabels(file, split);
        const spec = ctx.params[split];
        chosen[split] =
          spec === undefined ? Uint32Array.from(y.keys()) : stratifiedSubset(y, info.classes, spec, Rng.derive(ctx.seed, 'subset', split));
        labels[split] = Int32Array.from(chosen[split], (i) => y[i]!);
      }
      const metadata = {
        ...file.metadata,
        subset: JSON.stringify({ train: ctx.params.train ?? 'all', test: ctx.params.test ?? 'all', seed: ctx.seed }),
      };
      const writer = await ctx.createTensorWriter(DATASET_OUTPUT, datasetSpecs(info, chosen.train.length, chosen.test.length), metadata);
      for (const split of SPLITS) {
        const keep = chosen[split];
        let k = 0;
        for await (const { start, x } of imageBatches(file, split, info.counts[split], READ_ROWS)) {
          ctx.signal.throwIfAborted();
          const rows = x.length / size;
          const begin = k;
          while (k < keep.length && keep[k]! < start + rows) k++;
          if (k === begin) continue;
          const out = new Uint8Array((k - begin) * size);
          for (let j = begin; j < k; j++) out.set(x.subarray((keep[j]! - start) * size, (keep[j]! - start + 1) * size), (j - begin) * size);
          await writeChunked(writer, `x_${split}`, out);
        }
        await writeChunked(writer, `y_${split}`, bytesOf(labels[split]));
      }
      await writer.close();
      await ctx.writeJson('metrics', {
        train: { count: chosen.train.length, of: info.counts.train, per_class: classCounts(labels.train, info.classes.length) },
        test: { count: chosen.test.length, of: info.counts.test, per_class: classCounts(labels.test, info.classes.length) },
      });
    } finally {
      await file.close();
    }
  },
});
