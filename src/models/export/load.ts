// 'rethink-ml/models', the public way back in: `loadModel(path)` reads an exported model (its folder,
// or its model.json) into a tfjs LayersModel with its model card, ready for `predict`. Stock tfjs can
// load the same files (register RethinkLRN first: ./layers.ts); this adds the card and reads local
// files without tfjs-node.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadTf } from '../tf.js';
import { registerRethinkLayers } from './layers.js';
import { MODEL_CARD_FORMAT, type ModelCard } from './files.js';

export interface LoadedModel {
  readonly model: tfTypes.LayersModel;
  readonly card: ModelCard;
}

export class ModelFilesError extends Error {}

/** Loads `path`: a folder written by `rethink export --model`, or the model.json inside one. */
export async function loadModel(path: string): Promise<LoadedModel> {
  const dir = (await stat(path).catch(() => null))?.isDirectory() === true ? path : dirname(path);
  const json = path === dir ? join(dir, 'model.json') : path;
  const card = await readJson<ModelCard>(join(dir, 'model-card.json'));
  if (card.format !== MODEL_CARD_FORMAT) throw new ModelFilesError(`${join(dir, 'model-card.json')}: not a rethink model card (format ${String(card.format)})`);
  const doc = await readJson<{ modelTopology: object; weightsManifest: { paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }[] }>(json);
  const weightSpecs = doc.weightsManifest.flatMap((g) => g.weights);
  const buffers = await Promise.all(doc.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dir, p))));
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  const tf = await loadTf();
  registerRethinkLayers(tf);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: doc.modelTopology, weightSpecs, weightData: weightData.buffer }));
  return { model, card };
}

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ModelFilesError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (is this a folder written by `rethink export --model`?)' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ModelFilesError(`${file}: not JSON (${(e as Error).message})`);
  }
}

export { registerRethinkLayers } from './layers.js';
export type { ModelCard } from './files.js';
