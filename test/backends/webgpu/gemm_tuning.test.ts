// The GEMM tile tuner (src/backends/webgpu/kernels/gemm_tuning.ts):
// - every candidate tile gives bitwise the same result as the default one, for each kind of product
//   (forward conv with bias+ReLU, strided input gradient, split-K filter gradient, the fused conv and
//   dense backward kernels), and the tile pinned for a product is the one its dispatch uses;
// - the tuner keeps the fastest candidate by its measurements, and only candidates the device can run;
// - on the device it times real dispatches, and later calls use what it chose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { randomArray, recordDispatchGrids, webgpuOrSkipReason, type Tf } from './helpers.js';
import { candidateTiles, GemmTuner, gemmTuner, tuneBudgetFromEnv, tuneModeFromEnv, tuneTilesFromEnv, type GemmSite } from '../../../src/backends/webgpu/kernels/gemm_tuning.js';
import { GEMM_TILES, TILE_64, tileKey, type GemmTile } from '../../../src/backends/webgpu/kernels/gemm_shader.js';
import { tileFor } from '../../../src/backends/webgpu/kernels/conv_gemm_specs.js';

// The device test tunes for real; nothing of it is saved for later runs.
process.env['RETHINK_WEBGPU_TUNE_CACHE'] = 'off';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

interface KernelCase {
  readonly name: string;
  readonly kernel: string;
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  readonly attrs: Record<string, unknown>;
}

const conv = (strides: number, pad: 'same' | 'valid'): Record<string, unknown> => ({ strides: [strides, strides], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });

const CASES: readonly KernelCase[] = [
  {
    name: 'FusedConv2D bias+relu, stride 2',
    kernel: 'FusedConv2D',
    inputs: { x: [2, 9, 9, 5], filter: [3, 3, 5, 12], bias: [12] },
    attrs: { ...conv(2, 'same'), activation: 'relu', leakyreluAlpha: 0.2 },
  },
  { name: 'Conv2DBackpropInput, stride 2', kernel: 'Conv2DBackpropInput', inputs: { dy: [2, 5, 5, 12], filter: [3, 3, 5, 12] }, attrs: { ...conv(2, 'same'), inputShape: [2, 9, 9, 5] } },
  // K = 2·16·16 = 512 over two splits, then their sum.
  { name: 'Conv2DBackpropFilter, split over K', kernel: 'Conv2DBackpropFilter', inputs: { x: [2, 16, 16, 4], dy: [2, 16, 16, 6] }, attrs: { ...conv(1, 'same'), filterShape: [3, 3, 4, 6] } },
  {
    name: 'RethinkConvGrad relu with dx, split over K',
    kernel: 'RethinkConvGrad',
    inputs: { x: [2, 16, 16, 4], W: [3, 3, 4, 6], dy: [2, 16, 16, 6], y: [2, 16, 16, 6] },
    attrs: { strides: [1, 1], pad: 'same', relu: true, inputGrad: true },
  },
  { name: 'RethinkDenseGrad relu with dx', kernel: 'RethinkDenseGrad', inputs: { x: [37, 70], W: [70, 40], dy: [37, 40], y: [37, 40] }, attrs: { relu: true, inputGrad: true } },
];

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Runs the case's kernel once on webgpu; every output's bits, and the dispatch grids it used. */
async function runCase(tf: Tf, c: KernelCase): Promise<{ outputs: Uint32Array[]; grids: [number, number, number][] }> {
  const ts: Record<string, tfType.Tensor> = {};
  for (const [name, shape] of Object.entries(c.inputs)) ts[name] = tf.tensor(randomArray(3, `${c.name}/${name}`, size(shape)), [...shape]);
  const rec = recordDispatchGrids(tf);
  const out = tf.engine().runKernel(c.kernel, ts as unknown as tfType.NamedTensorMap, c.attrs as tfType.NamedAttrMap) as tfType.Tensor | tfType.Tensor[];
  const grids = rec.stop();
  const list = Array.isArray(out) ? out : [out];
  const outputs = await Promise.all(list.map(async (t) => new Uint32Array(((await t.data()) as Float32Array).slice().buffer)));
  tf.dispose([...list, ...Object.values(ts)]);
  return { outputs, grids };
}

