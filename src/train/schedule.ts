// Learning-rate schedules: the paper's "× 0.95 every epoch" (staircase or continuous) and piecewise-constant per-step ones.

export type LrSchedule =
  | {
      readonly kind: 'exponential';
      readonly initial: number;
      /** Multiplier per epoch (paper: 0.95; 0.999 for its augmented random-label fits). */
      readonly decay: number;
      /** true: lr0·decay^⌊step/stepsPerEpoch⌋ (SPEC §3.2's natural reading); false: continuous per step. */
      readonly staircase: boolean;
      /**
       * Steps per decay period, where it is not the run's epoch: e.g. 391, the paper's CIFAR-10 epoch
       * at batch 128, for a small subset whose epoch is a few steps. Absent: one epoch.
       */
      readonly decaySteps?: number;
    }
  | {
      readonly kind: 'piecewise';
      /** Global step numbers where the rate changes, ascending; values has one more entry. */
      readonly boundaries: readonly number[];
      readonly values: readonly number[];
    };

export function learningRate(s: LrSchedule, globalStep: number, stepsPerEpoch: number): number {
  switch (s.kind) {
    case 'exponential': {
      const periods = globalStep / (s.decaySteps ?? stepsPerEpoch);
      return s.initial * Math.pow(s.decay, s.staircase ? Math.floor(periods) : periods);
    }
    case 'piecewise': {
      let i = 0;
      while (i < s.boundaries.length && globalStep >= s.boundaries[i]!) i++;
      return s.values[i]!;
    }
  }
}

/** A schedule error for the user, or undefined when valid. */
export function checkSchedule(s: LrSchedule): string | undefined {
  if (s.kind === 'exponential') {
    if (!(s.initial > 0) || !(s.decay > 0)) return 'learning rate and decay must be positive';
    if (s.decaySteps !== undefined && !(Number.isInteger(s.decaySteps) && s.decaySteps >= 1)) return 'decay steps must be a positive integer';
    return undefined;
  }
  if (s.values.length !== s.boundaries.length + 1) return 'piecewise schedule needs one more value than boundaries';
  for (let i = 1; i < s.boundaries.length; i++) {
    if (s.boundaries[i]! <= s.boundaries[i - 1]!) return 'piecewise boundaries must be strictly ascending';
  }
  return undefined;
}
