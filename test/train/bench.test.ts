import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs } from '../../src/bench/args.js';
import { bench, type BenchReport } from '../../src/bench/main.js';

test('bench options parse, with errors as values', () => {
  const ok = parseBenchArgs(['--models', 'mlp_1x512,small_alexnet', '--steps=3', '--warmup', '0', '--json', '--backend', 'cpu']);
  assert.ok(ok.ok);
  assert.deepEqual(ok.args.models, ['mlp_1x512', 'small_alexnet']);
  assert.deepEqual([ok.args.steps, ok.args.warmup, ok.args.json, ok.args.backend, ok.args.batch], [3, 0, true, 'cpu', 128]);
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
  assert.equal(r.backend.name, 'cpu');
  assert.ok(typeof r.backend.versions['tfjs'] === 'string' || Object.keys(r.backend.versions).length > 0);
  assert.equal(r.models.length, 1);
  const m = r.models[0]!;
  assert.equal(m.model, 'mlp_1x512');
  assert.equal(m.params, 1_209_866);
  assert.equal(m.stepMs.length, 2);
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
