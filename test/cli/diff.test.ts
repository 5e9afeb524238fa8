import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withShardBytes } from '../support/shards.js';
import { project } from '../support/tmp-project.js';

/** Metrics that follow p and the seed, and a tensor output that follows p only. */
const PLUGIN = `
import { writeFile } from 'node:fs/promises';
export const plugin = {
  name: 'fit', version: '1', description: 'fake training', inputs: {},
  params: { type: 'object', properties: { p: { type: 'number' }, lr: { type: 'number', default: 0.1 } }, required: ['p'], additionalProperties: false },
  outputs: { metrics: { kind: 'json' }, weights: { kind: 'tensors' } },
  async run(ctx) {
    await ctx.writeJson('metrics', { acc: 1 - ctx.params.p / 2 - ctx.seed / 100, lr: ctx.params.lr });
    await ctx.writeTensors('weights', { w: { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4 + ctx.params.p]) } });
  },
};
`;
const PIPELINE = 'seed: 1\nstages:\n  fit:\n    uses: ./fit.mjs\n    matrix: { p: [0, 1] }\n    with: { p: "${matrix.p}" }\n';

test('diff names the causes (key record), the effects (outputs) and the environment of two results', async () => {
  const p = await project({ 'fit.mjs': PLUGIN, 'p.yaml': PIPELINE });
  await p.run('p.yaml');
  const d = await p.cli('diff', 'fit[p=0]', 'fit[p=1]', 'p.yaml');
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stdout, /^A {2}fit\[p=0\] {2}key [0-9a-f]{12} {2}ran \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\nB {2}fit\[p=1\] /);
  assert.match(d.stdout, /\nkey: 1 difference\n {2}param p 0 → 1\n/);
  assert.match(d.stdout, /\noutputs: 2 of 2 differ\n {2}metrics\n {4}acc: 0\.99 → 0\.49\n {2}weights\n {4}1 of 1 tensor differ\n {4}w: 1 of 4 values differ, max \|Δ\| 1\.0e\+0\n/);
  assert.doesNotMatch(d.stdout, /provenance/, 'one machine, one run: nothing but timings differ');

  const self = await p.cli('diff', 'fit[p=0]', 'fit[p=0]', 'p.yaml');
  assert.equal(self.code, 0);
  assert.match(self.stdout, /key: the same .*\noutputs: the same bytes \(2\)\n$/);
});

test('diff takes key prefixes of any run record: a result against the one it superseded', async () => {
  const p = await project({ 'fit.mjs': PLUGIN, 'p.yaml': PIPELINE });
  await p.run('p.yaml', '--only', 'fit[p=0]');
  await p.run('p.yaml', '--only', 'fit[p=0]', '--set', 'fit.with.lr=0.5', '--set', 'seed=2');
  const runs = (JSON.parse((await p.cli('runs', '--json')).stdout) as { runs: { key: string; current: boolean }[] }).runs;
  const [now, then] = runs.map((r) => r.key.slice(0, 8));
  const d = await p.cli('diff', then!, now!, '--json');
  assert.equal(d.code, 1);
  const doc = JSON.parse(d.stdout) as { sameKey: boolean; key: string[]; outputs: { output: string; details: string[] }[]; same: boolean };
  assert.deepEqual(doc.key, ['seed 1 → 2', 'param lr 0.1 → 0.5']);
  assert.deepEqual(doc.outputs.map((o) => [o.output, o.details]), [['metrics', ['acc: 0.99 → 0.98', 'lr: 0.1 → 0.5']]]);
  assert.equal(doc.same, false);

  // An instance against a key, in either order.
  const mixed = await p.cli('diff', then!, 'fit[p=0]', 'p.yaml', '--set', 'fit.with.lr=0.5', '--set', 'seed=2');
  assert.match(mixed.stdout, /\nkey: 2 differences\n/);
  const reversed = await p.cli('diff', 'fit[p=0]', then!, 'p.yaml', '--set', 'fit.with.lr=0.5', '--set', 'seed=2');
  assert.match(reversed.stdout, /\n {2}seed 2 → 1\n {2}param lr 0\.5 → 0\.1\n/);

  const unknown = await p.cli('diff', 'abcdef0', now!);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no run record in .* has a key starting with abcdef0/);
  const notRun = await p.cli('diff', 'fit[p=0]', 'fit[p=1]', 'p.yaml');
  assert.equal(notRun.code, 2);
  assert.match(notRun.stderr, /fit\[p=1\] has not run yet \(never run\)/);
  assert.equal((await p.cli('diff', 'fit[p=0]')).code, 2);
});

