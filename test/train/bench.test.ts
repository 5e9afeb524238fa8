import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs } from '../../src/bench/args.js';
import { bench, type BenchReport } from '../../src/bench/main.js';
import { jitterLine, jitterOf } from '../../src/bench/jitter.js';
import type { StepSample } from '../../src/bench/measure.js';

test('bench options parse, with errors as values', () => {
  const ok = parseBenchArgs(['--models', 'mlp_1x512,small_alexnet', '--steps=3', '--warmup', '0', '--json', '--backend', 'cpu']);
  assert.ok(ok.ok);
  assert.deepEqual(ok.args.models, ['mlp_1x512', 'small_alexnet']);
  assert.deepEqual([ok.args.steps, ok.args.warmup, ok.args.json, ok.args.backend, ok.args.batches, ok.args.rounds], [3, 0, true, 'cpu', [128], 1]);
  const sizes = parseBenchArgs(['--batch', '32,128,512', '--rounds', '3']);
  assert.ok(sizes.ok);
  assert.deepEqual([sizes.args.batches, sizes.args.rounds], [[32, 128, 512], 3]);
  assert.ok(!parseBenchArgs(['--batch', '32,0']).ok);
  assert.ok(!parseBenchArgs(['--batch', '32,x']).ok);
  assert.ok(!parseBenchArgs(['--rounds', '0']).ok);
  const bad = parseBenchArgs(['--models', 'resnet']);
  assert.ok(!bad.ok && /unknown resnet/.test(bad.message));
  assert.ok(!parseBenchArgs(['--steps', '0']).ok);
  assert.ok(!parseBenchArgs(['--frobnicate']).ok);
});

test('bench --json: one JSON object with backend, versions, images/second and top kernels per model', async () => {
  const lines: string[] = [];
  const code = await bench(['--backend', 'cpu', '--models', 'mlp_1x512', '--batch', '4', '--warmup', '0', '--steps', '2', '--top', '50', '--json'], (s) => lines.push(s), () => {});
  assert.equal(code, 0);
  const r = JSON.parse(lines.join('\n')) as BenchReport;
  assert.equal(r.format, 1);
  assert.equal(r.backend.name, 'cpu');
  assert.ok(typeof r.backend.versions['tfjs'] === 'string' || Object.keys(r.backend.versions).length > 0);
  assert.equal(r.models.length, 1);
  const m = r.models[0]!;
  assert.equal(m.model, 'mlp_1x512');
  assert.equal(m.params, 1_209_866);
  assert.equal(m.stepMs.length, 2);
  assert.equal(m.step, 'ops');
  assert.deepEqual(m.samples.map((x) => x.ms), m.stepMs);
  assert.ok(m.samples.every((x) => x.gcMs >= 0 && x.cpuMs >= 0 && x.minorFaults >= 0 && x.involuntarySwitches >= 0));
  assert.ok(m.imagesPerSecond.best >= m.imagesPerSecond.median && m.imagesPerSecond.median > 0);
  // The figure compared with PyTorch is total images ÷ total time, never the fastest step's rate.
  const totalMs = m.stepMs.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(m.imagesPerSecond.mean - (2 * 4 * 1000) / totalMs) < 1e-9 * m.imagesPerSecond.mean);
  assert.ok(m.imagesPerSecond.mean <= m.imagesPerSecond.best);
  const sorted = [...m.stepMs].sort((a, b) => a - b);
  assert.deepEqual(m.stepSpreadMs, { min: sorted[0], median: sorted[1], max: sorted[1] });
  assert.ok(m.kernels!.length > 3 && m.kernels!.length <= 50);
  assert.ok(m.kernels!.some((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul'), JSON.stringify(m.kernels));
  assert.ok(m.kernels!.every((k, i) => i === 0 || m.kernels![i - 1]!.ms >= k.ms), 'sorted by time');
  assert.ok(!m.kernels!.some((k) => k.name.endsWith('__op') || k.name === 'unnamed scope'));
});

test('bench --batch a,b --rounds N: each model at each batch size, the best of N rounds by mean', async () => {
  const lines: string[] = [];
  const code = await bench(['--backend', 'cpu', '--models', 'mlp_1x512', '--batch', '2,3', '--rounds', '2', '--warmup', '0', '--steps', '1', '--no-profile', '--json'], (s) => lines.push(s), () => {});
  assert.equal(code, 0);
  const r = JSON.parse(lines.join('\n')) as BenchReport;
  assert.deepEqual([r.batches, r.rounds], [[2, 3], 2]);
  assert.deepEqual(r.models.map((m) => [m.model, m.batch]), [['mlp_1x512', 2], ['mlp_1x512', 3]]);
  for (const m of r.models) {
    assert.equal(m.roundMeans.length, 2);
    assert.equal(m.imagesPerSecond.mean, Math.max(...m.roundMeans));
    assert.equal(m.jitter.steps, 1);
  }
});

test('jitter: the slow steps (≥ 1.5× the median) against the typical ones, by median', () => {
  const step = (ms: number, more: Partial<StepSample> = {}): StepSample => ({ steps: 1, ms, cpuMs: 2 * ms, gcMs: 0, minorFaults: 0, majorFaults: 0, voluntarySwitches: 1, involuntarySwitches: 0, heapBytes: 1024, ...more });
  const j = jitterOf([step(10), step(11), step(10), step(30, { gcMs: 12, cpuMs: 30 }), step(9), step(25, { involuntarySwitches: 40, gcMs: 12, cpuMs: 25 })]);
  assert.equal(j.slow, 2);
  assert.equal(j.steps, 6);
  assert.deepEqual([j.typical.ms, j.typical.gcMs, j.typical.cpuPerWall], [10, 0, 2]);
  assert.deepEqual([j.slowSteps!.ms, j.slowSteps!.gcMs, j.slowSteps!.involuntarySwitches, j.slowSteps!.cpuPerWall], [30, 12, 40, 1]);
  assert.match(jitterLine(j), /^2 of 6 steps took ≥ 1\.5× the median .*GC ms 12\.0 vs 0\.0/);
  const even = jitterOf([step(10), step(11)]);
  assert.equal(even.slow, 0);
  assert.equal(even.slowSteps, undefined);
  assert.match(jitterLine(even), /^no step took/);
});
