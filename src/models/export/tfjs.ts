// A trained model as TensorFlow.js Layers artifacts (model.json + weights.bin) that stock tfjs loads.
// Two of our layers exist for training only and become the stock layers whose inference math is the
// same: RethinkSeededDropout → Dropout (identity at inference), RethinkBetaBatchNorm → a
// BatchNormalization with center and no scale (its weights keep their names: beta, moving_mean,
// moving_variance), followed by a ReLU layer where ours fused one. RethinkLRN stays, registered by the
// small module ./layers.ts.
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from '../types.js';

export interface TfjsArtifacts {
  /** The model.json document (format layers-model), its weights manifest pointing at `weightsFile`. */
  readonly modelJson: Record<string, unknown>;
  readonly weights: Uint8Array;
}

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
  name: string;
  inbound_nodes: unknown[];
}

/** Serializes `model` (inference topology and every weight) for tf.loadLayersModel. */
export async function tfjsArtifacts(tf: Tf, model: tfTypes.LayersModel, weightsFile = 'weights.bin'): Promise<TfjsArtifacts> {
  let saved: tfTypes.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved?.modelTopology === undefined || saved.weightSpecs === undefined || saved.weightData === undefined) {
    throw new Error('tfjs did not serialize the model');
  }
  // The topology is the Keras model config: {class_name, config: {layers, input_layers, output_layers}}.
  const topology = structuredClone(saved.modelTopology) as { config?: { layers: LayerJson[]; output_layers: unknown[] } };
  const config = topology.config;
  if (config?.layers === undefined) throw new Error('tfjs serialized no layer list');
  config.layers = stockLayers(config.layers, (from, to) => rewire(config, from, to));
  const parts = Array.isArray(saved.weightData) ? saved.weightData : [saved.weightData];
  const weights = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    weights.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: saved.generatedBy,
      convertedBy: null,
      modelTopology: topology,
      weightsManifest: [{ paths: [weightsFile], weights: saved.weightSpecs }],
    },
    weights,
  };
}

/** The layer list with training-only layers swapped for stock ones; `rename` re-points consumers. */
function stockLayers(layers: readonly LayerJson[], rename: (from: string, to: string) => void): LayerJson[] {
  const out: LayerJson[] = [];
  for (const layer of layers) {
    if (layer.class_name === 'RethinkSeededDropout') {
      out.push({ ...layer, class_name: 'Dropout', config: { name: layer.name, trainable: true, dtype: 'float32', rate: layer.config['rate'] } });
      continue;
    }
    if (layer.class_name !== 'RethinkBetaBatchNorm') {
      out.push(layer);
      continue;
    }
    out.push({
      ...layer,
      class_name: 'BatchNormalization',
      config: {
        name: layer.name,
        trainable: true,
        dtype: 'float32',
        axis: -1,
        momentum: layer.config['momentum'],
        epsilon: layer.config['epsilon'],
        center: true,
        scale: false,
      },
    });
    if (layer.config['relu'] === true) {
      const relu = `${layer.name}_relu`;
      rename(layer.name, relu);
      out.push({ class_name: 'ReLU', name: relu, config: { name: relu, trainable: true, dtype: 'float32', maxValue: null }, inbound_nodes: [[[layer.name, 0, 0, {}]]] });
    }
  }
  return out;
}

/** Every reference to layer `from` (inbound nodes, model outputs) now names `to`. */
function rewire(config: { layers: LayerJson[]; output_layers: unknown[] }, from: string, to: string): void {
  const swap = (ref: unknown): void => {
    if (Array.isArray(ref) && ref[0] === from) ref[0] = to;
  };
  for (const layer of config.layers) for (const node of layer.inbound_nodes) if (Array.isArray(node)) node.forEach(swap);
  config.output_layers.forEach(swap);
}
