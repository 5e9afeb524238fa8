// What a model definition is: a plain descriptor with an exact, tfjs-free parameter count and a
// lazy `build` that returns a fresh tf.LayersModel whose every initializer is seeded.
import type * as tfTypes from '@tensorflow/tfjs';

export type Tf = typeof tfTypes;
export type InputShape = readonly [height: number, width: number, channels: number];

export interface BuildOptions {
  readonly inputShape: InputShape;
  readonly numClasses: number;
  /** Every initializer and dropout mask derives from this via `Rng.derive(seed, ...)`. */
  readonly seed: number;
  /** Dropout rate before each hidden fully connected layer's successor (0 or absent: none). */
  readonly dropout?: number;
  /**
   * Run bias + ReLU layers' training forward as one fused kernel (default true): same weights, names
   * and results, fewer kernel calls per step (src/models/fused-training.ts). False: tfjs's own path.
   */
  readonly fuseBiasRelu?: boolean;
}

export interface ParamCount {
  /** Learnable parameters: the paper's "# params" (Table 1). */
  readonly trainable: number;
  /** Non-learnable state, e.g. batch-norm moving mean and variance. */
  readonly nonTrainable: number;
}

export interface ModelDef {
  readonly name: string;
  readonly description: string;
  /** The smallest [height, width] the network accepts (absent: any); smaller inputs have no count or build. */
  readonly minInput?: readonly [height: number, width: number];
  /** Exact counts by arithmetic, so `rethink models` never loads tfjs. */
  countParams(inputShape: InputShape, numClasses: number): ParamCount;
  /** Imports tfjs lazily; call after the backend is chosen. */
  build(opts: BuildOptions): Promise<tfTypes.LayersModel>;
}
