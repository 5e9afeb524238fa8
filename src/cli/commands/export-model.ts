// `rethink export STAGE --model`: each selected instance's trained model (an output in rethink's model
// format, e.g. train's `model`) written as files other programs load — TensorFlow.js Layers
// (model.json + weights.bin), ONNX (model.onnx) and model-card.json — into DIR/<instance id>/<output>/.
import { join } from 'node:path';
import { UserError } from '../../util/user-error.js';
import type { RunRecord, Store } from '../../store/types.js';
import { openSafetensors } from '../../tensors/safetensors.js';
import { exportModelFiles, MODEL_FORMATS, type ModelFormat } from '../../models/export/files.js';
import { inferenceTf } from '../inference-tf.js';

/** `--format a,b` → the formats, or a user error naming what is valid. */
export function modelFormats(flag: string | undefined): readonly ModelFormat[] {
  if (flag === undefined) return MODEL_FORMATS;
  const asked = flag.split(',').map((f) => f.trim()).filter((f) => f !== '');
  const bad = asked.filter((f) => !(MODEL_FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || asked.length === 0) {
    throw UserError.of('E_BAD_FLAG', `--format ${flag}: ${bad.length > 0 ? `"${bad[0]}" is not a model format` : 'no format given'}`, `model formats: ${MODEL_FORMATS.join(', ')} (default: both)`);
  }
  return asked as ModelFormat[];
}

export interface ExportedModel {
  readonly id: string;
  readonly output: string;
  readonly path: string;
  readonly files: readonly string[];
}

/** Exports every model-format output of one up-to-date instance; [] if it has none. */
export async function exportInstanceModels(store: Store, id: string, key: string, record: RunRecord, root: string, formats: readonly ModelFormat[]): Promise<ExportedModel[]> {
  const { loadModel, MODEL_FORMAT } = await import('../../train/artifact.js');
  const written: ExportedModel[] = [];
  for (const [name, ref] of Object.entries(record.outputs)) {
    if (ref.kind !== 'tensors') continue;
    const file = await openSafetensors(await store.objectPath(ref.hash));
    try {
      if (file.metadata['format'] !== MODEL_FORMAT) continue;
      const tf = await inferenceTf();
      const trained = await loadModel(tf, file);
      const dir = join(root, id, name);
      try {
        const card = await exportModelFiles(tf, trained, dir, formats, { instance: id, output: name, key, object: ref.hash });
        written.push({ id, output: name, path: dir, files: [...Object.values(card.files), 'model-card.json'] });
      } finally {
        trained.model.dispose();
      }
    } finally {
      await file.close();
    }
  }
  return written;
}

export function noModels(target: string): UserError {
  return UserError.of('E_EXPORT_MODEL', `--model: ${target} has no trained model among its outputs`, 'export --model takes stages whose outputs include a trained model, e.g. rethink export train --model');
}
