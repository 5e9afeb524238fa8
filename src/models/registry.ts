// The registry of the paper's models, by name. Importing it never loads tfjs.
import { smallAlexnet } from './alexnet.js';
import { inceptionDef } from './inception.js';
import { inceptionV3 } from './inception_v3.js';
import { mlpDef } from './mlp.js';
import type { InputShape, ModelDef, ParamCount } from './types.js';

const MODELS: readonly ModelDef[] = [mlpDef(1, 512), mlpDef(3, 512), smallAlexnet, inceptionDef(false), inceptionDef(true), inceptionV3];
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

/** Whether `def` accepts inputs of this height and width (Inception V3 needs at least 75×75). */
export function acceptsInput(def: ModelDef, [height, width]: InputShape): boolean {
  return def.minInput === undefined || (height >= def.minInput[0] && width >= def.minInput[1]);
}

/** Learnable parameters of `name` for this input (the paper's Table 1 count), without tfjs. */
export function countParams(name: string, inputShape: InputShape, numClasses = 10): number {
  return paramCount(name, inputShape, numClasses).trainable;
}

export function paramCount(name: string, inputShape: InputShape, numClasses = 10): ParamCount {
  const def = getModel(name);
  if (!acceptsInput(def, inputShape)) throw new RangeError(`${name} needs an input of at least ${def.minInput!.join('x')}, not ${inputShape[0]}x${inputShape[1]}`);
  return def.countParams(inputShape, numClasses);
}
