// Names and attributes of the fused training batch-norm kernels (src/ops/batch_norm.ts; kernels in each backend's room).
// Statistics are one [2, C] tensor: row 0 the batch mean, row 1 the biased batch variance; gradient
// sums likewise: row 0 Σdy, row 1 Σdy·x̂, over the M = N·H·W positions of each channel.

/** x → [2, C] (mean, variance). */
export const BN_STATS = 'RethinkBatchNormStats';
/** (x, stats, beta) → (x − μ)/√(σ² + ε) + β, then max(·, 0) when relu. */
export const BN_APPLY = 'RethinkBatchNormApply';
/** (mean, variance, stats) → [mean, variance]·momentum + stats·(1 − momentum), both at once. */
export const BN_MOVING = 'RethinkBatchNormMoving';
/**
 * (x, stats, dy, y, beta) → [2, C] (Σg, Σg·x̂) and dβ = Σg [C]; g = dy, or dy·[y > 0] when relu. A
 * backend takes x̂ = (x − μ)·r, or y − β (y = x̂ + β, and where the ReLU zeroed y, g is 0): the
 * wasm-heap kernels do, reading two activation-sized arrays instead of three.
 */
export const BN_GRAD_STATS = 'RethinkBatchNormGradStats';
/** (x, stats, dy[, y], sums) → dx = r·(g − Σg/M − x̂·Σ(g·x̂)/M). */
export const BN_GRAD_INPUT = 'RethinkBatchNormGradInput';

export const BN_KERNEL_NAMES: readonly string[] = [BN_STATS, BN_APPLY, BN_MOVING, BN_GRAD_STATS, BN_GRAD_INPUT];

export interface BnAttrs {
  readonly epsilon: number;
  /** The batch norm is followed by a ReLU fused into it (apply clamps; gradients mask by y > 0). */
  readonly relu?: boolean;
}

export interface BnMovingAttrs {
  readonly momentum: number;
}
