// The cap on sweep size: a stage's matrix is refused, before any combination is allocated, when it
// alone or with the stages before it would expand past the pipeline's `max_instances` (default 1,000,000).
// Combinations are counted before `exclude:`, as the product of the axes' lengths.
import type { Diagnostic, Position } from '../util/user-error.js';

export const DEFAULT_MAX_INSTANCES = 1_000_000;

/** Whether a stage may expand; a refusal says why, except past the pipeline's total, which is said once. */
export type CapCheck = { readonly ok: true } | { readonly ok: false; readonly diagnostic?: Diagnostic };

/** Counts the combinations of the stages admitted so far, in file order. */
export class InstanceCap {
  private planned = 0;
  private totalReported = false;

  constructor(readonly max: number = DEFAULT_MAX_INSTANCES) {}

  /** `at` locates the stage's `matrix:` key, looked up only for a refusal. */
  admit(stage: string, axes: readonly (readonly [string, readonly unknown[]])[], at: () => Position): CapCheck {
    const count = axes.reduce((n, [, values]) => n * values.length, 1);
    const total = this.planned + count;
    if (count <= this.max && total <= this.max) {
      this.planned = total;
      return { ok: true };
    }
    const shape = axes.map(([axis, values]) => `${axis}: ${fmt(values.length)}`).join(' × ');
    if (count > this.max) {
      const message = `stage "${stage}": its matrix expands to ${fmt(count)} instances (${shape}), more than the cap of ${fmt(this.max)}`;
      return { ok: false, diagnostic: { code: 'E_TOO_MANY_INSTANCES', message, at: at(), hint: raise(count) } };
    }
    if (this.totalReported) return { ok: false };
    this.totalReported = true;
    const which = axes.length > 0 ? `stage "${stage}": its matrix of ${fmt(count)} instances brings` : `stage "${stage}" brings`;
    const message = `${which} the pipeline to ${fmt(total)} instances, more than the cap of ${fmt(this.max)}`;
    return { ok: false, diagnostic: { code: 'E_TOO_MANY_INSTANCES', message, at: at(), hint: raise(total) } };
  }
}

const raise = (needed: number) =>
  `sweep fewer values, or raise the cap with a top-level \`max_instances: ${needed}\` in the pipeline (or --set max_instances=${needed})`;

const fmt = (x: number) => x.toLocaleString('en-US');
