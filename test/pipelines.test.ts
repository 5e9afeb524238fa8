// The shipped pipelines: every one validates, and the Figure 1 and Table 1 pipelines run end to end in
// miniature (a few images a class, a few epochs).
import { tempDir } from './support/temp.js';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../src/cli/cli.js';
import { compiledBin } from './support/tmp-project.js';
import { serve, smallCifarArchive } from './data/fixtures.js';

const root = join(compiledBin(), '..', '..', '..', '..');

async function cli(cache: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, cwd: root, env: { RETHINK_CACHE_DIR: cache } });
  return { code, stdout, stderr };
}

test('every pipeline in pipelines/ validates', async () => {
  const cache = await tempDir('rethink-pipelines-');
  const files = (await readdir(join(root, 'pipelines'))).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3, files.join());
  for (const f of files) {
    const r = await cli(cache, 'validate', `pipelines/${f}`);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
  }
});

test('pipelines/figure1.yaml runs in miniature into a report with three figures and a table', async () => {
  const cache = await tempDir('rethink-figure1-');
  const out = await tempDir('rethink-figure1-out-');
  const tiny = ['--set', 'vars.per_class=3', '--set', 'vars.max_epochs=3'];
  const r = await cli(cache, 'run', 'pipelines/figure1.yaml', '--json', ...tiny);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { stages: { id: string; status: string }[] };
  assert.equal(doc.stages.length, 30);
  assert.ok(doc.stages.every((s) => s.status === 'ran'));
  // The paper's geometry by default: 32×32×3, pixel shuffles confined to the 28×28 the crop keeps.
  const show = async (stage: string) => (JSON.parse((await cli(cache, 'show', stage, 'pipelines/figure1.yaml', '--json', ...tiny)).stdout) as { outputs: Record<string, { value: unknown }> }).outputs;
  assert.deepEqual(((await show('paper'))['metrics']!.value as { to: number[] }).to, [32, 32, 3]);
  assert.deepEqual(((await show('randomized[kind=shuffled_pixels]'))['metrics']!.value as { region: number[] }).region, [28, 28]);
  assert.equal(((await show('fit[kind=none]'))['metrics']!.value as { params: number }).params, 1_209_866);
  const ex = await cli(cache, 'export', 'report', 'pipelines/figure1.yaml', '--to', out, ...tiny);
  assert.equal(ex.code, 0, ex.stderr);
  const html = await readFile(join(out, 'report', 'html.html'), 'utf8');
  assert.equal(html.split('<figure><svg').length - 1, 3);
  for (const kind of ['true labels', 'random labels', 'shuffled pixels', 'random pixels', 'gaussian']) assert.ok(html.includes(`>${kind}<`), kind);
  const md = await readFile(join(out, 'report', 'markdown.md'), 'utf8');
  assert.match(md, /\| p \| final\.train\.acc \| final\.test\.acc \| total_steps \| stopped_by \|/);
  assert.equal(md.match(/^\| (0|0\.2|0\.4|0\.6|0\.8|1) \|/gm)?.length, 6, 'p as written');
  assert.match(md, /- Figure 1b: convergence slowdown \(from `fig1b`\)/);
});

test('pipelines/seeds.yaml runs in miniature: a row per corruption level over its seeds, figures with bands', async () => {
  const cache = await tempDir('rethink-seeds-');
  const tiny = ['--set', 'vars.per_class=3', '--set', 'vars.max_epochs=2', '--set', 'vars.seeds=[0, 1]', '--set', 'vars.levels=[0, 1]'];
  const r = await cli(cache, 'run', 'pipelines/seeds.yaml', '--json', ...tiny);
  assert.equal(r.code, 0, r.stderr);
  const show = async (stage: string) => (JSON.parse((await cli(cache, 'show', stage, 'pipelines/seeds.yaml', '--json', ...tiny)).stdout) as { outputs: Record<string, { value: unknown; path: string }> }).outputs;
  const table = (await show('table'))['table']!.value as { columns: string[]; rows: unknown[][] };
  assert.deepEqual(table.columns.slice(0, 4), ['p', 'runs', 'mean(final.train.acc)', 'sd(final.train.acc)']);
  assert.equal(table.columns.length, 2 + 3 * 3);
  assert.deepEqual(table.rows.map((row) => row.slice(0, 2)), [[0, 2], [1, 2]]);
  // The seeds differ (labels, weights, batches), so the test accuracies they reach do too.
  const runs = JSON.parse((await cli(cache, 'results', 'fit', 'pipelines/seeds.yaml', '--json', '--metrics', 'final.test.acc', ...tiny)).stdout) as { rows: number[][] };
  assert.notEqual(runs.rows[0]![2], runs.rows[1]![2], JSON.stringify(runs.rows));
  // Read from the store: `show` inlines only small JSON.
  const spec = JSON.parse(await readFile((await show('error'))['spec']!.path, 'utf8')) as { layer?: { mark: { type: string } }[] };
  assert.deepEqual(spec.layer?.map((l) => l.mark.type), ['area', 'line']);
});

