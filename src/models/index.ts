// Public surface of the model registry (tfjs-free until `build` is called).
export { acceptsInput, countParams, findModel, getModel, listModels, modelNames, paramCount } from './registry.js';
export type { BuildOptions, InputShape, ModelDef, ParamCount, Tf } from './types.js';
