// A trained model as a tensors artifact: every weight (trainable and not) by its stable layer-scoped
// name, plus the metadata needed to rebuild the same network and feed it the same way.
import { getModel } from '../models/registry.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { InputShape } from '../models/types.js';
import type { TensorData, TensorFile } from '../tensors/types.js';
import type { ImageSet, Preprocessing } from './types.js';

export const MODEL_FORMAT = 'rethink-model/1';

export interface ModelMeta {
  readonly model: string;
  readonly inputShape: InputShape;
  readonly numClasses: number;
  readonly dropout: number;
  readonly preprocessing: Preprocessing;
  readonly classes: readonly string[];
}

/**
 * Weights as named float32 tensors plus string metadata, ready for ctx.writeTensors. Read with the
 * asynchronous API: tfjs's WebGPU backend cannot read synchronously in Node (it needs OffscreenCanvas).
 */
export async function modelTensors(
  model: tfTypes.LayersModel,
  meta: ModelMeta,
  extra: Readonly<Record<string, string>> = {},
): Promise<{ tensors: Record<string, TensorData>; metadata: Record<string, string> }> {
  const tensors: Record<string, TensorData> = {};
  for (const w of model.weights) {
    const value = w.read();
    tensors[w.originalName] = { dtype: 'float32', shape: [...value.shape], data: (await value.data()) as Float32Array };
  }
  const metadata: Record<string, string> = {
    ...extra,
    format: MODEL_FORMAT,
    model: meta.model,
    input_shape: JSON.stringify(meta.inputShape),
    num_classes: String(meta.numClasses),
    dropout: String(meta.dropout),
    preprocessing: JSON.stringify(meta.preprocessing),
    classes: JSON.stringify(meta.classes),
  };
  return { tensors, metadata };
}

export function readModelMeta(file: TensorFile): ModelMeta {
  const m = file.metadata;
  if (m['format'] !== MODEL_FORMAT) throw new Error(`not a model artifact (format ${m['format'] ?? 'missing'}, expected ${MODEL_FORMAT})`);
  return {
    model: m['model'] ?? '',
    inputShape: JSON.parse(m['input_shape'] ?? 'null') as InputShape,
    numClasses: Number(m['num_classes']),
    dropout: Number(m['dropout'] ?? 0),
    preprocessing: JSON.parse(m['preprocessing'] ?? 'null') as Preprocessing,
    classes: JSON.parse(m['classes'] ?? '[]') as string[],
  };
}

/** Rebuilds the network named in `file` and loads its weights (call after the backend is chosen). */
export async function loadModel(tf: typeof tfTypes, file: TensorFile): Promise<{ model: tfTypes.LayersModel; meta: ModelMeta }> {
  const meta = readModelMeta(file);
  const model = await getModel(meta.model).build({ inputShape: meta.inputShape, numClasses: meta.numClasses, seed: 0, dropout: meta.dropout });
  try {
    for (const w of model.weights) {
      const spec = file.tensors[w.originalName];
      if (spec === undefined) throw new Error(`model artifact lacks weight ${w.originalName}`);
      if (spec.shape.join() !== w.shape.join()) throw new Error(`weight ${w.originalName} has shape [${spec.shape}], the model expects [${w.shape}]`);
      const t = await file.read(w.originalName);
      const value = tf.tensor(t.data as Float32Array, [...t.shape], 'float32');
      w.write(value);
      value.dispose();
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta };
}

/** Both splits of a dataset artifact, and how many classes their labels span; the file is closed again. */
export async function readSplits(artifact: { readTensors(): Promise<TensorFile> }): Promise<{ train: ImageSet; test: ImageSet; classes: number }> {
  const file = await artifact.readTensors();
  try {
    const [train, test] = [await readSplit(file, 'train'), await readSplit(file, 'test')];
    const classes = [train.labels, test.labels].reduce((top, l) => l.reduce((a, v) => Math.max(a, v), top), 0) + 1; // no spread: too many arguments
    return { train, test, classes };
  } finally {
    await file.close();
  }
}

/** One split of a dataset artifact as an ImageSet (images stay uint8). */
export async function readSplit(file: TensorFile, split: 'train' | 'test'): Promise<ImageSet> {
  const x = await file.read(`x_${split}`);
  const y = await file.read(`y_${split}`);
  if (x.shape.length !== 4) throw new Error(`x_${split} must be [N,H,W,C], got [${x.shape}]`);
  if (!(x.data instanceof Uint8Array || x.data instanceof Float32Array)) throw new Error(`x_${split} must be uint8 or float32, got ${x.dtype}`);
  const labels = y.data instanceof Int32Array ? y.data : Int32Array.from(y.data as ArrayLike<number>);
  if (labels.length !== x.shape[0]) throw new Error(`y_${split} has ${labels.length} labels for ${x.shape[0]} images`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return { images: x.data, shape: [n, h, w, c], labels };
}
