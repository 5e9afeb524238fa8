// rethink's public API for plugin authors: `import { definePlugin, Rng } from 'rethink-ml'`. A plugin is
// a plain object (README, "Writing a plugin"); these give it types and the project's seeded PRNG.
// Testing helpers are in 'rethink-ml/testing'; `loadModel` (a model written by `rethink export --model`,
// back as a tfjs LayersModel) is in 'rethink-ml/models', so that plugin authors' types never load tfjs's.
export { definePlugin } from './plugin/types.js';
export { UserInputError } from './util/user-error.js';
export type { Artifact, ArtifactKind, ArtifactOrigin, InputSpec, JsonSchema, JsonValue, OutputSpec, Plugin, EpochProgress, ProgressUpdate, Scalar, StageContext, StageDeclaration } from './plugin/types.js';
export type { GpuNeed } from './plan/resources.js';
export { Rng } from './util/random.js';
export type { TensorData } from './tensors/types.js';
