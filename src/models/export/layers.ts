// The one layer an exported rethink model needs that TensorFlow.js lacks: TF-style local response
// normalization (small AlexNet). A plain tfjs program registers it before loading a model.json:
//   import * as tf from '@tensorflow/tfjs';
//   import { registerRethinkLayers } from 'rethink-ml/layers';
//   registerRethinkLayers(tf);
//   const model = await tf.loadLayersModel('file or http URL of model.json');
// The other custom layers export as stock ones (export/tfjs.ts). This module imports nothing but types.
import { defineLrn } from '../lrn.js';
import type { Tf } from '../types.js';

const registered = new WeakSet<object>();

/** Registers RethinkLRN with this tfjs instance's serialization registry (idempotent). */
export function registerRethinkLayers(tf: Tf): void {
  if (registered.has(tf.serialization)) return;
  tf.serialization.registerClass(defineLrn(tf));
  registered.add(tf.serialization);
}