test('diff names the upstream instance behind each input that changed', async () => {
  const { SWEEP, TEST_PLUGINS } = await import('../support/tmp-project.js');
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  await p.run('p.yaml');
  const d = await p.cli('diff', 'train[p=0,seed=1]', 'train[p=0.5,seed=1]', 'p.yaml');
  assert.equal(d.code, 1, d.stderr);
  // The sweep's inputs are lists: one upstream instance in place of another is named as such.
  assert.match(d.stdout, /\nkey: 1 difference\n {2}input x: corrupt\[p=0\] → corrupt\[p=0\.5\]\n/);
});

test('diff names the upstream instance of a single input too', async () => {
  const json = "{ kind: 'json' }";
  const p = await project({
    'make.mjs': `export const plugin = { name: 'make', version: '1', description: 'x', params: { type: 'object', properties: { p: { type: 'number' } } }, inputs: {}, outputs: { out: ${json} },
      async run(ctx) { await ctx.writeJson('out', { p: ctx.params.p }); } };`,
    'use.mjs': `export const plugin = { name: 'use', version: '1', description: 'x', params: { type: 'object' }, inputs: { data: ${json} }, outputs: { out: ${json} },
      async run(ctx) { await ctx.writeJson('out', await ctx.inputs.data.readJson()); } };`,
    'p.yaml': `stages:
  make: { uses: ./make.mjs, matrix: { p: [0, 1] }, with: { p: "\${matrix.p}" } }
  use: { uses: ./use.mjs, matrix: { p: [0, 1] }, inputs: { data: make } }
`,
  });
  await p.run('p.yaml');
  const d = await p.cli('diff', 'use[p=0]', 'use[p=1]', 'p.yaml');
  assert.match(d.stdout, /\n {2}input data changed \(make\[p=0\] → make\[p=1\]: [0-9a-f]{10} → [0-9a-f]{10}\)\n/);
  // `status`, which has no second instance to name, keeps to the hashes.
  const st = await p.cli('status', 'p.yaml', '--set', 'make.matrix.p=[0, 2]', '--set', 'use.matrix.p=[0, 2]');
  assert.doesNotMatch(st.stdout, /make\[p=0\] →/);
});

/** A tensors output big enough to be sharded at a small RETHINK_SHARD_BYTES: rows 30–32 follow p. */
const SHARDED = `
export const plugin = {
  name: 'big', version: '1', description: 'a sharded tensors output', inputs: {},
  params: { type: 'object', properties: { p: { type: 'number' } }, required: ['p'], additionalProperties: false },
  outputs: { table: { kind: 'tensors' } },
  async run(ctx) {
    const rows = 40, cols = 4;
    const x = new Float32Array(rows * cols).map((_, i) => i);
    for (let r = 30; r < 33; r++) x[r * cols + 1] += ctx.params.p;
    const y = new Int32Array(rows).map((_, i) => (i === 5 ? ctx.params.p * 7 : i));
    const w = await ctx.createTensorWriter('table', { x: { dtype: 'float32', shape: [rows, cols] }, y: { dtype: 'int32', shape: [rows] } });
    await w.write('x', new Uint8Array(x.buffer));
    await w.write('y', new Uint8Array(y.buffer));
    await w.close();
  },
};
`;

test('diff compares sharded tensor outputs tensor by tensor, as it does one-file ones', async () => {
  const p = await project({ 'big.mjs': SHARDED, 'p.yaml': 'stages:\n  big:\n    uses: ./big.mjs\n    matrix: { p: [0, 2] }\n    with: { p: "${matrix.p}" }\n' });
  const run = await withShardBytes(256, () => p.run('p.yaml'));
  assert.equal(run.code, 0, run.stderr);
  const doc = JSON.parse((await p.cli('show', 'big[p=0]', 'p.yaml', '--json')).stdout) as { outputs?: Record<string, { parts?: unknown[] }> };
  assert.ok((doc.outputs?.['table']?.parts?.length ?? 0) > 1, 'the output is sharded');
  const d = await p.cli('diff', 'big[p=0]', 'big[p=2]', 'p.yaml');
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stdout, /\n {2}table\n {4}2 of 2 tensors differ\n {4}x: 3 of 160 values differ, max \|Δ\| 2\.0e\+0\n {4}y: 1 of 40 values differ, max \|Δ\| 1\.4e\+1\n/);
});
