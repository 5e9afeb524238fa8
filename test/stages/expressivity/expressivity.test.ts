import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { Rng } from '../../../src/util/random.js';
import { DuplicatePointsError, evaluate, fit, project } from '../../../stages/expressivity/construct.js';
import { expressivityPlugin } from '../../../stages/expressivity/plugin.js';

function points(n: number, d: number, seed: number): Float64Array {
  const rng = Rng.derive(seed, 'points');
  return Float64Array.from({ length: n * d }, () => rng.next());
}

test('Theorem 1: the 2n + d network fits any targets on n distinct points, from its weights alone', () => {
  for (const [n, d] of [[50, 3], [300, 20]] as const) {
    const z = points(n, d, n);
    const rng = Rng.derive(1, 'y');
    const y = Float64Array.from({ length: n }, () => rng.int(10));
    const r = fit(z, n, d, y, 7);
    assert.equal(r.net.a.length + r.net.b.length + r.net.w.length, 2 * n + d);
    assert.ok(r.maxErrorF64 < 1e-8, `n=${n}: ${r.maxErrorF64}`);
    for (const i of [0, n >> 1, n - 1]) assert.ok(Math.abs(evaluate(r.net, z, i * d, d) - y[i]!) < 1e-8);
    // The thresholds interleave the sorted projections: b_1 < x_(1) < b_2 < … (A's diagonal is positive).
    const xs = Array.from({ length: n }, (_, i) => project(r.net.a, z, i * d, d)).sort((p, q) => p - q);
    xs.forEach((x, j) => assert.ok(r.net.b[j]! < x && (j + 1 === n || x < r.net.b[j + 1]!)));
    assert.equal(r.minDiagonal, Math.min(...xs.map((x, j) => x - r.net.b[j]!)));
  }
});

test("the same network in float32 misses the targets, more as n grows (the paper's construction is ill-conditioned)", () => {
  const errors = [20, 400].map((n) => {
    const z = points(n, 5, 3);
    const r = fit(z, n, 5, Float64Array.from({ length: n }, (_, i) => i % 10), 1);
    return [r.maxErrorF64, r.maxErrorF32, r.maxAbsWeight] as const;
  });
  assert.ok(errors[1]![1] > 100 * errors[0]![1], JSON.stringify(errors));
  assert.ok(errors[1]![2] > errors[0]![2]);
  assert.ok(errors.every(([f64, f32]) => f64 < 1e-6 && f32 > f64));
});

test('duplicate points cannot be separated: a user error naming them', () => {
  const z = Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.1, 0.2]);
  assert.throws(() => fit(z, 3, 2, new Float64Array(3), 1), (e: unknown) => e instanceof DuplicatePointsError && /points 0 and 2 project to the same value/.test(e.message));
});

test('the expressivity stage fits a dataset\'s first n images and writes the network and its measurements', async () => {
  const h = await createHarness();
  try {
    const [n, side] = [30, 4];
    const rng = Rng.derive(2, 'pixels');
    const x = Uint8Array.from({ length: 40 * side * side }, () => rng.int(256));
    const y = Int32Array.from({ length: 40 }, (_, i) => i % 10);
    const dataset = {
      tensors: {
        x_train: { dtype: 'uint8' as const, shape: [40, side, side, 1], data: x },
        y_train: { dtype: 'int32' as const, shape: [40], data: y },
        x_test: { dtype: 'uint8' as const, shape: [0, side, side, 1], data: new Uint8Array(0) },
        y_test: { dtype: 'int32' as const, shape: [0], data: new Int32Array(0) },
      },
    };
    const r = await h.run(expressivityPlugin, { params: { n, targets: 'random_labels' }, inputs: { dataset } });
    const m = await r.outputs['metrics']!.readJson<{ params: number; d: number; max_abs_error_f64: number; targets: string }>();
    assert.deepEqual([m.params, m.d, m.targets], [2 * n + 16, 16, 'random_labels']);
    assert.ok(m.max_abs_error_f64 < 1e-9);
    const net = await r.outputs['network']!.readTensors();
    assert.deepEqual(Object.fromEntries(Object.entries(net.tensors).map(([k, t]) => [k, `${t.dtype}[${t.shape}]`])), { a: 'float64[16]', b: `float64[${n}]`, w: `float64[${n}]` });
    // The stored network reproduces the labels of the images it was built on (pixels / 255).
    const [a, b, w] = await Promise.all(['a', 'b', 'w'].map(async (k) => (await net.read(k)).data as Float64Array));
    await net.close();
    const labels = await h.run(expressivityPlugin, { params: { n, targets: 'labels' }, inputs: { dataset } });
    const fitted = await labels.outputs['network']!.readTensors();
    const [la, lb, lw] = await Promise.all(['a', 'b', 'w'].map(async (k) => (await fitted.read(k)).data as Float64Array));
    await fitted.close();
    for (let i = 0; i < n; i++) {
      const z = Array.from(x.subarray(i * 16, (i + 1) * 16), (v) => v / 255);
      assert.ok(Math.abs(evaluate({ a: la!, b: lb!, w: lw! }, z, 0, 16) - y[i]!) < 1e-9);
    }
    assert.notDeepEqual(Array.from(w!), Array.from(lw!), 'random labels are other targets');
    assert.deepEqual(Array.from(a!), Array.from(la!), 'the direction a comes from the seed alone');
    assert.deepEqual(Array.from(b!), Array.from(lb!));
    await assert.rejects(
      h.run(expressivityPlugin, { params: { n: 41 }, inputs: { dataset } }),
      (e: unknown) => (e as { userError?: boolean }).userError === true && /n = 41, but the dataset has 40 training images/.test((e as Error).message),
    );
  } finally {
    await h.close();
  }
});