// Every tile's shaders take seconds to compile on llvmpipe, so the tiles are shared out among the
// cases (fewer to the kernels that run two GEMMs): each tile is checked on one case. The dense case
// (70 and 40 columns) gets the 48-, 80- and 96-wide tiles, whose loads do not divide among their threads.
const SHARES = [3, 4, 3, 1, 4];
const tilesFor = (i: number): GemmTile[] => {
  const start = SHARES.slice(0, i).reduce((a, b) => a + b, 0);
  return GEMM_TILES.slice(start, start + SHARES[i]!);
};

for (const [i, c] of CASES.entries()) {
  test(`GEMM tiles ${tilesFor(i).map(tileKey).join(', ')} give bitwise the default tile's result: ${c.name}`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    await tf.setBackend('webgpu');
    gemmTuner.reset();
    const want = await runCase(tf, c);
    const sites = gemmTuner.pendingSites();
    assert.ok(sites.length >= 1, `${c.kernel} registered its GEMMs with the tuner`);
    for (const tile of tilesFor(i)) {
      for (const s of sites) gemmTuner.set(s.key, tile);
      const got = await runCase(tf, c);
      for (const s of sites) {
        const grid = got.grids.find(([x, y]) => x === Math.ceil(s.n / tile.tn) && y === Math.ceil(s.m / tile.tm));
        assert.ok(grid !== undefined, `${s.key} runs on tile ${tileKey(tile)}: grids ${JSON.stringify(got.grids)}`);
      }
      assert.equal(got.outputs.length, want.outputs.length);
      for (const [i, bits] of got.outputs.entries()) {
        assert.deepEqual(bits, want.outputs[i], `${c.name}: output ${i} with tile ${tileKey(tile)} differs from the default tile's`);
      }
    }
    gemmTuner.reset();
  });
}

const LIMITS = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 16384, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256 };

/** A site whose kernel is never built: the tuner under test only measures through `measure`. */
function fakeSite(key: string, m: number, n: number): GemmSite {
  return {
    key,
    m,
    n,
    bindingBytes: [],
    kernel: () => {
      throw new Error('not built in this test');
    },
  };
}

test('the tuner times candidates for the slowest products, keeps the fastest, and the default on a tie', async () => {
  const tuner = new GemmTuner();
  const narrow = GEMM_TILES.find((t) => t.tm === 128 && t.tn === 32 && t.prefetch !== true)!;
  // Registration hands out the fallback until the product is tuned.
  assert.equal(tuner.tile('a', TILE_64, () => fakeSite('a', 100_000, 32)), TILE_64);
  assert.equal(tuner.tile('b', TILE_64, () => fakeSite('b', 5000, 200)), TILE_64);
  // c takes 1% of the time: not worth timing its candidates.
  assert.equal(tuner.tile('c', TILE_64, () => fakeSite('c', 5000, 200)), TILE_64);
  assert.equal(tuner.pendingCount, 3);
  const measured: string[] = [];
  const report = await tuner.tune(LIMITS, async (site, tile) => {
    measured.push(`${site.key}:${tileKey(tile)}`);
    if (site.key === 'a') return tile === narrow ? 1 : 2; // the narrow tile wins for 32 columns
    if (site.key === 'c') return 0.04;
    return 1; // b: all equal, so it keeps its default
  });
  assert.equal(report.sites, 3);
  assert.equal(report.tuned, 2);
  assert.equal(report.changed, 1);
  assert.equal(tuner.pendingCount, 0);
  const dummy = (): GemmSite => assert.fail('a tuned product is not registered again');
  assert.equal(tuner.tile('a', TILE_64, dummy), narrow);
  assert.equal(tuner.tile('b', TILE_64, dummy), TILE_64);
  assert.equal(tuner.tile('c', TILE_64, dummy), TILE_64);
  assert.deepEqual(
    report.choices.map((x) => [x.key, x.tile]),
    [
      ['a', tileKey(narrow)],
      ['b', tileKey(TILE_64)],
    ],
  );
  // First every fallback once, then the tuned products' other candidates three times each (interleaved).
  const fk = tileKey(TILE_64);
  assert.deepEqual(measured.slice(0, 3), [`a:${fk}`, `b:${fk}`, `c:${fk}`]);
  const aTiles = candidateTiles(100_000, 32, TILE_64, LIMITS).length;
  assert.equal(measured.filter((x) => x.startsWith('a:')).length, 1 + 3 * aTiles);
  assert.equal(measured.filter((x) => x.startsWith('c:')).length, 1);
  assert.notEqual(measured[4], measured[3]);
  // What a later process takes: the timed products only (c was never timed, so it may be next time).
  assert.deepEqual(tuner.saved(), { a: tileKey(narrow), b: tileKey(TILE_64) });
  const later = new GemmTuner();
  assert.equal(later.restore({ ...tuner.saved(), d: 'no-such-tile', e: 7 }), 2);
  assert.equal(later.tile('a', TILE_64, () => assert.fail('restored, so not registered')), narrow);
  assert.equal(later.tile('c', TILE_64, () => fakeSite('c', 5000, 200)), TILE_64);
  assert.equal(later.pendingCount, 1);
  assert.deepEqual(Object.keys(later.saved()), ['a', 'b']);
});

