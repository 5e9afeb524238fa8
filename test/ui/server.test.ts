// `rethink ui`'s API over a cache made by a small real training run (fashion-mnist, 10 images per
// class, an MLP on the CPU, two learning rates) and a sweep of the test plugin: each route's document.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Comparison, Curves, Overview, PipelineDag, Report, RunDetail, Sweep, TensorPreview } from '../../src/ui/api.js';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { uiOver, type TestUi } from '../support/ui-server.js';
import { trainingPipeline } from '../support/training.js';

const TRAINING = trainingPipeline(2, {
  matrix: '{ lr: [0.01, 0.05] }',
  lr: '"${matrix.lr}"',
  evalEvery: 1,
  more: `  curve:
    uses: chart
    with: { x: "history[].epoch", y: "history[].loss", series: lr, title: training loss }
    inputs: { runs: "fit[*].metrics" }
`,
});

let p: Project;
let s: TestUi;

before(async () => {
  p = await project({ 'plugins.mjs': TEST_PLUGINS, 'pipelines/sweep.yaml': SWEEP.replaceAll('./plugins.mjs', '../plugins.mjs'), 'pipelines/train.yaml': TRAINING });
  const trained = await p.run('pipelines/train.yaml');
  assert.equal(trained.code, 0, trained.stderr);
  assert.equal((await p.run('pipelines/sweep.yaml')).code, 0);
  s = await uiOver(p, { pipelines: ['pipelines/sweep.yaml', 'pipelines/train.yaml'] });
});

after(() => s?.close());

const fitKeys = async (): Promise<string[]> => (await s.get('/api/pipelines/train')).json<PipelineDag>().nodes.filter((n) => n.stage === 'fit').map((n) => n.key!);

test('overview: the pipelines with their sizes, and instances per state', async () => {
  const r = await s.get('/api/overview');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^application\/json/);
  const o = r.json<Overview>();
  assert.equal(o.format, 1);
  assert.deepEqual(o.pipelines.map((x) => [x.id, x.file, x.stages, x.instances]), [['sweep', 'pipelines/sweep.yaml', 4, 8], ['train', 'pipelines/train.yaml', 4, 5]]);
  assert.deepEqual(o.counts, { 'up-to-date': 13, stale: 0, running: 0, failed: 0, 'never-run': 0 });
  assert.equal(o.remote, null);
});

test('pipeline DAG: each instance with its state and key, instance-level edges; a changed param makes its instances stale with the reason status gives', async () => {
  const dag = (await s.get('/api/pipelines/train')).json<PipelineDag>();
  assert.equal(dag.format, 1);
  assert.deepEqual(dag.nodes.map((n) => [n.id, n.state]), [['fashion', 'up-to-date'], ['small', 'up-to-date'], ['fit[lr=0.01]', 'up-to-date'], ['fit[lr=0.05]', 'up-to-date'], ['curve', 'up-to-date']]);
  assert.ok(dag.nodes.every((n) => /^[0-9a-f]{64}$/.test(n.key!)));
  assert.deepEqual(dag.nodes.find((n) => n.id === 'fit[lr=0.05]')!.matrix, { lr: 0.05 });
  assert.deepEqual(dag.edges, [
    { from: 'fashion', to: 'small', input: 'dataset' },
    { from: 'small', to: 'fit[lr=0.01]', input: 'data' },
    { from: 'small', to: 'fit[lr=0.05]', input: 'data' },
    { from: 'fit[lr=0.01]', to: 'curve', input: 'runs' },
    { from: 'fit[lr=0.05]', to: 'curve', input: 'runs' },
  ]);

  // The server rereads a pipeline that changed on disk.
  await p.write({ 'pipelines/sweep.yaml': SWEEP.replaceAll('./plugins.mjs', '../plugins.mjs').replace('with: { value: 1 }', 'with: { value: 2 }') });
  try {
    const sweep = (await s.get('/api/pipelines/sweep')).json<PipelineDag>();
    const train = sweep.nodes.find((n) => n.id === 'train[p=0,seed=1]')!;
    assert.equal(train.state, 'stale');
    assert.match(train.reason!, /param value 1 → 2/);
    assert.equal(sweep.nodes.find((n) => n.id === 'aggregate')!.state, 'stale');
    assert.equal(sweep.nodes.find((n) => n.id === 'aggregate')!.key, null);
  } finally {
    await p.write({ 'pipelines/sweep.yaml': SWEEP.replaceAll('./plugins.mjs', '../plugins.mjs') });
  }
});

