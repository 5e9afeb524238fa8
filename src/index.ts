// rethink's public API for plugin authors: `import { definePlugin, Rng } from 'rethink-ml'`. A plugin is
// a plain object (README, "Writing a plugin"); these give it types and the project's seeded PRNG.
// Testing helpers are in 'rethink-ml/testing'.
export { definePlugin, UserInputError } from './plugin/types.js';
export type { Artifact, ArtifactKind, ArtifactOrigin, InputSpec, JsonSchema, JsonValue, OutputSpec, Plugin, ProgressUpdate, Scalar, StageContext, StageDeclaration } from './plugin/types.js';
export type { GpuNeed } from './plan/resources.js';
export { Rng } from './util/random.js';
export type { TensorData } from './tensors/types.js';
