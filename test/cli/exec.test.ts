import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project, TEST_PLUGINS } from '../support/tmp-project.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { buildJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import { LocalStore } from '../../src/store/local.js';
import type { OutputRef } from '../../src/store/types.js';
import { asObjectHash, asStageId } from '../../src/util/brand.js';

const PIPELINE = 'stages:\n  a: { uses: ./plugins.mjs, with: { value: 7 } }\n  bad: { uses: ./plugins.mjs, with: { value: 1, user_error: true } }\n  b: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: a } }\n';

/** The job spec `run --executor subprocess` would hand the child for stage `id`, its upstream stages having written `upstream`. */
async function specOf(dir: string, id: string, upstream: Readonly<Record<string, Readonly<Record<string, OutputRef>>>> = {}): Promise<JobSpec> {
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const inst = plan.instances.get(asStageId(id))!;
  const outputsOf = (u: string) => upstream[u] ?? {};
  const { key, keyRecord } = await lookup(new LocalStore(join(dir, 'unused')), inst, inputKeys(plan, inst, outputsOf));
  return buildJobSpec({ instance: inst, key, keyRecord, inputs: resolveInputs(plan, inst, outputsOf), cores: 1 }, plan);
}

const entries = (dir: string): Promise<string[]> => readdir(dir).catch(() => []);

test('rethink exec runs a job spec into the cache and prints its result; it writes no run record', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  await writeFile(join(p.dir, 'a.json'), JSON.stringify(await specOf(p.dir, 'a')));
  const r = await p.cli('exec', '--spec', 'a.json', '--cache-dir', 'c');
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { ok: true; outputs: { out: { hash: string; kind: string } } };
  assert.equal(result.ok, true);
  assert.equal(result.outputs.out.kind, 'json');
  assert.deepEqual(await entries(join(p.dir, 'c', 'objects', result.outputs.out.hash.slice(0, 2))), [result.outputs.out.hash.slice(2)]);
  assert.deepEqual(await entries(join(p.dir, 'c', 'runs')), []);

  // The same spec from stdin, as the subprocess executor passes it.
  const stdin = spawnSync(process.execPath, [compiledBin(), 'exec', '--spec', '-', '--cache-dir', 'c2'], { cwd: p.dir, input: JSON.stringify(await specOf(p.dir, 'a')), encoding: 'utf8' });
  assert.equal(stdin.status, 0, stdin.stderr);
  assert.deepEqual(JSON.parse(stdin.stdout), result);
});

test('rethink exec refuses a spec whose key, params or plugin code does not match, naming the field (exit 3), and publishes nothing', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  const good = await specOf(p.dir, 'a');
  const cases: readonly [string, JobSpec, RegExp][] = [
    ['key', { ...good, key: `${good.key.slice(0, -1)}${good.key.endsWith('0') ? '1' : '0'}` as JobSpec['key'] }, /error\[E_BAD_SPEC\]: job spec key\.json: key: is not the hash of keyRecord \(/],
    ['params', { ...good, params: { ...good.params, value: 8 } }, /error\[E_BAD_SPEC\]: job spec params\.json: params: \{.*"value":8\} differs from keyRecord's \{.*"value":7\}/],
    ['missing', Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'keyRecord')) as unknown as JobSpec, /job spec missing\.json: keyRecord: is missing\n {2}= field keyRecord/],
  ];
  for (const [name, spec, message] of cases) {
    await writeFile(join(p.dir, `${name}.json`), JSON.stringify(spec));
    const r = await p.cli('exec', '--spec', `${name}.json`, '--cache-dir', 'c');
    assert.equal(r.code, 3, name);
    assert.match(r.stderr, message);
  }
  // The spec is consistent, but this machine's plugin code is not what it was made for.
  await writeFile(join(p.dir, 'code.json'), JSON.stringify(good));
  await appendFile(join(p.dir, 'plugins.mjs'), '\n// edited after the spec was made\n');
  const code = await p.cli('exec', '--spec', 'code.json', '--cache-dir', 'c');
  assert.equal(code.code, 3);
  assert.match(code.stderr, new RegExp(`error\\[E_SPEC_MISMATCH\\]: stage a: plugin\\.code: plugin "emit" has code hash [0-9a-f]{64} here, not ${good.plugin.code}\\n {2}= field plugin\\.code`));
  assert.deepEqual(await entries(join(p.dir, 'c', 'objects')), [], 'nothing published');
});

test("rethink exec exits 2 on a stage's user error, with the error in its JSON result", async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  await writeFile(join(p.dir, 'bad.json'), JSON.stringify(await specOf(p.dir, 'bad')));
  const r = await p.cli('exec', '--spec', 'bad.json', '--cache-dir', 'c');
  assert.equal(r.code, 2);
  assert.deepEqual(JSON.parse(r.stdout), { ok: false, error: { name: 'Error', message: 'checksum mismatch for https://example.org/x: expected 0abc, got 0def', userError: true } });
  assert.match(r.stderr, /rethink exec: stage bad failed: checksum mismatch/);
  assert.deepEqual(await entries(join(p.dir, 'c', 'objects')), [], "a failed stage's outputs are discarded");
});

test('rethink exec refuses a spec whose inputs are not in the cache, naming the input (exit 3)', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  const absent = { hash: asObjectHash('ab'.repeat(32)), kind: 'json' as const, size: 17 };
  await writeFile(join(p.dir, 'b.json'), JSON.stringify(await specOf(p.dir, 'b', { a: { out: absent } })));
  const r = await p.cli('exec', '--spec', 'b.json', '--cache-dir', 'c');
  assert.equal(r.code, 3);
  assert.match(r.stderr, /error\[E_MISSING_INPUT\]: stage b: input x \(a\.out, abababababab…\) is not in \/.*\/c\n/);
  assert.deepEqual(await entries(join(p.dir, 'c', 'objects')), []);
});
