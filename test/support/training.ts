// The fastest real training the tests run (fashion-mnist, 10 images per class, an MLP on the CPU):
// for what only a real training shows — checkpoints, resuming, bitwise-equal weights, learning curves.

export interface TrainingOptions {
  /** The `fit` stage's matrix, as YAML flow (`{ lr: [0.01, 0.05] }`). */
  readonly matrix?: string;
  /** The `fit` stage's seed (`"${matrix.seed}"`). */
  readonly seed?: string;
  /** The learning rate, a number or an interpolation. */
  readonly lr?: string;
  /** Evaluate on the test split every this many epochs (default 0: only at the end). */
  readonly evalEvery?: number;
  /** More stages, as YAML indented by two spaces. */
  readonly more?: string;
}

/** A pipeline whose `fit` stage trains for `epochs` epochs. */
export function trainingPipeline(epochs: number, o: TrainingOptions = {}): string {
  const lr = o.lr === undefined ? '' : `, lr: ${o.lr}`;
  return `seed: 3
stages:
  fashion: { uses: fashion-mnist }
  small:
    uses: subset
    with: { train: { per_class: 10 }, test: { per_class: 5 } }
    inputs: { dataset: fashion }
  fit:
    uses: train
${o.matrix === undefined ? '' : `    matrix: ${o.matrix}\n`}${o.seed === undefined ? '' : `    seed: ${o.seed}\n`}    with: { model: mlp_1x512, epochs: ${epochs}, batch_size: 50, backend: cpu, eval_every: ${o.evalEvery ?? 0}${lr} }
    inputs: { data: small.dataset }
${o.more ?? ''}`;
}
