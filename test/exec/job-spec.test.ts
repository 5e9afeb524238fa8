import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, TEST_PLUGINS } from '../support/tmp-project.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { buildJobSpec, jobOf, JobSpecError, parseJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import { EXEC_EXIT } from '../../src/exec/engine.js';
import { LocalStore } from '../../src/store/local.js';
import { asStageId } from '../../src/util/brand.js';

const PIPELINE = `stages:
  a: { uses: ./plugins.mjs, with: { value: 7 }, resources: { gpu: 2, cores: 4, memory: 16G, time: 2h } }
  b: { uses: ./plugins.mjs, with: { value: 1 } }
`;

/** The spec the coordinator would hand a worker for stage `id`. */
async function specOf(dir: string, id: string): Promise<JobSpec> {
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const inst = plan.instances.get(asStageId(id))!;
  const { key, keyRecord } = await lookup(new LocalStore(join(dir, 'unused')), inst, inputKeys(plan, inst, () => ({})));
  return buildJobSpec({ instance: inst, key, keyRecord, inputs: resolveInputs(plan, inst, () => ({})), cores: 1 }, plan);
}

test("a job spec carries the stage's resources, through JSON and back onto the instance a worker runs", async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  const a = await specOf(p.dir, 'a');
  const resources = { gpu: 'required', gpus: 2, cores: 4, memoryMb: 16384, timeMs: 7_200_000 } as const;
  assert.deepEqual(a.resources, resources);
  const parsed = parseJobSpec(JSON.stringify(a));
  assert.deepEqual(parsed, a);
  assert.deepEqual(jobOf(parsed, {} as never).instance.resources, resources);
  // The plugin's defaults travel too: a worker need not know the plugin to route the job.
  assert.deepEqual(parseJobSpec(JSON.stringify(await specOf(p.dir, 'b'))).resources, { gpu: 'none', cores: 1 });
});

test('a job spec with a malformed resources field is refused, naming its path', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  const a = await specOf(p.dir, 'a');
  const cases: readonly [unknown, string, RegExp][] = [
    ['gpu', 'resources', /must be an object, got "gpu"/],
    [{ ...a.resources, gpu: 'maybe' }, 'resources.gpu', /must be one of none, preferred, required, got "maybe"/],
    [{ cores: 1 }, 'resources.gpu', /is missing/],
    [{ ...a.resources, gpu: 'none' }, 'resources.gpus', /is only for gpu "required", not "none"/],
    [{ ...a.resources, gpus: 0 }, 'resources.gpus', /must be an integer ≥ 1, got 0/],
    [{ ...a.resources, cores: 'many' }, 'resources.cores', /must be an integer ≥ 1, got "many"/],
    [{ ...a.resources, memoryMb: '16G' }, 'resources.memoryMb', /must be an integer ≥ 1, got "16G"/],
    [{ ...a.resources, timeMs: -1 }, 'resources.timeMs', /must be a number > 0, got -1/],
  ];
  for (const [resources, field, message] of cases) {
    const text = JSON.stringify({ ...a, resources });
    assert.throws(() => parseJobSpec(text), (e: unknown) => e instanceof JobSpecError && e.field === field && message.test(e.message), `${field}: ${JSON.stringify(resources)}`);
  }
  // Through `rethink exec`: refused (never retried), naming the field.
  await writeFile(join(p.dir, 'bad.json'), JSON.stringify({ ...a, resources: { ...a.resources, gpu: 'maybe' } }));
  const r = await p.cli('exec', '--spec', 'bad.json', '--cache-dir', 'c');
  assert.equal(r.code, EXEC_EXIT.refused);
  assert.match(r.stderr, /error\[E_BAD_SPEC\]: job spec bad\.json: resources\.gpu: must be one of none, preferred, required, got "maybe"\n {2}= field resources\.gpu/);
});
