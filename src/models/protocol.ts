// The paper's training protocol per model, in one table (SPEC §3.1, [P] App. A): SGD with momentum
// 0.9, an initial learning rate of 0.1 for small Inception and 0.01 for small AlexNet and the MLPs,
// multiplied by 0.95 every epoch. The train stage takes its `lr` and `lr_decay` defaults from here
// (filled in by its schema, so they are part of each run's cache key); explicit values win.
import { modelNames } from './registry.js';

export interface TrainingProtocol {
  /** Initial learning rate. */
  readonly lr: number;
  /** Learning-rate multiplier per epoch. */
  readonly lrDecay: number;
}

const INCEPTION: TrainingProtocol = { lr: 0.1, lrDecay: 0.95 };
const ALEXNET_AND_MLPS: TrainingProtocol = { lr: 0.01, lrDecay: 0.95 };
/**
 * Inception V3 on ImageNet (Table 2): the paper names only "the TF package's setup"; chosen, as
 * pipelines/table2.yaml says: 0.1, ×0.16 every 30 epochs, spread evenly as ×0.9407 per epoch.
 */
const INCEPTION_V3: TrainingProtocol = { lr: 0.1, lrDecay: 0.9407 };

const PROTOCOLS: Readonly<Record<string, TrainingProtocol>> = {
  small_inception_bn: INCEPTION,
  small_inception: INCEPTION,
  small_alexnet: ALEXNET_AND_MLPS,
  mlp_1x512: ALEXNET_AND_MLPS,
  mlp_3x512: ALEXNET_AND_MLPS,
  inception_v3: INCEPTION_V3,
};

/** The paper's protocol for `model`; every registered model has one (a test checks it). */
export function protocolOf(model: string): TrainingProtocol {
  const p = PROTOCOLS[model];
  if (p === undefined) throw new Error(`no training protocol for model '${model}'; known: ${modelNames().join(', ')}`);
  return p;
}
