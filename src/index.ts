// rethink's public API for plugin authors: `import { definePlugin, Rng } from 'rethink'`. A plugin is
// a plain object (README, "Writing a plugin"); these give it types and the project's seeded PRNG.
// Testing helpers are in 'rethink/testing'.
export { definePlugin, UserInputError } from './plugin/types.js';
export type { Artifact, ArtifactKind, ArtifactOrigin, InputSpec, JsonSchema, JsonValue, OutputSpec, Plugin, ProgressUpdate, Scalar, TrainingProgress, StageContext, StageDeclaration } from './plugin/types.js';
export type { GpuNeed } from './plan/resources.js';
export { Rng } from './util/random.js';
export type { TensorData } from './tensors/types.js';
