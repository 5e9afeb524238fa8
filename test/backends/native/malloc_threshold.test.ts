// raiseMallocThreshold (malloc_threshold.ts): after it, ORT runs whose intermediates glibc used to
// trim from its heap at the end of every run (and fault in again on the next) stop faulting.
// Each case runs in a fresh process, since the threshold is process-wide and only ever rises.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { RAISE_FLOATS } from '../../../src/backends/native/malloc_threshold.js';

const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;

/**
 * Page faults of 6 runs (after 8 untimed ones), in a fresh process, of a graph whose eight 1 MiB
 * intermediates all live until its last node: once the first run has freed them, glibc's threshold is
 * 1 MiB and its trim threshold 2 MiB, so it trims the heap's top after every run.
 */
function faultsInChild(raise: boolean): { faults: number; sum: number } {
  const runtime = new URL('../../../src/backends/native/ort_runtime.js', import.meta.url).href;
  const threshold = new URL('../../../src/backends/native/malloc_threshold.js', import.meta.url).href;
  const code = `
    import { loadOrtRuntime } from ${JSON.stringify(runtime)};
    import { raiseMallocThreshold } from ${JSON.stringify(threshold)};
    const r = await loadOrtRuntime(1, false);
    if (!r.ok) throw new Error(r.detail);
    const sum = ${raise} ? raiseMallocThreshold(r.runtime) : -1;
    const n = 1 << 18, f = 1;
    const chain = Array.from({ length: 8 }, (_, i) => ({ op: i % 2 ? 'Mul' : 'Add', inputs: [i === 0 ? 'x' : 'a' + (i - 1), 'x'], outputs: ['a' + i] }));
    const session = r.runtime.createSession({
      nodes: [
        ...chain,
        { op: 'Sum', inputs: chain.map((c) => c.outputs[0]), outputs: ['s'] },
        { op: 'ReduceSum', inputs: ['s'], outputs: ['y'], attrs: { keepdims: { kind: 'int', value: 0 } } },
      ],
      inputs: [{ name: 'x', type: f, shape: [n] }],
      outputs: [{ name: 'y', type: f, shape: [] }],
    }, 'disabled');
    const x = new Float32Array(n).fill(0.5), y = new Float32Array(1);
    const run = () => session.run({ x: { data: x, dims: [n] } }, { y: { data: y, dims: [] } });
    for (let i = 0; i < 8; i++) run();
    const f0 = process.resourceUsage().minorPageFault;
    for (let i = 0; i < 6; i++) run();
    console.log(JSON.stringify({ faults: process.resourceUsage().minorPageFault - f0, sum }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { faults: number; sum: number };
}

test('after the raise, runs whose intermediates glibc trimmed every time no longer fault them in', { skip: glibc === undefined ? 'not glibc' : false }, () => {
  const before = faultsInChild(false);
  const after = faultsInChild(true);
  assert.equal(after.sum, RAISE_FLOATS, 'the raising graph ran and summed its 32 MiB intermediate');
  // Trimmed and refaulted every run (measured: ≈ 225 pages a run); kept on the heap: next to none.
  assert.ok(before.faults > 6 * 100, `without the raise: ${before.faults} faults (the case no longer reproduces glibc's trimming)`);
  assert.ok(after.faults < before.faults / 10, `with the raise: ${after.faults} faults against ${before.faults}`);
});
