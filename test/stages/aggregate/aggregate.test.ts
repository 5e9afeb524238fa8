import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHarness } from '../../../src/testing/harness.js';
import { aggregatePlugin } from '../../../stages/aggregate/plugin.js';

test('aggregate makes one row per fanned-in instance with its matrix and the chosen metrics', async () => {
  const h = await createHarness();
  const producer = {
    name: 'metrics', version: '1', description: 'x', params: { type: 'object' }, inputs: {},
    outputs: { out: { kind: 'json' as const } },
    run: async (ctx: { params: Record<string, unknown>; writeJson(o: string, v: unknown): Promise<void> }) =>
      ctx.writeJson('out', { final: { train: { acc: ctx.params.train }, test: { acc: ctx.params.test } } }),
  };
  const a = await h.run(producer, { params: { train: 1, test: 0.125 } });
  const b = await h.run(producer, { params: { train: 0.5, test: null } });
  const r = await h.run(aggregatePlugin, {
    params: { metrics: ['final.train.acc', 'final.test.acc', 'final.nope'], title: 'T', digits: 2 },
    inputs: { runs: [{ ...a.outputs.out!, origin: { stage: 'train', matrix: { p: 0, model: 'mlp' } } }, { ...b.outputs.out!, origin: { stage: 'train', matrix: { p: 0.5 } } }] },
  });
  const table = await r.outputs.table!.readJson<{ columns: string[]; rows: unknown[][] }>();
  assert.deepEqual(table.columns, ['p', 'model', 'final.train.acc', 'final.test.acc', 'final.nope']);
  assert.deepEqual(table.rows, [[0, 'mlp', 1, 0.125, null], [0.5, null, 0.5, null, null]]);
  assert.equal(await readFile(r.outputs.csv!.path, 'utf8'), 'p,model,final.train.acc,final.test.acc,final.nope\n0,mlp,1,0.125,\n0.5,,0.5,,\n');
  assert.equal(
    await readFile(r.outputs.markdown!.path, 'utf8'),
    '# T\n\n| p | model | final.train.acc | final.test.acc | final.nope |\n|---|---|---|---|---|\n| 0 | mlp | 1 | 0.13 | – |\n| 0.50 | – | 0.50 | – | – |\n',
  );
  await h.close();
});
