import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from "node:path";
import { pipelineSchema } from '../../src/config/pipeline-schema.js';
import { loadPipelineFile } from '../../src/config/pipeline-file.js';
import { buildPlan } from '../../src/plan/build.js';
import { createRegistry } from '../../src/plan/registry.js';
import { builtinPlugins } from '../../stages/index.js';

const here = fileURLToPath(import.meta.url);
const root = here.includes('/dist/test/') ? here.slice(0, here.indexOf('/dist/test/')) : here.slice(0, here.indexOf('/test/'));

test('schema/pipeline.schema.json is the schema the code validates with', async () => {
  const file = JSON.parse(await readFile(join(root, 'schema', 'pipeline.schema.json'), 'utf8'));
  assert.deepEqual(file, JSON.parse(JSON.stringify(pipelineSchema)), 'run `node dist/src/cli/main.js schema > schema/pipeline.schema.json`');
});

test('every shipped pipeline validates and plans against the built-in plugins', async () => {
  const { readdir } = await import('node:fs/promises');
  const dir = join(root, 'pipelines');
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.yaml'))) {
    const file = await loadPipelineFile(join(dir, name));
    const plan = await buildPlan(file, createRegistry(builtinPlugins));
    assert.ok(plan.order.length > 0, name);
  }
});
