import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project } from '../support/tmp-project.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { buildJobSpec, jobOf, parseJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup } from '../../src/exec/executor.js';
import { LocalStore } from '../../src/store/local.js';
import { asStageId } from '../../src/util/brand.js';

/** Records the backend the run asked for, and what RETHINK_BACKEND its process saw, in its provenance. */
const REPORTER = `
export const plugin = {
  name: 'reporter', version: '1', description: 'reports ctx.backend',
  params: { type: 'object', properties: {} }, inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    ctx.provenance({ backend: ctx.backend ?? null, envBackend: process.env.RETHINK_BACKEND ?? null });
    await ctx.writeJson('out', { done: true });
  },
};
`;
const PIPELINE = `stages:\n  r:\n    uses: ./reporter.mjs\n`;

async function provenanceOf(executor: string, ...flags: string[]): Promise<Record<string, unknown>> {
  const p = await project({ 'reporter.mjs': REPORTER, 'p.yaml': PIPELINE });
  const r = await p.run('p.yaml', '--executor', executor, ...flags);
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse((await p.cli('show', 'r', 'p.yaml', '--json')).stdout) as { provenance: Record<string, unknown> };
  return shown.provenance;
}

for (const executor of ['local', 'subprocess']) {
  test(`--backend reaches the stage as ctx.backend, not through the environment (--executor ${executor})`, async () => {
    assert.equal(process.env['RETHINK_BACKEND'], undefined, 'the test process sets no RETHINK_BACKEND');
    const asked = await provenanceOf(executor, '--backend', 'cpu');
    assert.equal(asked['backend'], 'cpu');
    assert.equal(asked['envBackend'], null, 'the CLI does not write RETHINK_BACKEND for the stage to read back');
    assert.equal(process.env['RETHINK_BACKEND'], undefined);
    // Without --backend (and without RETHINK_BACKEND) the stage is told nothing: it starts the first that works.
    assert.equal((await provenanceOf(executor))['backend'], null);
  });
}

test('RETHINK_BACKEND is the default --backend, read by the CLI; a bad one is a user error naming it', async () => {
  const p = await project({ 'reporter.mjs': REPORTER, 'p.yaml': PIPELINE }, { RETHINK_BACKEND: 'wasm' });
  assert.equal((await p.run('p.yaml')).code, 0);
  const shown = JSON.parse((await p.cli('show', 'r', 'p.yaml', '--json')).stdout) as { provenance: Record<string, unknown> };
  assert.equal(shown.provenance['backend'], 'wasm');
  const bad = await project({ 'reporter.mjs': REPORTER, 'p.yaml': PIPELINE }, { RETHINK_BACKEND: 'tpu' });
  const r = await bad.cli('run', 'p.yaml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E_BAD_ENV\]: RETHINK_BACKEND "tpu" is not a backend/);
});

/** The spec the coordinator would hand a job for stage r, asking for `backend`. */
async function specFor(dir: string, backend?: string): Promise<JobSpec> {
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const inst = plan.instances.get(asStageId('r'))!;
  const { key, keyRecord } = await lookup(new LocalStore(join(dir, 'unused')), inst, inputKeys(plan, inst, () => ({})));
  return buildJobSpec({ instance: inst, key, keyRecord, inputs: {}, cores: 1, ...(backend === undefined ? {} : { backend }) }, plan);
}

test("a job spec carries the run's backend to rethink exec, where it wins over exec's own default", async () => {
  const p = await project({ 'reporter.mjs': REPORTER, 'p.yaml': PIPELINE });
  const spec = await specFor(p.dir, 'cpu');
  assert.equal(parseJobSpec(JSON.stringify(spec)).backend, 'cpu');
  assert.equal(jobOf(parseJobSpec(JSON.stringify(spec)), {} as never).backend, 'cpu');
  assert.throws(() => parseJobSpec(JSON.stringify({ ...spec, backend: 7 })), /backend: must be a non-empty string, got 7/);
  const exec = async (name: string, s: JobSpec, ...flags: string[]) => {
    await writeFile(join(p.dir, name), JSON.stringify(s));
    const r = await p.cli('exec', '--spec', name, '--cache-dir', `cache-${name}`, ...flags);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { provenance: Record<string, unknown> }).provenance['backend'];
  };
  assert.equal(await exec('asked.json', spec, '--backend', 'wasm'), 'cpu', "the run's choice wins");
  assert.equal(await exec('open.json', await specFor(p.dir), '--backend', 'wasm'), 'wasm', "else exec's --backend");
  assert.equal(await exec('none.json', await specFor(p.dir)), null, 'else none: auto');
});