test('sweep: a row per instance with its key; ?over=seed summarizes the seeds; the CSV is a download of the same table', async () => {
  const sweep = (await s.get('/api/pipelines/sweep/sweep/train')).json<Sweep>();
  assert.equal(sweep.format, 1);
  assert.equal(sweep.output, 'out');
  assert.deepEqual(sweep.axes, ['p', 'seed']);
  assert.deepEqual(sweep.columns, ['p', 'seed', 'value']);
  assert.deepEqual(sweep.rows.map((r) => [r.id, r.cells]), [
    ['train[p=0,seed=1]', { p: 0, seed: 1, value: 11 }],
    ['train[p=0,seed=2]', { p: 0, seed: 2, value: 11 }],
    ['train[p=0.5,seed=1]', { p: 0.5, seed: 1, value: 11.5 }],
    ['train[p=0.5,seed=2]', { p: 0.5, seed: 2, value: 11.5 }],
  ]);
  assert.ok(sweep.rows.every((r) => /^[0-9a-f]{64}$/.test(r.key!)));
  assert.deepEqual(sweep.fields, ['value']);

  const over = (await s.get('/api/pipelines/sweep/sweep/train?over=seed&stats=mean,n')).json<Sweep>();
  assert.deepEqual(over.columns, ['p', 'runs', 'mean(value)', 'n(value)']);
  assert.deepEqual(over.rows.map((r) => [r.id, r.key, r.cells]), [
    ['train[p=0]', null, { p: 0, runs: 2, 'mean(value)': 11, 'n(value)': 2 }],
    ['train[p=0.5]', null, { p: 0.5, runs: 2, 'mean(value)': 11.5, 'n(value)': 2 }],
  ]);

  const csv = await s.get('/api/pipelines/sweep/sweep/train.csv');
  assert.equal(csv.status, 200);
  assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(csv.headers.get('content-disposition')!, /^attachment; filename="sweep-train\.csv"/);
  assert.equal(csv.text, 'p,seed,value\n0,1,11\n0,2,11\n0.5,1,11.5\n0.5,2,11.5\n');

  const bad = await s.get('/api/pipelines/sweep/sweep/train?over=lr');
  assert.equal(bad.status, 400);
  assert.match(bad.json<{ error: { message: string } }>().error.message, /^over=lr: not a matrix axis of "train" \(its axes: p, seed\)$/);
  assert.equal((await s.get('/api/pipelines/sweep/sweep/nope')).status, 404);
});

test('run detail: params, key record, metrics, provenance, outputs with tensors; curves per epoch', async () => {
  const [k1, k2] = await fitKeys();
  const run = (await s.get(`/api/runs/${k2}`)).json<RunDetail>();
  assert.equal(run.format, 1);
  assert.equal(run.instance, 'fit[lr=0.05]');
  assert.equal(run.pipeline, 'train');
  assert.equal(run.plugin, 'train');
  assert.equal(run.params['lr'], 0.05);
  assert.equal((run.keyRecord as { seed: number }).seed, 3);
  assert.equal((run.metrics as { model: string }).model, 'mlp_1x512');
  assert.equal((run.provenance['backend'] as { name: string }).name, 'cpu');
  assert.equal(run.hasCurves, true);
  const model = run.outputs.find((o) => o.name === 'model')!;
  assert.equal(model.kind, 'tensors');
  assert.equal(model.href, `/api/runs/${k2}/outputs/model`);
  assert.ok(model.tensors!.some((t) => t.dtype === 'float32' && t.shape.length === 2));

  const curves = (await s.get(`/api/runs/${k2}/curves`)).json<Curves>();
  assert.deepEqual(curves.matrix, { lr: 0.05 });
  assert.deepEqual(curves.epochs.map((e) => e.epoch), [1, 2]);
  assert.ok(curves.epochs.every((e) => Number.isFinite(e.loss) && e.acc >= 0 && e.acc <= 1 && e.testAcc !== undefined && e.lr !== undefined));

  const both = (await s.get(`/api/curves?keys=${k2},${k1}`)).json<Curves[]>();
  assert.deepEqual(both.map((c) => c.id), ['fit[lr=0.05]', 'fit[lr=0.01]']);
});

test('compare names the changed param, the outputs that differ, and the metrics that differ', async () => {
  const [k1, k2] = await fitKeys();
  const c = (await s.get(`/api/compare?keys=${k1},${k2}`)).json<Comparison>();
  assert.equal(c.format, 1);
  assert.deepEqual(c.runs.map((r) => r.id), ['fit[lr=0.01]', 'fit[lr=0.05]']);
  assert.deepEqual(c.params, [{ path: 'params.lr', values: [0.01, 0.05] }]);
  assert.deepEqual(c.outputs.map((o) => [o.name, o.same]), [['model', false], ['metrics', false]]);
  assert.ok(c.metrics.some((m) => m.path === 'hyperparams.lr'));
  assert.ok(c.metrics.some((m) => m.path === 'final.train.loss'));
  assert.equal((await s.get(`/api/compare?keys=${k1}`)).status, 400);
});