test('pipelines/implicit.yaml runs in miniature: SGD from zero ends at the minimum-norm interpolant, from random at the predicted one', async () => {
  const cache = await tempDir('rethink-implicit-');
  const tiny = ['--set', 'vars.per_class=2', '--set', 'fit.with.n_train=12', '--set', 'vars.epochs=300'];
  const r = await cli(cache, 'run', 'pipelines/implicit.yaml', '--json', ...tiny);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse((await cli(cache, 'results', 'fit', 'pipelines/implicit.yaml', '--json', '--metrics', 'train_error,distance_to_min_norm,distance_to_predicted,outside_span', ...tiny)).stdout) as { columns: string[]; rows: (string | number)[][] };
  assert.deepEqual(res.columns, ['kind', 'init', 'train_error', 'distance_to_min_norm', 'distance_to_predicted', 'outside_span']);
  assert.deepEqual(res.rows.map((row) => row.slice(0, 3)), [['none', 'zero', 0], ['none', 'random', 0], ['random_labels', 'zero', 0], ['random_labels', 'random', 0]]);
  for (const [kind, init, , toMinNorm, toPredicted, outside] of res.rows as [string, string, number, number, number, number][]) {
    assert.ok(toPredicted < 1e-4, `${kind} ${init}: ${toPredicted}`);
    if (init === 'zero') assert.ok(toMinNorm < 1e-4 && outside < 1e-9, `${kind}: ${toMinNorm} ${outside}`);
    else assert.ok(toMinNorm > 0.05 && outside > 1, `${kind}: ${toMinNorm} ${outside}`);
  }
});

test('pipelines/table1.yaml runs in miniature on a CIFAR-format archive served on loopback', async () => {
  const archive = smallCifarArchive(8);
  const server = await serve({ 'c.tar.gz': { body: archive } });
  try {
    const cache = await tempDir('rethink-table1-');
    const mini = [
      '--set', `cifar.with.url=${server.url('c.tar.gz')}`,
      '--set', `cifar.with.md5=${createHash('md5').update(archive).digest('hex')}`,
      '--set', 'train.matrix.model=[small_alexnet, mlp_1x512]',
      '--set', 'random_labels.matrix.model=[mlp_1x512]',
      '--set', 'vars.epochs=1', '--set', 'vars.random_label_epochs=2',
    ];
    const r = await cli(cache, 'run', 'pipelines/table1.yaml', '--json', ...mini);
    assert.equal(r.code, 0, r.stderr);
    const ran = (JSON.parse(r.stdout) as { stages: { id: string; status: string }[] }).stages.filter((s) => s.status === 'ran').map((s) => s.id);
    // AlexNet: crop × weight decay; the MLP: weight decay only (Table 1 has no cropped MLP rows).
    assert.deepEqual(ran.filter((id) => id.startsWith('train[')).sort(), [
      'train[model=mlp_1x512,random_crop=false,weight_decay=0.0005]',
      'train[model=mlp_1x512,random_crop=false,weight_decay=0]',
      'train[model=small_alexnet,random_crop=false,weight_decay=0.0005]',
      'train[model=small_alexnet,random_crop=false,weight_decay=0]',
      'train[model=small_alexnet,random_crop=true,weight_decay=0.0005]',
      'train[model=small_alexnet,random_crop=true,weight_decay=0]',
    ]);
    const show = await cli(cache, 'show', 'table', 'pipelines/table1.yaml', '--json', ...mini);
    const table = (JSON.parse(show.stdout) as { outputs: { table: { value: { columns: string[]; rows: unknown[][] } } } }).outputs.table.value;
    assert.deepEqual(table.columns, ['stage', 'model', 'random_crop', 'weight_decay', 'params', 'final.train_online_acc', 'final.test.acc', 'final.best_test_acc']);
    assert.equal(table.rows.length, 7);
    const paramsOf = (model: string) => table.rows.find((row) => row[1] === model)![4];
    assert.equal(paramsOf('small_alexnet'), 1_387_786);
    assert.equal(paramsOf('mlp_1x512'), 1_209_866);
    assert.deepEqual(table.rows.filter((row) => row[0] === 'random_labels').map((row) => row.slice(1, 4)), [['mlp_1x512', null, null]]);
  } finally {
    await server.close();
  }
});

