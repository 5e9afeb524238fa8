// The registry of the paper's models, by name. Importing it never loads tfjs.
import { smallAlexnet } from './alexnet.js';
import { inceptionDef } from './inception.js';
import { mlpDef } from './mlp.js';
import type { InputShape, ModelDef, ParamCount } from './types.js';

const MODELS: readonly ModelDef[] = [mlpDef(1, 512), mlpDef(3, 512), smallAlexnet, inceptionDef(false), inceptionDef(true)];
const BY_NAME: ReadonlyMap<string, ModelDef> = new Map(MODELS.map((m) => [m.name, m]));

export function listModels(): readonly ModelDef[] {
  return MODELS;
}

export function modelNames(): readonly string[] {
  return MODELS.map((m) => m.name);
}

export function findModel(name: string): ModelDef | undefined {
  return BY_NAME.get(name);
}

export function getModel(name: string): ModelDef {
  const m = BY_NAME.get(name);
  if (m === undefined) throw new Error(`unknown model '${name}'; known: ${modelNames().join(', ')}`);
  return m;
}

/** Learnable parameters of `name` for this input (the paper's Table 1 count), without tfjs. */
export function countParams(name: string, inputShape: InputShape, numClasses = 10): number {
  return paramCount(name, inputShape, numClasses).trainable;
}

export function paramCount(name: string, inputShape: InputShape, numClasses = 10): ParamCount {
  return getModel(name).countParams(inputShape, numClasses);
}
