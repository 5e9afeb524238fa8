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
import { builtinEditorSchema } from '../../src/cli/commands/schema.js';

const here = fileURLToPath(import.meta.url);
const root = here.includes('/dist/test/') ? here.slice(0, here.indexOf('/dist/test/')) : here.slice(0, here.indexOf('/test/'));

test('schema/pipeline.schema.json is the structure the code validates with, plus the built-in plugins\' params', async () => {
  const file = JSON.parse(await readFile(join(root, 'schema', 'pipeline.schema.json'), 'utf8'));
  assert.deepEqual(file, JSON.parse(JSON.stringify(await builtinEditorSchema())), 'run `node dist/src/cli/main.js schema > schema/pipeline.schema.json`');
  const { allOf: _, ...structure } = file.definitions.stage;
  assert.deepEqual({ ...file, definitions: { ...file.definitions, stage: structure } }, JSON.parse(JSON.stringify(pipelineSchema)));
});

test("an editor with the committed schema accepts every shipped pipeline, references included, and flags bad params where they are", async () => {
  const { Ajv } = await import('ajv');
  const YAML = await import('yaml');
  const { readdir } = await import('node:fs/promises');
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(await readFile(join(root, 'schema', 'pipeline.schema.json'), 'utf8')));
  for (const name of (await readdir(join(root, 'pipelines'))).filter((f) => f.endsWith('.yaml'))) {
    const ok = validate(YAML.parse(await readFile(join(root, 'pipelines', name), 'utf8')));
    assert.ok(ok, `${name}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
  }
  const bad = YAML.parse(`stages:
  t:
    uses: train
    with: { model: mlp_1x51, epochs: "x\${vars.e}", lr: "\${vars.lr}", batch_size: "\${matrix.b}", nope: 1 }
  a: { uses: aggregate, with: { metrics: [acc], stats: [mean, median] } }
`);
  assert.equal(validate(bad), false);
  const at = new Set(validate.errors!.map((e) => `${e.instancePath} ${e.keyword}`));
  for (const expected of ['/stages/t/with additionalProperties', '/stages/t/with/model enum', '/stages/t/with/epochs type', '/stages/a/with/stats/1 enum']) assert.ok(at.has(expected), `${expected} in ${[...at].join('; ')}`);
  for (const e of validate.errors!) assert.ok(!/\/(lr|batch_size)$/.test(e.instancePath), `a reference is not an error: ${e.instancePath}`);
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
