// Raises glibc malloc's dynamic mmap threshold to its ceiling once, at start-up, so that the heap
// keeps the memory ONNX Runtime's runs free instead of handing it back to the kernel every step.
//
// ORT allocates every intermediate of a run with malloc (its per-session arenas are off: each would
// hold its session's peak) and frees it when the run ends. glibc serves a block above its mmap
// threshold with a fresh mapping, and trims the heap's top whenever more than twice that threshold
// lies free there; the next allocation faults its pages in again, ≈ 10 µs a page on this VM. The
// threshold starts at 128 KiB and rises to the size of the largest mapped block freed so far, at most
// 32 MiB (then the trim threshold is 64 MiB). A small-Inception step at batch 128 grew and trimmed
// ≈ 30 MB of heap every step (strace: brk up in 8 MB steps, then down), ≈ 9,600 page faults a step.
// One run of a graph whose only intermediate is just under 32 MiB (mapped, then freed) sets the
// threshold to the ceiling at once; malloc has no other knob a process can turn on itself after it
// starts (mallopt is not reachable from JS; GLIBC_TUNABLES is read at exec).
// Its cost, once per process that starts the native backend: the 32 MiB are written once, 8,200
// page faults, 130–135 ms on this VM (where a fault costs ≈ 10 µs; a few ms on hardware with cheap
// faults), against ≈ 100 ms of faults saved on every small-Inception step. ORT writes every
// intermediate it allocates, so no graph raises the threshold without touching its block.
// On other C libraries the run changes nothing.

import { OnnxType, type OnnxGraph } from '../../util/onnx-proto.js';
import type { OrtRuntime } from './ort_runtime.js';

/** glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems: the dynamic threshold's ceiling. */
const CEILING_BYTES = 32 << 20;
/** Floats of the intermediate: its block (with malloc's header and ORT's 64-byte alignment) stays at or under the ceiling. */
export const RAISE_FLOATS = (CEILING_BYTES - (64 << 10)) / 4;

/** x (one float) expanded to RAISE_FLOATS floats, summed back to one: a 32 MiB intermediate, nothing else. */
export function raiseGraph(): OnnxGraph {
  const f = OnnxType.float;
  return {
    nodes: [
      { op: 'Expand', inputs: ['x', 'shape'], outputs: ['big'] },
      { op: 'ReduceSum', inputs: ['big'], outputs: ['y'], attrs: { keepdims: { kind: 'int', value: 0 } } },
    ],
    initializers: [{ name: 'shape', dims: [1], values: [RAISE_FLOATS] }],
    inputs: [{ name: 'x', type: f, shape: [1] }],
    outputs: [{ name: 'y', type: f, shape: [] }],
  };
}

/** Runs raiseGraph once; returns the sum it read back (RAISE_FLOATS for x = 1), for the tests. */
export function raiseMallocThreshold(rt: OrtRuntime): number {
  const session = rt.createSession(raiseGraph(), 'disabled');
  try {
    const y = new Float32Array(1);
    session.run({ x: { data: new Float32Array([1]), dims: [1] } }, { y: { data: y, dims: [] } });
    return y[0] as number;
  } finally {
    session.dispose();
  }
}