test('past its time budget the tuner leaves the remaining products on their fallback', async () => {
  const tuner = new GemmTuner();
  tuner.tile('a', TILE_64, () => fakeSite('a', 100_000, 32));
  tuner.tile('b', TILE_64, () => fakeSite('b', 5000, 200));
  let calls = 0;
  const report = await tuner.tune(
    LIMITS,
    async () => {
      calls++;
      return 1;
    },
    undefined,
    GEMM_TILES,
    0,
  );
  assert.deepEqual([report.sites, report.tuned, report.changed, report.choices.length], [2, 0, 0, 0]);
  assert.equal(calls, 2, 'only the fallbacks were timed');
  assert.equal(tuner.pendingCount, 0);
  assert.equal(tuner.tile('a', TILE_64, () => assert.fail('not registered again')), TILE_64);
  assert.equal(tuneBudgetFromEnv(undefined), 20);
  assert.equal(tuneBudgetFromEnv('2.5'), 2.5);
  assert.throws(() => tuneBudgetFromEnv('soon'), /RETHINK_WEBGPU_TUNE_BUDGET_S=soon: expected a number of seconds/);
  assert.throws(() => tuneModeFromEnv('yes'), /RETHINK_WEBGPU_TUNE=yes: expected auto, on or off/);
  assert.deepEqual(tuneTilesFromEnv(' 64x32x16_4x4,64x64x16_4x4p ').map(tileKey), ['64x32x16_4x4', '64x64x16_4x4p']);
  assert.equal(tuneTilesFromEnv(''), GEMM_TILES);
  assert.throws(() => tuneTilesFromEnv('64x64'), /RETHINK_WEBGPU_TUNE_TILES: unknown tile '64x64'; known: 64x64x16_4x4, /);
});

test('a candidate that fails on the device (Infinity) is never chosen; an untimeable fallback is left alone', async () => {
  const tuner = new GemmTuner();
  tuner.tile('a', TILE_64, () => fakeSite('a', 100_000, 512));
  tuner.tile('b', TILE_64, () => fakeSite('b', 100_000, 512));
  const big = GEMM_TILES.find((t) => t.tm === 128 && t.tn === 128 && t.prefetch !== true)!;
  const report = await tuner.tune(LIMITS, async (site, tile) => {
    if (site.key === 'b') return Infinity;
    return tile === big ? Infinity : tile === TILE_64 ? 2 : 3; // the "fastest" one fails; the rest are slower
  });
  assert.deepEqual([report.sites, report.tuned, report.changed], [2, 1, 0]);
  assert.equal(tuner.tile('a', TILE_64, () => assert.fail('tuned')), TILE_64);
  assert.equal(tuner.tile('b', TILE_64, () => assert.fail('settled')), TILE_64);
});

