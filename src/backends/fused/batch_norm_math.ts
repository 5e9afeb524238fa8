// Names and attributes of the fused training batch-norm kernels (src/backends/fused/batch_norm*.ts).
// Statistics are one [2, C] tensor: row 0 the batch mean, row 1 the biased batch variance; gradient
// sums likewise: row 0 Σdy, row 1 Σdy·x̂, over the M = N·H·W positions of each channel.

/** x → [2, C] (mean, variance). */
export const BN_STATS = 'RethinkBatchNormStats';
/** (x, stats, beta) → (x − μ)/√(σ² + ε) + β. */
export const BN_APPLY = 'RethinkBatchNormApply';
/** (moving, stats) → moving·momentum + stats[row]·(1 − momentum). */
export const BN_MOVING = 'RethinkBatchNormMoving';
/** (x, stats, dy) → [2, C] (Σdy, Σdy·x̂). */
export const BN_GRAD_STATS = 'RethinkBatchNormGradStats';
/** (x, stats, dy, sums) → dx = r·(dy − Σdy/M − x̂·Σ(dy·x̂)/M). */
export const BN_GRAD_INPUT = 'RethinkBatchNormGradInput';

export const BN_KERNEL_NAMES: readonly string[] = [BN_STATS, BN_APPLY, BN_MOVING, BN_GRAD_STATS, BN_GRAD_INPUT];

export interface BnAttrs {
  readonly epsilon: number;
}

export interface BnMovingAttrs {
  readonly momentum: number;
  /** 0: update from the mean; 1: from the variance. */
  readonly row: 0 | 1;
}
