// The paper's Figure 1 and 2b values (SPEC §4.5–4.6, read from the vector data of the PDF's figures),
// keyed the way a rethink sweep names its lines: corrupt kinds for 1a, model names for 1b, 1c and 2b.
// All CIFAR-10.
import type { CurveMetric, Plot } from './data.js';

const P = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Figure 1a: small Inception's training loss at these epochs (391 steps each), per randomization. */
const FIG1A_EPOCHS = [1, 3, 5, 8, 10, 12, 15, 20, 25, 30, 35, 40, 50];
const FIG1A: Readonly<Record<string, readonly number[]>> = {
  none: [0.839, 0.442, 0.253, 0.098, 0.047, 0.009, 0.001, 0, 0, 0, 0, 0, 0],
  shuffled_pixels: [1.468, 1.081, 0.774, 0.373, 0.22, 0.132, 0.02, 0, 0, 0, 0, 0, 0],
  gaussian: [2.306, 2.267, 2.177, 1.81, 1.431, 1.037, 0.493, 0.07, 0.001, 0, 0, 0, 0],
  random_pixels: [2.306, 2.281, 2.215, 1.986, 1.677, 1.251, 0.699, 0.165, 0.001, 0, 0, 0, 0],
  random_labels: [2.303, 2.304, 2.3, 2.291, 2.28, 2.264, 2.179, 1.799, 1.107, 0.459, 0.065, 0.002, 0.001],
};

/** Figure 1b: time to overfit relative to p = 0. */
const FIG1B: Readonly<Record<string, readonly number[]>> = {
  small_inception: [1.0, 1.6, 1.9, 2.2, 2.4, 2.5, 2.7, 2.9, 3.1, 3.6, 3.6],
  small_alexnet: [1.0, 1.065, 1.097, 1.161, 1.226, 1.258, 1.323, 1.355, 1.419, 1.516, 1.548],
  mlp_1x512: [1.0, 1.286, 1.429, 1.571, 1.679, 1.786, 1.929, 1.929, 1.964, 2.0, 1.964],
};

/** Figure 1c: test error after convergence. */
const FIG1C: Readonly<Record<string, readonly number[]>> = {
  small_inception: [0.129, 0.278, 0.407, 0.524, 0.629, 0.71, 0.785, 0.841, 0.879, 0.902, 0.902],
  small_alexnet: [0.301, 0.412, 0.522, 0.619, 0.692, 0.763, 0.82, 0.858, 0.881, 0.891, 0.901],
  mlp_1x512: [0.495, 0.585, 0.657, 0.719, 0.757, 0.796, 0.865, 0.865, 0.884, 0.894, 0.898],
};

/**
 * Figure 2b: small Inception's test accuracy with and without batch norm, no explicit regularizer, at
 * 5k steps and at the end (51 epochs of 391 steps); the SPEC gives these points, and each line's best.
 */
const FIG2B_STEPS = [5000, 51 * 391];
const FIG2B: Readonly<Record<string, readonly number[]>> = {
  small_inception_bn: [0.861, 0.865],
  small_inception: [0.797, 0.849],
};
const FIG2B_BEST: Readonly<Record<string, number>> = { small_inception_bn: 0.867, small_inception: 0.853 };

/** The paper's points for the lines a figure draws (by series name); none for names it lacks. */
export function paperSeries(plot: Plot, names: readonly string[], xUnit: 'epoch' | 'thousand_steps', metric: CurveMetric = 'loss'): { series: string; x: number; y: number }[] {
  const atStep = (step: number): number => (xUnit === 'epoch' ? step / 391 : step / 1000);
  const [table, xs] =
    plot === 'learning_curves'
      ? metric === 'test_acc'
        ? [FIG2B, FIG2B_STEPS.map(atStep)]
        : [FIG1A, FIG1A_EPOCHS.map((e) => atStep(e * 391))]
      : [plot === 'convergence' ? FIG1B : FIG1C, P];
  return names.flatMap((series) => (table[series] ?? []).map((y, i) => ({ series, x: xs[i]!, y })));
}

/** What the Figure 2b points are, and each line's best (its shading's top), for the lines it has. */
export function paperNotes(names: readonly string[]): string[] {
  return names
    .filter((n) => FIG2B_BEST[n] !== undefined)
    .map((n) => `paper (CIFAR-10, Figure 2b): ${n} test accuracy at 5k steps and at the end (51 epochs); its best ${FIG2B_BEST[n]}`);
}
