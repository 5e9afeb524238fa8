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
  assert.equal((table as { coordinates?: number }).coordinates, 2);
  assert.deepEqual(table.rows, [[0, 'mlp', 1, 0.125, null], [0.5, null, 0.5, null, null]]);
  assert.equal(await readFile(r.outputs.csv!.path, 'utf8'), 'p,model,final.train.acc,final.test.acc,final.nope\n0,mlp,1,0.125,\n0.5,,0.5,,\n');
  assert.equal(
    await readFile(r.outputs.markdown!.path, 'utf8'),
    '# T\n\n| p | model | final.train.acc | final.test.acc | final.nope |\n|---|---|---|---|---|\n| 0 | mlp | 1 | 0.13 | – |\n| 0.5 | – | 0.50 | – | – |\n',
  );
  await h.close();
});

test('aggregate over seeds writes one row per other coordinate with the chosen statistics', async () => {
  const h = await createHarness();
  try {
    const producer = {
      name: 'metrics', version: '1', description: 'x', params: { type: 'object' }, inputs: {},
      outputs: { out: { kind: 'json' as const } },
      run: async (ctx: { params: Record<string, unknown>; writeJson(o: string, v: unknown): Promise<void> }) => ctx.writeJson('out', { acc: ctx.params.acc }),
    };
    const runs = [];
    for (const [p, seed, acc] of [[0, 1, 0.9], [0, 2, 0.7], [1, 1, 0.1], [1, 2, 0.2]] as const) {
      const r = await h.run(producer, { params: { acc } });
      runs.push({ ...r.outputs.out!, origin: { stage: 'train', matrix: { p, seed } } });
    }
    const r = await h.run(aggregatePlugin, { params: { metrics: ['acc'], over: ['seed'], stats: ['mean', 'min', 'n'], digits: 2 }, inputs: { runs } });
    assert.equal(await readFile(r.outputs.csv!.path, 'utf8'), 'p,runs,mean(acc),min(acc),n(acc)\n0,2,0.8,0.7,2\n1,2,0.15000000000000002,0.1,2\n');
    // The CSV keeps a column per statistic; the Markdown, for readers, one column per metric.
    assert.equal(await readFile(r.outputs.markdown!.path, 'utf8'), '| p | runs | acc (mean min n) |\n|---|---|---|\n| 0 | 2 | 0.80 min 0.70 n=2 |\n| 1 | 2 | 0.15 min 0.10 n=2 |\n');
    const defaults = await h.run(aggregatePlugin, { params: { metrics: ['acc'], over: ['seed'] }, inputs: { runs } });
    assert.deepEqual((await defaults.outputs.table!.readJson<{ columns: string[] }>()).columns, ['p', 'runs', 'mean(acc)', 'sd(acc)']);
    await assert.rejects(
      h.run(aggregatePlugin, { params: { metrics: ['acc'], over: ['sed'] }, inputs: { runs } }),
      (e: unknown) => (e as { userError?: boolean }).userError === true && /cannot summarize over "sed": the runs' matrix axes are p, seed/.test((e as Error).message),
    );
  } finally {
    await h.close();
  }
});

test('aggregate parenthesize: "final (best)" where the table is read (Table 2 style), a column each in JSON and CSV', async () => {
  const h = await createHarness();
  try {
    const producer = {
      name: 'metrics', version: '1', description: 'x', params: { type: 'object' }, inputs: {},
      outputs: { out: { kind: 'json' as const } },
      run: async (ctx: { params: Record<string, unknown>; writeJson(o: string, v: unknown): Promise<void> }) =>
        ctx.writeJson('out', { final: { train_online_acc: 1, test: { acc: ctx.params.test }, best_test_acc: ctx.params.best } }),
    };
    const runs = [];
    for (const [model, test, best] of [['inception', 0.8605, 0.8671], ['mlp', null, null]] as const) {
      const r = await h.run(producer, { params: { test, best } });
      runs.push({ ...r.outputs.out!, origin: { stage: 'train', matrix: { model } } });
    }
    const params = { metrics: ['final.train_online_acc', 'final.test.acc', 'final.best_test_acc'], parenthesize: { 'final.test.acc': 'final.best_test_acc' }, digits: 2 };
    const r = await h.run(aggregatePlugin, { params, inputs: { runs } });
    const table = await r.outputs.table!.readJson<{ columns: string[]; parenthesized: Record<string, string> }>();
    assert.deepEqual(table.columns, ['model', 'final.train_online_acc', 'final.test.acc', 'final.best_test_acc']);
    assert.deepEqual(table.parenthesized, { 'final.test.acc': 'final.best_test_acc' });
    assert.equal(await readFile(r.outputs.csv!.path, 'utf8'), 'model,final.train_online_acc,final.test.acc,final.best_test_acc\ninception,1,0.8605,0.8671\nmlp,1,,\n');
    assert.equal(
      await readFile(r.outputs.markdown!.path, 'utf8'),
      '| model | final.train_online_acc | final.test.acc (final.best_test_acc) |\n|---|---|---|\n| inception | 1 | 0.86 (0.87) |\n| mlp | 1 | – |\n',
    );
    const userError = (pattern: RegExp) => (e: unknown) => (e as { userError?: boolean }).userError === true && pattern.test((e as Error).message);
    await assert.rejects(
      h.run(aggregatePlugin, { params: { ...params, parenthesize: { 'final.test.acc': 'final.best' } }, inputs: { runs } }),
      userError(/with\.parenthesize names "final\.best", not in with\.metrics/),
    );
    await assert.rejects(h.run(aggregatePlugin, { params: { ...params, over: ['model'] }, inputs: { runs } }), userError(/not to statistics over seeds/));
  } finally {
    await h.close();
  }
});