test('candidates: the fallback first, then tiles the device can run that are not mostly padding', () => {
  const all = candidateTiles(100_000, 512, TILE_64, LIMITS);
  assert.equal(all[0], TILE_64);
  const powerOfTwoWide = GEMM_TILES.filter((t) => [32, 64, 128].includes(t.tn));
  assert.deepEqual(all.map(tileKey), powerOfTwoWide.map(tileKey), 'a large product tries every 32-, 64- and 128-wide tile');
  // The other widths where they pad less than 64 does: 80 columns fit 80 and 96 (and 2×48), not 128.
  const widths = (n: number): number[] => [...new Set(candidateTiles(100_000, n, TILE_64, LIMITS).map((t) => t.tn))].sort((a, b) => a - b);
  assert.deepEqual(widths(80), [32, 48, 64, 80, 96, 128]);
  assert.deepEqual(widths(160), [32, 64, 80, 128]);
  assert.deepEqual(widths(144), [32, 48, 64, 80, 128]);
  assert.deepEqual(widths(112), [32, 64, 128]);
  // 16 KiB of workgroup memory but only 128 threads: the 256-thread tiles drop out.
  const small = candidateTiles(100_000, 512, TILE_64, { ...LIMITS, maxComputeInvocationsPerWorkgroup: 128 });
  assert.deepEqual(
    small.slice(1).map(tileKey),
    GEMM_TILES.filter((t) => (t.tm / t.rm) * (t.tn / t.rn) <= 128).map(tileKey),
  );
  // 10 columns: no candidate 64 or more wide beyond the fallback.
  const thin = candidateTiles(100_000, 10, TILE_64, LIMITS);
  assert.ok(thin.slice(1).every((t) => t.tn <= 32), thin.map(tileKey).join(' '));
});

test('tuning on the device times real dispatches; later calls use its choice', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  await tf.setBackend('webgpu');
  const { tuneRegisteredGemms } = await import('../../../src/backends/webgpu/tune.js');
  gemmTuner.reset();
  const c = CASES.at(-1)!;
  const want = await runCase(tf, c);
  // auto skips a software adapter (llvmpipe here); `on` tunes anyway.
  assert.equal(await tuneRegisteredGemms(tf, 'auto'), null);
  assert.equal(gemmTuner.pendingCount, 2);
  // One candidate besides each default (every tile's shaders take seconds to compile on llvmpipe).
  const report = await tuneRegisteredGemms(tf, 'on', tuneTilesFromEnv('64x32x16_4x4'));
  assert.ok(report !== null);
  assert.equal(report.sites, 2);
  for (const choice of report.choices) {
    const times = Object.values(choice.ms);
    assert.ok(times.length === 2 && times.every((t) => t > 0 && Number.isFinite(t)), `${choice.key}: ${JSON.stringify(choice.ms)}`);
    assert.equal(Math.min(...times), choice.ms[choice.tile], `${choice.key} keeps its fastest tile`);
  }
  const got = await runCase(tf, c);
  // Products outside the slowest 95% keep their default tile.
  const chosen = new Map(report.choices.map((x) => [x.key, GEMM_TILES.find((t) => tileKey(t) === x.tile)!] as [string, GemmTile]));
  assert.ok(report.tuned >= 1 && report.tuned === report.choices.length);
  const dx = chosen.get('rethink_dense_dx_37_70_40_true') ?? tileFor(37, 70);
  const dw = chosen.get('rethink_dense_dw_37_70_40_true') ?? tileFor(71, 40);
  assert.deepEqual(got.grids, [
    [Math.ceil(70 / dx.tn), Math.ceil(37 / dx.tm), 1],
    [Math.ceil(40 / dw.tn), Math.ceil(71 / dw.tm), 1],
  ]);
  assert.deepEqual(got.outputs, want.outputs);
  gemmTuner.reset();
});

test('the cases check every tile between them, those that prefetch included', () => {
  const checked = new Set(CASES.flatMap((_, i) => tilesFor(i)));
  assert.equal(checked.size, GEMM_TILES.length);
  assert.ok(GEMM_TILES.some((t) => t.prefetch === true));
});

test('default tiles: 128 rows for large products, 32 rows or columns where 64 would be mostly padding', () => {
  const key = (m: number, n: number): string => tileKey(tileFor(m, n));
  assert.equal(key(100_352, 96), '128x64x16_8x4'); // a 28×28 layer at batch 128
  assert.equal(key(100_352, 32), '128x32x16_8x4'); // its 32-channel branch
  assert.equal(key(25_088, 80), '64x64x16_4x4');
  assert.equal(key(25_088, 24), '64x32x16_4x4');
  assert.equal(key(16, 512), '32x64x16_4x4'); // a dense layer at batch 16
  assert.equal(key(16, 10), '32x32x16_4x4'); // its logits
  for (const [m, n] of [
    [1, 1],
    [33, 33],
    [1e6, 1e3],
  ] as const) {
    assert.ok(GEMM_TILES.includes(tileFor(m, n)), `${m}×${n} gets a tile the tuner knows`);
  }
});
