import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPipelineFile } from '../../src/config/pipeline-file.js';
import { buildPlan } from '../../src/plan/build.js';
import { createRegistry } from '../../src/plan/registry.js';
import type { Plan } from '../../src/plan/plan.js';
import type { StageId } from '../../src/util/brand.js';
import { project, TEST_PLUGINS } from '../support/tmp-project.js';

/** plugins.mjs's `emit` needs one core and no GPU; `heavy` all cores; `gpu` a GPU if there is one. */
const PLUGINS = `${TEST_PLUGINS}\nexport const gpu = { ...plugin, name: 'gpu', gpu: 'preferred' };\n`;

async function plan(yaml: string, sets: readonly string[] = []): Promise<Plan> {
  const p = await project({ 'plugins.mjs': PLUGINS, 'heavy.mjs': "export { heavy as plugin } from './plugins.mjs';\n", 'gpu.mjs': "export { gpu as plugin } from './plugins.mjs';\n", 'x.yaml': yaml });
  return buildPlan(await loadPipelineFile(join(p.dir, 'x.yaml'), sets, 'x.yaml'), createRegistry());
}

const of = (p: Plan, id: string) => p.instances.get(id as StageId)!;

test("an instance's resources are its plugin's defaults with the stage's resources: over them", async () => {
  const p = await plan(`stages:
  plain: { uses: ./plugins.mjs, with: { value: 1 } }
  heavy: { uses: ./heavy.mjs, with: { value: 1 } }
  gpu: { uses: ./gpu.mjs, with: { value: 1 } }
  cpu_only: { uses: ./gpu.mjs, with: { value: 1 }, resources: { gpu: none, cores: 4 } }
  two_gpus:
    uses: ./heavy.mjs
    matrix: { p: [1, 2] }
    with: { value: "\${matrix.p}" }
    resources: { gpu: 2, memory: 16G, time: 90m }
  required: { uses: ./plugins.mjs, with: { value: 1 }, resources: { gpu: required, cores: all, memory: 1536, time: 30 } }
  sizes: { uses: ./plugins.mjs, with: { value: 1 }, resources: { memory: 1.5T, time: 2h } }
`);
  assert.deepEqual(of(p, 'plain').resources, { gpu: 'none', cores: 1 }, 'no plugin gpu: none; no cores: 1');
  assert.deepEqual(of(p, 'heavy').resources, { gpu: 'none', cores: 'all' });
  assert.deepEqual(of(p, 'gpu').resources, { gpu: 'preferred', cores: 1 });
  assert.deepEqual(of(p, 'cpu_only').resources, { gpu: 'none', cores: 4 }, 'the stage overrides the plugin');
  assert.deepEqual(of(p, 'two_gpus[p=1]').resources, { gpu: 'required', gpus: 2, cores: 'all', memoryMb: 16 * 1024, timeMs: 90 * 60_000 }, 'gpu: N is required, N GPUs');
  assert.equal(of(p, 'two_gpus[p=2]').resources, of(p, 'two_gpus[p=1]').resources, 'one object for all instances of a stage');
  assert.deepEqual(of(p, 'required').resources, { gpu: 'required', cores: 'all', memoryMb: 1536, timeMs: 30_000 }, 'memory in MiB, time in seconds');
  assert.deepEqual(of(p, 'sizes').resources, { gpu: 'none', cores: 1, memoryMb: 1.5 * 1024 * 1024, timeMs: 2 * 3_600_000 });
});

test('executor: local keeps a stage on the coordinator; the slurm: block becomes the plan\'s settings', async () => {
  const p = await plan(`slurm:
  partition: cpu
  gpu_partition: gpu
  account: lab
  args: ["--qos=high"]
stages:
  a: { uses: ./plugins.mjs, with: { value: 1 } }
  table: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: a }, executor: local }
`);
  assert.equal(of(p, 'a').placement, undefined, 'anywhere');
  assert.equal(of(p, 'table').placement, 'local');
  assert.deepEqual(p.slurm, { partition: 'cpu', gpuPartition: 'gpu', account: 'lab', args: ['--qos=high'] });
  const bare = await plan('stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n');
  assert.equal(bare.slurm, undefined);
  const set = await plan('stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n', ['slurm.partition=short', 'a.resources.gpu=required']);
  assert.deepEqual(set.slurm, { partition: 'short' }, '--set slurm.… is a top-level key');
  assert.deepEqual(of(set, 'a').resources, { gpu: 'required', cores: 1 });
});

