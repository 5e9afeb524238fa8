// Test helpers for sharded datasets: a plugin that writes a given dataset through the streamed tensor
// writer (in chunks that do not follow rows), and a scope with a tiny shard size.
import { definePlugin, type Plugin } from '../../src/plugin/types.js';
import { datasetMetadata, datasetSpecs } from '../../src/data/dataset.js';
import type { ImageSet } from '../../src/train/types.js';

/** Runs `body` with RETHINK_SHARD_BYTES set to `bytes`, restoring it after. */
export async function withShardBytes<T>(bytes: number, body: () => Promise<T>): Promise<T> {
  const before = process.env['RETHINK_SHARD_BYTES'];
  process.env['RETHINK_SHARD_BYTES'] = String(bytes);
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env['RETHINK_SHARD_BYTES'];
    else process.env['RETHINK_SHARD_BYTES'] = before;
  }
}

/** A plugin with no inputs whose `dataset` output is these two sets, streamed 1000 bytes at a time. */
export function emitDataset(train: ImageSet, test: ImageSet, classes: readonly string[]): Plugin {
  return definePlugin({
    name: 'emit-dataset',
    version: '1',
    description: 'writes a fixed dataset',
    params: { type: 'object' },
    inputs: {},
    outputs: { dataset: { kind: 'tensors' } },
    async run(ctx) {
      const [, height, width, channels] = train.shape;
      const writer = await ctx.createTensorWriter('dataset', datasetSpecs({ height, width, channels }, train.shape[0], test.shape[0]), datasetMetadata(classes, { source: 'test' }));
      const parts: [string, Uint8Array][] = [
        ['x_train', train.images as Uint8Array],
        ['x_test', test.images as Uint8Array],
        ['y_train', new Uint8Array(train.labels.buffer, train.labels.byteOffset, train.labels.byteLength)],
        ['y_test', new Uint8Array(test.labels.buffer, test.labels.byteOffset, test.labels.byteLength)],
      ];
      for (const [name, bytes] of parts) for (let at = 0; at < bytes.length; at += 1000) await writer.write(name, bytes.subarray(at, Math.min(bytes.length, at + 1000)));
      await writer.close();
    },
  });
}
