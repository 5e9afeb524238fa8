// What the slow steps of a measurement had that the typical ones did not: a garbage-collection
// pause, page faults, the OS taking a core away (involuntary context switches, with CPU time per
// wall time falling: the machine was busy), or threads waiting on each other (voluntary switches).
import type { StepSample } from './measure.js';

/** A step counts as slow from this multiple of the median step time. */
export const SLOW = 1.5;

export interface JitterReport {
  /** How many of the steps took ≥ SLOW × the median. */
  readonly slow: number;
  readonly steps: number;
  /** Medians over the typical steps and over the slow ones (undefined when there are none). */
  readonly typical: StepProfile;
  readonly slowSteps?: StepProfile;
}

export interface StepProfile {
  readonly ms: number;
  readonly gcMs: number;
  readonly minorFaults: number;
  readonly involuntarySwitches: number;
  readonly voluntarySwitches: number;
  /** CPU time ÷ wall time: about the thread count when every thread ran, lower when the OS took cores away. */
  readonly cpuPerWall: number;
  readonly heapKiB: number;
}

/** A run's time per step: a compiled step's chunk is one sample of several steps. */
const perStep = (s: StepSample): number => s.ms / s.steps;

export function jitterOf(samples: readonly StepSample[]): JitterReport {
  const median = medianOf(samples.map(perStep));
  const slow = samples.filter((s) => perStep(s) >= SLOW * median);
  const typical = samples.filter((s) => perStep(s) < SLOW * median);
  return { slow: slow.length, steps: samples.length, typical: profileOf(typical), ...(slow.length > 0 ? { slowSteps: profileOf(slow) } : {}) };
}

/** One line for people: e.g. "2 of 20 steps ≥ 1.5× the median: GC 6.1 ms vs 0; involuntary switches 14 vs 1; CPU/wall 0.9 vs 1.9". */
export function jitterLine(j: JitterReport): string {
  const t = j.typical;
  const s = j.slowSteps;
  if (s === undefined) return `no step took ≥ ${SLOW}× the median (typical: GC ${t.gcMs.toFixed(1)} ms, ${t.minorFaults} page faults, ${t.involuntarySwitches} involuntary switches, CPU/wall ${t.cpuPerWall.toFixed(1)})`;
  const pair = (label: string, a: number, b: number, digits = 0) => `${label} ${a.toFixed(digits)} vs ${b.toFixed(digits)}`;
  const pairs = [
    pair('ms', s.ms, t.ms, 1),
    pair('GC ms', s.gcMs, t.gcMs, 1),
    pair('page faults', s.minorFaults, t.minorFaults),
    pair('involuntary switches', s.involuntarySwitches, t.involuntarySwitches),
    pair('voluntary switches', s.voluntarySwitches, t.voluntarySwitches),
    pair('CPU/wall', s.cpuPerWall, t.cpuPerWall, 2),
    pair('heap KiB', s.heapKiB, t.heapKiB),
  ];
  return `${j.slow} of ${j.steps} steps took ≥ ${SLOW}× the median (slow vs typical, medians): ${pairs.join('; ')}`;
}

function profileOf(samples: readonly StepSample[]): StepProfile {
  const m = (f: (s: StepSample) => number): number => medianOf(samples.map(f));
  return {
    ms: m(perStep),
    gcMs: m((s) => s.gcMs),
    minorFaults: m((s) => s.minorFaults),
    involuntarySwitches: m((s) => s.involuntarySwitches),
    voluntarySwitches: m((s) => s.voluntarySwitches),
    cpuPerWall: m((s) => (s.ms > 0 ? s.cpuMs / s.ms : 0)),
    heapKiB: m((s) => s.heapBytes / 1024),
  };
}

/** The median (the upper one of an even count); 0 for none. */
function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