test("resources and executor are not part of a stage's key: changing them keeps its result up to date", async () => {
  const yaml = 'stages:\n  a: { uses: ./gpu.mjs, with: { value: 1 } }\n  b: { uses: ./plugins.mjs, with: { value: 2 }, inputs: { x: a } }\n';
  const base = await plan(yaml);
  const moved = await plan(yaml, ['a.resources={ gpu: 4, cores: 8, memory: 64G, time: 12h }', 'b.executor=local']);
  assert.notDeepEqual(of(moved, 'a').resources, of(base, 'a').resources);
  for (const id of ['a', 'b']) assert.deepEqual(of(moved, id).keyBase, of(base, id).keyBase, id);

  const p = await project({ 'plugins.mjs': PLUGINS, 'gpu.mjs': "export { gpu as plugin } from './plugins.mjs';\n", 'x.yaml': yaml });
  assert.equal((await p.run('x.yaml')).code, 0);
  const status = await p.cli('status', 'x.yaml', '--set', 'a.resources={ gpu: 4, memory: 64G }', '--set', 'b.executor=local');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^2 up to date, 0 will run$/m);
});

test("dag, show and status --json say what a stage needs; dag's line only when it is not the default", async () => {
  const p = await project({
    'plugins.mjs': PLUGINS,
    'gpu.mjs': "export { gpu as plugin } from './plugins.mjs';\n",
    'x.yaml': `stages:
  a: { uses: ./plugins.mjs, with: { value: 1 } }
  t: { uses: ./gpu.mjs, with: { value: 1 }, inputs: { x: a }, resources: { gpu: 2, cores: 8, memory: 16G, time: 2h } }
  table: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: t }, executor: local }
`,
  });
  assert.equal(
    (await p.cli('dag', 'x.yaml')).stdout,
    'a      (emit)\nt      (gpu; 2 GPUs, 8 cores, 16G, 2h)  ← a.out\ntable  (emit; on the coordinator)  ← t.out\n',
  );
  const nodes = (JSON.parse((await p.cli('dag', 'x.yaml', '--format', 'json')).stdout) as { nodes: { id: string; resources: unknown; placement: string }[] }).nodes;
  assert.deepEqual(nodes.map((n) => [n.id, n.resources, n.placement]), [
    ['a', { gpu: 'none', cores: 1 }, 'any'],
    ['t', { gpu: 'required', gpus: 2, cores: 8, memoryMb: 16384, timeMs: 7_200_000 }, 'any'],
    ['table', { gpu: 'none', cores: 1 }, 'local'],
  ]);
  assert.equal((await p.cli('show', 't', 'x.yaml')).stdout, 't: not run yet (upstream a will run)\n  needs    2 GPUs, 8 cores, 16G, 2h\n');
  assert.equal((await p.run('x.yaml')).code, 0);
  assert.match((await p.cli('show', 'table', 'x.yaml')).stdout, /\n {2}needs {4}no GPU, 1 core, on the coordinator\n/);
  const states = (JSON.parse((await p.cli('status', 'x.yaml', '--json')).stdout) as { stages: { id: string; resources: { gpu: string }; placement: string }[] }).stages;
  assert.deepEqual(states.map((s) => [s.id, s.resources.gpu, s.placement]), [['a', 'none', 'any'], ['t', 'required', 'any'], ['table', 'none', 'local']]);
});

test("a plugin module whose gpu or cores is malformed is refused when loaded, naming the field", async () => {
  const p = await project({
    'plugins.mjs': TEST_PLUGINS,
    'yes.mjs': "import { plugin as p } from './plugins.mjs';\nexport const plugin = { ...p, gpu: 'yes' };\n",
    'zero.mjs': "import { plugin as p } from './plugins.mjs';\nexport const plugin = { ...p, cores: 0 };\n",
    'x.yaml': 'stages:\n  a: { uses: ./yes.mjs, with: { value: 1 } }\n  b: { uses: ./zero.mjs, with: { value: 1 } }\n',
  });
  const r = await p.cli('validate', 'x.yaml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /x\.yaml:2:14: error\[E_UNKNOWN_PLUGIN\]: stage "a": plugin module \.\/yes\.mjs exports a plugin whose "gpu" is "yes", not one of "none", "preferred", "required"/);
  assert.match(r.stderr, /x\.yaml:3:14: error\[E_UNKNOWN_PLUGIN\]: stage "b": plugin module \.\/zero\.mjs exports a plugin whose "cores" is 0, not a whole number ≥ 1 or "all"/);
});

test('rethink plugins says what each built-in needs: train and evaluate use a GPU where there is one', async () => {
  const p = await project({});
  const rows = (JSON.parse((await p.cli('plugins', '--json')).stdout) as { plugins: { name: string; cores: number | 'all'; gpu: string }[] }).plugins;
  const needs = Object.fromEntries(rows.map((r) => [r.name, [r.gpu, r.cores]]));
  assert.deepEqual([needs.train, needs.evaluate, needs.kernel, needs.aggregate], [['preferred', 'all'], ['preferred', 1], ['none', 1], ['none', 1]]);
  assert.match((await p.cli('plugins')).stdout, /^train@\d+ .*\n.*\n {4}needs: GPU preferred, all cores\n/m);
});
