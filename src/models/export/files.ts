// Writes a trained model (train's `model` output, rebuilt) as files other programs load: TensorFlow.js
// Layers (model.json + weights.bin), ONNX (model.onnx) and a model card (model-card.json) saying what
// the input must be. Everything is written into a fresh temporary folder and renamed into place, so a
// failed export leaves nothing half-written.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Preprocessing } from '../../train/types.js';
import type { Tf } from '../types.js';
import { onnxModel } from './onnx.js';
import { tfjsArtifacts } from './tfjs.js';

export const MODEL_FORMATS = ['tfjs', 'onnx'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export const MODEL_CARD_FORMAT = 'rethink-model-card/1';

/** What the export needs to know of a trained model (train/artifact.ts's ModelMeta has these). */
export interface TrainedMeta {
  readonly model: string;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  readonly classes: readonly string[];
  readonly preprocessing: Preprocessing;
}

/** model-card.json: how to feed the exported model and where it came from. */
export interface ModelCard {
  readonly format: typeof MODEL_CARD_FORMAT;
  readonly model: string;
  /** [H, W, C] of one input image, after preprocessing. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classes: readonly string[];
  /** How training fed images: pixels / 255, centre crop (if any), per-image standardization. */
  readonly preprocessing: Preprocessing;
  readonly files: Readonly<Partial<Record<ModelFormat, string>>>;
  readonly source: Readonly<Record<string, string>>;
}

/**
 * Writes the requested formats of a trained model (as train/artifact.ts's loadModel rebuilds it) into
 * `dir`, replacing an earlier export there. The model stays the caller's to dispose.
 */
export async function exportModelFiles(
  tf: Tf,
  trained: { readonly model: tfTypes.LayersModel; readonly meta: TrainedMeta },
  dir: string,
  formats: readonly ModelFormat[],
  source: Readonly<Record<string, string>> = {},
): Promise<ModelCard> {
  const { model, meta } = trained;
  const staging = `${dir}.partial-${process.pid}`;
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const files: Partial<Record<ModelFormat, string>> = {};
    if (formats.includes('tfjs')) {
      const { modelJson, weights } = await tfjsArtifacts(tf, model);
      await writeFile(join(staging, 'model.json'), `${JSON.stringify(modelJson)}\n`);
      await writeFile(join(staging, 'weights.bin'), weights);
      files.tfjs = 'model.json';
    }
    if (formats.includes('onnx')) {
      await writeFile(join(staging, 'model.onnx'), await onnxModel(model));
      files.onnx = 'model.onnx';
    }
    const card: ModelCard = {
      format: MODEL_CARD_FORMAT,
      model: meta.model,
      inputShape: [...meta.inputShape] as [number, number, number],
      numClasses: meta.numClasses,
      classes: meta.classes,
      preprocessing: meta.preprocessing,
      files,
      source,
    };
    await writeFile(join(staging, 'model-card.json'), `${JSON.stringify(card, null, 2)}\n`);
    await mkdir(dirname(dir), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return card;
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}
