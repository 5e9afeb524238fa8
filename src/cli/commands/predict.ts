// `rethink predict MODEL IMAGE… [--top K] [--json]`: a quick look at what a trained model says about
// some images. MODEL is a folder written by `rethink export --model` (or its model.json). Each image
// (PNG, JPEG, WebP…: anything sharp decodes) is resized to the model's input, converted to its
// channels, and fed exactly as training fed images (pixels / 255, per-image standardization).
import { resolve } from 'node:path';
import type { Command } from '../io.js';
import { intFlag, parseFlags, pipelineFlags } from '../args.js';
import { UserError } from '../../util/user-error.js';
import { inferenceTf } from '../inference-tf.js';

interface Prediction {
  readonly image: string;
  readonly top: readonly { readonly index: number; readonly class: string; readonly p: number }[];
}

export const predict: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('predict', argv, {
    top: { type: 'string', value: 'K', help: 'how many classes to show per image (default 3)' },
    json: pipelineFlags.json,
  });
  const [modelPath, ...images] = positionals;
  if (modelPath === undefined || images.length === 0) {
    throw UserError.of('E_BAD_FLAG', 'rethink predict takes a model and at least one image', 'e.g. rethink predict results/fit/model shoe.png (export the model first: rethink export fit --model)');
  }
  const top = intFlag('top', values.top, 1) ?? 3;
  const { loadModel, ModelFilesError } = await import('../../models/export/load.js');
  const tf = await inferenceTf();
  let loaded;
  try {
    loaded = await loadModel(resolve(io.cwd, modelPath));
  } catch (e) {
    if (e instanceof ModelFilesError) throw UserError.of('E_MODEL', e.message, 'pass a folder written by `rethink export STAGE --model`, or its model.json');
    throw e;
  }
  const { model, card } = loaded;
  const { preprocessBatch } = await import('../../data/preprocess.js');
  const [h, w, c] = card.inputShape;
  const predictions: Prediction[] = [];
  try {
    for (const image of images) {
      const pixels = await decode(resolve(io.cwd, image), image, h, w, c);
      const batch = preprocessBatch(pixels, [1, h, w, c], { standardize: card.preprocessing.standardize });
      const probs = tf.tidy(() => tf.softmax(model.predict(tf.tensor(batch.data, [...batch.shape])) as import('@tensorflow/tfjs').Tensor2D));
      const p = Array.from(await probs.data());
      probs.dispose();
      const order = p.map((_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b).slice(0, top);
      predictions.push({ image, top: order.map((i) => ({ index: i, class: card.classes[i] ?? String(i), p: p[i]! })) });
    }
  } finally {
    model.dispose();
  }
  if (values.json) {
    io.stdout(`${JSON.stringify({ format: 1, model: card.model, predictions }, null, 1)}\n`);
  } else {
    for (const pr of predictions) io.stdout(`${pr.image}: ${pr.top.map((t) => `${t.class} ${(100 * t.p).toFixed(1)}%`).join(', ')}\n`);
  }
  return 0;
};

/** The image as uint8 [h, w, c] pixels, resized (stretched) to the model's input. */
async function decode(path: string, shown: string, h: number, w: number, c: number): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp');
  try {
    let img = sharp(path).resize(w, h, { fit: 'fill' }).removeAlpha();
    img = c === 1 ? img.greyscale() : img.toColourspace('srgb');
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== c) throw new Error(`decoded ${info.channels} channels, the model takes ${c}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    throw UserError.of('E_IMAGE', `${shown}: cannot read it as an image (${(e as Error).message})`, 'pass PNG, JPEG, WebP, GIF or TIFF files');
  }
}
