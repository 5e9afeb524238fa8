// `pad`: a dataset in another geometry, every pixel kept: images centred in a larger canvas whose
// border is `fill` (0 by default) and, from grayscale, the one channel replicated. Its purpose is
// the paper's geometry for Fashion-MNIST and MNIST (SPEC §2.4): 28×28×1 → 32×32×3, so the train
// stage's 28×28 crop (centre at test time, random with augment.random_crop) moves the way it does on
// CIFAR-10 and MLP 1x512 has the printed 1,209,866 parameters.
//
// Why zeros: 0 is these datasets' background (black around a centred object), so the 2-pixel
// border continues it; a random crop then shifts the object by up to 2 pixels over background, as
// a CIFAR-10 crop shifts within the photograph. Images are streamed in row chunks (datasets may
// not fit in memory); a target equal to the input copies it.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import {
  DATASET_OUTPUT,
  SPLITS,
  bytesOf,
  datasetInfo,
  datasetSpecs,
  imageBatches,
  imageSize,
  readLabels,
  writeChunked,
} from '../../src/data/dataset.js';
import { DataError } from '../../src/data/errors.js';
import { applyPadGeometry, padGeometry, type PadGeometry } from '../../src/data/pad-geometry.js';

export interface PadParams {
  /** Target side (square) or [height, width]. */
  readonly size: number | readonly [number, number];
  readonly channels: number | null;
  readonly fill: number;
}

const READ_ROWS = 4096;

export const pad = definePlugin<PadParams>({
  name: 'pad',
  version: '1',
  description: 'centres images in a larger canvas (border = fill) and replicates grayscale to N channels: 28×28×1 → 32×32×3',
  seeded: false,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['size'],
    properties: {
      size: {
        oneOf: [
          { type: 'integer', minimum: 1 },
          { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 },
        ],
        description: 'target side, or [height, width]; at least the input size (the paper: 32)',
      },
      channels: {
        type: ['integer', 'null'],
        minimum: 1,
        default: null,
        description: 'target channels, replicated from a 1-channel input (the paper: 3); null keeps the input’s',
      },
      fill: { type: 'integer', minimum: 0, maximum: 255, default: 0, description: 'border value (0: the datasets’ black background)' },
    },
  },
  inputs: { dataset: { kind: 'tensors' } },
  outputs: {
    dataset: { kind: 'tensors', description: 'the same images and labels in the new geometry' },
    metrics: { kind: 'json', description: 'input and output shapes, border, fill' },
  },
  async run(ctx) {
    const file = await (ctx.inputs['dataset'] as Artifact).readTensors();
    try {
      const info = await datasetInfo(file);
      const geometry = geometryOf(ctx.params, info);
      const metadata = { ...file.metadata, pad: JSON.stringify(describe(geometry)) };
      const writer = await ctx.createTensorWriter(DATASET_OUTPUT, datasetSpecs(geometry.to, info.counts.train, info.counts.test), metadata);
      const size = imageSize(info);
      for (const split of SPLITS) {
        ctx.progress({ message: `pad: ${split}` });
        await writeChunked(writer, `y_${split}`, bytesOf(await readLabels(file, split)));
        for await (const { x } of imageBatches(file, split, info.counts[split], READ_ROWS)) {
          ctx.signal.throwIfAborted();
          await writeChunked(writer, `x_${split}`, applyPadGeometry(geometry, x, x.length / size));
        }
      }
      await writer.close();
      await ctx.writeJson('metrics', { ...describe(geometry), counts: info.counts });
    } finally {
      await file.close();
    }
  },
});

function geometryOf(params: PadParams, info: { readonly height: number; readonly width: number; readonly channels: number }): PadGeometry {
  const [height, width] = typeof params.size === 'number' ? [params.size, params.size] : params.size;
  try {
    return padGeometry(info, { height, width, channels: params.channels ?? info.channels }, params.fill);
  } catch (e) {
    if (e instanceof RangeError) throw new DataError('bad_params', `pad: ${e.message} (input ${info.height}×${info.width}×${info.channels})`);
    throw e;
  }
}

function describe(g: PadGeometry): Record<string, unknown> {
  return {
    from: [g.from.height, g.from.width, g.from.channels],
    to: [g.to.height, g.to.width, g.to.channels],
    border: { top: g.top, left: g.left, bottom: g.to.height - g.from.height - g.top, right: g.to.width - g.from.width - g.left },
    fill: g.fill,
  };
}
