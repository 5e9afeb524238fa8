// The fastest real training the tests run (fashion-mnist, 10 images per class, an MLP on the CPU):
// for what only a real training shows — checkpoints, resuming, bitwise-equal weights.

/** A pipeline whose `fit` stage trains for `epochs` epochs. */
export function trainingPipeline(epochs: number): string {
  return `seed: 3
stages:
  fashion: { uses: fashion-mnist }
  small:
    uses: subset
    with: { train: { per_class: 10 }, test: { per_class: 5 } }
    inputs: { dataset: fashion }
  fit:
    uses: train
    with: { model: mlp_1x512, epochs: ${epochs}, batch_size: 50, backend: cpu, eval_every: 0 }
    inputs: { data: small.dataset }
`;
}
