import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { Rng } from '../../../src/util/random.js';
import { evaluate, fit } from '../../../stages/expressivity/construct.js';
import { deepen, forward } from '../../../stages/expressivity/deep.js';
import { expressivityPlugin } from '../../../stages/expressivity/plugin.js';

function points(n: number, d: number, seed: number): Float64Array {
  const rng = Rng.derive(seed, 'points');
  return Float64Array.from({ length: n * d }, () => rng.next());
}

test('Corollary 1: depth k, width ⌈n/(k−2)⌉ + 4 and ≤ 2d + 5n weights represent any labels of n points (float64)', () => {
  const [n, d] = [300, 20];
  const z = points(n, d, 5);
  const rng = Rng.derive(9, 'labels');
  const y = Float64Array.from({ length: n }, () => rng.int(10));
  const shallow = fit(z, n, d, y, 3);
  for (const depth of [3, 4, 7, 12]) {
    const deep = deepen(shallow.net, depth);
    assert.equal(deep.layers.length, depth, `depth ${depth}: weight layers`);
    assert.equal(deep.width, Math.ceil(n / (depth - 2)) + 4, `depth ${depth}: width O(n/k)`);
    assert.ok(deep.nonzeros <= 2 * d + 5 * n + 8 * depth, `depth ${depth}: ${deep.nonzeros} weights, O(n + d)`);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(forward(deep, z, i * d) - y[i]!));
    assert.ok(worst < 1e-6, `depth ${depth}: max error ${worst}`);
  }
  // Off the sample too, the deep network computes Theorem 1's function (it is the same function).
  const deep = deepen(shallow.net, 6);
  const other = points(50, d, 77);
  for (let i = 0; i < 50; i++) {
    const want = evaluate(shallow.net, other, i * d, d);
    assert.ok(Math.abs(forward(deep, other, i * d) - want) <= 1e-9 * Math.max(1, Math.abs(want)), `point ${i}`);
  }
});

test('Corollary 1 needs depth ≥ 3, and more groups than points leaves no layer empty', () => {
  const z = points(5, 2, 1);
  const net = fit(z, 5, 2, Float64Array.from([1, 0, 3, 2, 4]), 1).net;
  assert.throws(() => deepen(net, 2), /depth ≥ 3/);
  const deep = deepen(net, 20);
  assert.equal(deep.layers.length, 7, 'five groups of one hinge, plus the projection and the output');
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(forward(deep, z, i * 2) - [1, 0, 3, 2, 4][i]!) < 1e-9);
});

test('the expressivity stage with depth: k writes Corollary 1\'s layers and measures them', async () => {
  const h = await createHarness();
  try {
    const [n, side] = [24, 3];
    const rng = Rng.derive(4, 'pixels');
    const x = Uint8Array.from({ length: 30 * side * side }, () => rng.int(256));
    const y = Int32Array.from({ length: 30 }, (_, i) => i % 10);
    const dataset = {
      tensors: {
        x_train: { dtype: 'uint8' as const, shape: [30, side, side, 1], data: x },
        y_train: { dtype: 'int32' as const, shape: [30], data: y },
        x_test: { dtype: 'uint8' as const, shape: [0, side, side, 1], data: new Uint8Array(0) },
        y_test: { dtype: 'int32' as const, shape: [0], data: new Int32Array(0) },
      },
    };
    const r = await h.run(expressivityPlugin, { params: { n, targets: 'labels', depth: 5 }, inputs: { dataset } });
    const m = await r.outputs['metrics']!.readJson<{ depth: number; width: number; params: number; max_abs_error_f64: number }>();
    assert.deepEqual([m.depth, m.width], [5, Math.ceil(n / 3) + 4]);
    assert.ok(m.max_abs_error_f64 < 1e-9, String(m.max_abs_error_f64));
    const net = await r.outputs['network']!.readTensors();
    try {
      const shapes = Object.fromEntries(Object.entries(net.tensors).map(([k, t]) => [k, t.shape.join('×')]));
      assert.deepEqual(Object.keys(shapes).sort(), ['layer0.bias', 'layer0.weight', 'layer1.bias', 'layer1.weight', 'layer2.bias', 'layer2.weight', 'layer3.bias', 'layer3.weight', 'layer4.bias', 'layer4.weight']);
      assert.equal(shapes['layer0.weight'], `2×${side * side}`);
      assert.equal(shapes['layer4.weight'], `1×${Math.ceil(n / 3) + 4}`);
    } finally {
      await net.close();
    }
  } finally {
    await h.close();
  }
});