test('preview: shapes, dtypes and a histogram over every value; a dataset shows its first images with their labels', async () => {
  const dag = (await s.get('/api/pipelines/train')).json<PipelineDag>();
  const small = dag.nodes.find((n) => n.id === 'small')!.key!;
  const pv = (await s.get(`/api/runs/${small}/outputs/dataset/preview`)).json<TensorPreview>();
  assert.equal(pv.format, 1);
  const x = pv.tensors.find((t) => t.name === 'x_train')!;
  assert.deepEqual(x.shape, [100, 28, 28, 1]);
  assert.equal(x.dtype, 'uint8');
  assert.equal(x.histogram.counts.reduce((a, b) => a + b, 0), 100 * 28 * 28);
  assert.equal(x.histogram.edges.length, x.histogram.counts.length + 1);
  assert.ok(x.min >= 0 && x.max <= 255 && x.mean > x.min && x.mean < x.max);
  for (const t of pv.tensors) assert.equal(t.histogram.counts.reduce((a, b) => a + b, 0), t.shape.reduce((a, b) => a * b, 1), t.name);
  assert.equal(pv.images.length, 16);
  assert.ok(pv.images.every((i) => typeof i.label === 'number' && i.label >= 0 && i.label < 10));

  const png = await s.get(pv.images[3]!.href);
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.bytes.readUInt32BE(16), 28); // IHDR width
  assert.equal((await s.get(`/api/runs/${small}/outputs/dataset/images/16.png`)).status, 404);
  assert.equal((await s.get(`/api/runs/${(await fitKeys())[0]}/outputs/metrics/preview`)).status, 400);
});

test('artifacts download with their content type and an attachment filename', async () => {
  const [k1] = await fitKeys();
  const model = await s.get(`/api/runs/${k1}/outputs/model`);
  assert.equal(model.status, 200);
  assert.equal(model.headers.get('content-type'), 'application/octet-stream');
  assert.match(model.headers.get('content-disposition')!, /^attachment; filename="fit\[lr=0\.01\]\.model\.safetensors"; filename\*=UTF-8''fit%5Blr%3D0\.01%5D\.model\.safetensors$/);
  assert.equal(model.headers.get('x-content-type-options'), 'nosniff');
  const run = (await s.get(`/api/runs/${k1}`)).json<RunDetail>();
  assert.equal(model.bytes.length, run.outputs.find((o) => o.name === 'model')!.bytes);
  const metrics = await s.get(`/api/runs/${k1}/outputs/metrics`);
  assert.equal(metrics.headers.get('content-type'), 'application/json');
  assert.equal(metrics.json<{ model: string }>().model, 'mlp_1x512');
});

test('bad requests are ApiError documents: unknown run, bad key, unknown route, unknown pipeline; never a stack trace', async () => {
  const cases: [string, number, string][] = [
    [`/api/runs/${'0'.repeat(64)}`, 404, 'E_NOT_FOUND'],
    ['/api/runs/1234', 400, 'E_BAD_REQUEST'],
    [`/api/runs/${'A'.repeat(64)}`, 400, 'E_BAD_REQUEST'],
    ['/api/nothing', 404, 'E_NOT_FOUND'],
    ['/api/pipelines/nope', 404, 'E_NOT_FOUND'],
    ['/api/report/nope', 404, 'E_NOT_FOUND'],
    [`/api/runs/${(await fitKeys())[0]}/outputs/weights`, 404, 'E_NOT_FOUND'],
  ];
  for (const [path, status, code] of cases) {
    const r = await s.get(path);
    assert.equal(r.status, status, path);
    const body = r.json<{ format: number; error: { code: string; message: string } }>();
    assert.deepEqual([body.format, body.error.code], [1, code], path);
    assert.doesNotMatch(r.text, /at .*\.js:\d+|node:internal/, path);
  }
});

test('report: the Vega-Lite specs of the chart and figure stages, data inlined, with provenance', async () => {
  const r = (await s.get('/api/report/train')).json<Report>();
  assert.equal(r.format, 1);
  assert.equal(r.pipeline, 'train');
  assert.deepEqual(r.figures.map((f) => [f.title, f.stage]), [['training loss', 'curve']]);
  const spec = r.figures[0]!.spec as { $schema: string; data?: { values?: unknown[] } };
  assert.match(spec.$schema, /vega-lite/);
  assert.ok(JSON.stringify(spec).includes('"values"'), 'data inlined');
  assert.equal(r.provenance['pipelineFile'], 'pipelines/train.yaml');
  assert.ok(typeof r.provenance['rethink'] === 'string' || typeof r.provenance['node'] === 'string', JSON.stringify(r.provenance));
  assert.deepEqual((await s.get('/api/report/sweep')).json<Report>().figures, []);
});