test('pipelines/table1-fmnist.yaml runs in miniature: the paper geometry, Table 1 parameter counts, test "final (best)"', async () => {
  const cache = await tempDir('rethink-table1-fmnist-');
  const out = await tempDir('rethink-table1-fmnist-out-');
  const mini = [
    '--set', 'vars.per_class=3', '--set', 'vars.epochs=1', '--set', 'vars.random_label_epochs=1',
    '--set', 'train.matrix.model=[mlp_1x512]', '--set', 'random_labels.matrix.model=[mlp_1x512]',
  ];
  const r = await cli(cache, 'run', 'pipelines/table1-fmnist.yaml', '--json', ...mini);
  assert.equal(r.code, 0, r.stderr);
  const show = await cli(cache, 'show', 'table', 'pipelines/table1-fmnist.yaml', '--json', ...mini);
  const table = (JSON.parse(show.stdout) as { outputs: { table: { value: { columns: string[]; rows: unknown[][] } } } }).outputs.table.value;
  assert.deepEqual(table.columns, ['stage', 'model', 'random_crop', 'weight_decay', 'params', 'final.train_online_acc', 'final.test.acc', 'final.best_test_acc']);
  assert.equal(table.rows.length, 3);
  assert.ok(table.rows.every((row) => row[4] === 1_209_866), JSON.stringify(table.rows));
  const ex = await cli(cache, 'export', 'report', 'pipelines/table1-fmnist.yaml', '--to', out, ...mini);
  assert.equal(ex.code, 0, ex.stderr);
  const md = await readFile(join(out, 'report', 'markdown.md'), 'utf8');
  assert.match(md, /\| params \| final\.train_online_acc \| final\.test\.acc \(final\.best_test_acc\) \|/);
  assert.match(md, /\| 1209866 \| [0-9.]+ \| [0-9.]+ \([0-9.]+\) \|/);
});

test('pipelines/table3.yaml runs in miniature: kernel interpolation fits true and random MNIST labels', async () => {
  const cache = await tempDir('rethink-table3-');
  const mini = ['--set', 'fit.matrix.n=[150]', '--set', 'fit.with.n_test=200', '--set', 'ridge.with.n_train=150', '--set', 'ridge.with.n_test=200'];
  const r = await cli(cache, 'run', 'pipelines/table3.yaml', '--json', ...mini);
  assert.equal(r.code, 0, r.stderr);
  const show = await cli(cache, 'show', 'table', 'pipelines/table3.yaml', '--json', ...mini);
  const table = (JSON.parse(show.stdout) as { outputs: { table: { value: { columns: string[]; rows: (string | number)[][] } } } }).outputs.table.value;
  assert.deepEqual(table.columns, ['kind', 'n', 'train_error', 'test_error', 'norm']);
  const [truth, random] = [table.rows.find((row) => row[0] === 'none')!, table.rows.find((row) => row[0] === 'random_labels')!];
  assert.deepEqual([truth[2], random[2]], [0, 0]); // both interpolated
  assert.ok((truth[3] as number) < 0.4 && (random[3] as number) > 0.7, JSON.stringify(table.rows));
  // The ℓ2 row: λ = 0 interpolates; a large λ no longer fits its training labels and has a smaller norm.
  const ridge = await cli(cache, 'show', 'ridge_table', 'pipelines/table3.yaml', '--json', ...mini);
  const rt = (JSON.parse(ridge.stdout) as { outputs: { table: { value: { columns: string[]; rows: number[][] } } } }).outputs.table.value;
  assert.deepEqual(rt.columns, ['ridge', 'train_error', 'test_error', 'norm']);
  assert.deepEqual(rt.rows.map((row) => row[0]), [0, 0.001, 0.01, 0.1, 1, 10]);
  assert.equal(rt.rows[0]![1], 0);
  assert.ok(rt.rows[5]![1]! > 0 && rt.rows[5]![3]! < rt.rows[0]![3]!, JSON.stringify(rt.rows));
});

test('the quick-start, randomizations and theorem1 pipelines run (in miniature where they train)', async () => {
  const cache = await tempDir('rethink-small-pipelines-');
  const runs: [string, string[], number][] = [
    ['pipelines/quickstart.yaml', ['--set', 'vars.epochs=1'], 9],
    ['pipelines/randomizations.yaml', [], 10],
    ['pipelines/theorem1.yaml', ['--set', 'fit.matrix.n=[50]', '--set', 'deep.with.n=50'], 9],
  ];
  for (const [pipeline, sets, stages] of runs) {
    const r = await cli(cache, 'run', pipeline, '--json', ...sets);
    assert.equal(r.code, 0, `${pipeline}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as { stages: { status: string }[] };
    assert.equal(doc.stages.length, stages, pipeline);
    assert.ok(doc.stages.every((s) => s.status === 'ran' || s.status === 'cached'), pipeline);
  }
  const t = await cli(cache, 'show', 'table', 'pipelines/theorem1.yaml', '--json', '--set', 'fit.matrix.n=[50]');
  const rows = (JSON.parse(t.stdout) as { outputs: { table: { value: { rows: (string | number)[][] } } } }).outputs.table.value.rows;
  assert.deepEqual(rows.map((r) => r[2]), [884, 884, 884]); // 2n + d with d = 784
  assert.ok(rows.every((r) => (r[3] as number) < 1e-9), JSON.stringify(rows));
});
