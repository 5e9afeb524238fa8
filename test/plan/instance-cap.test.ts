import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compiledBin, project, TEST_PLUGINS } from '../support/tmp-project.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i).join(', ');

test('a 10⁸-instance matrix is refused at its matrix: line before anything is expanded', { timeout: 60_000 }, async () => {
  const p = await project({
    'plugins.mjs': TEST_PLUGINS,
    'x.yaml': `stages:
  a: { uses: ./plugins.mjs, with: { value: 1 } }
  big:
    uses: ./plugins.mjs
    matrix: { p: [${range(1000)}], q: [${range(1000)}], r: [${range(100)}] }
    with: { value: "\${matrix.p}" }
`,
  });
  // A 256 MB heap: expanding even a tenth of the sweep would run out of memory (it took 5 GB).
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', compiledBin(), 'validate', 'x.yaml'], { cwd: p.dir, encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 2, `exit ${r.status} ${r.signal ?? ''}: ${r.stderr.slice(0, 2000)}`);
  assert.match(
    r.stderr,
    /^x\.yaml:5:5: error\[E_TOO_MANY_INSTANCES\]: stage "big": its matrix expands to 100,000,000 instances \(p: 1,000 × q: 1,000 × r: 100\), more than the cap of 1,000,000\n/,
  );
  assert.ok(r.stderr.includes('  5 |     matrix: { p: [0, 1,'), r.stderr.slice(0, 2000));
  assert.match(r.stderr, /= sweep fewer values, or raise the cap with a top-level `max_instances: 100000000` in the pipeline \(or --set max_instances=100000000\)$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('max_instances lowers or raises the cap, per stage and for the whole pipeline, and --set can change it', async () => {
  const p = await project({
    'plugins.mjs': TEST_PLUGINS,
    'x.yaml': `max_instances: 10
stages:
  a:
    uses: ./plugins.mjs
    matrix: { p: [1, 2, 3], q: [1, 2, 3, 4] }
    with: { value: "\${matrix.p}" }
`,
    'y.yaml': `max_instances: 10
stages:
  a:
    uses: ./plugins.mjs
    matrix: { p: [1, 2, 3, 4, 5, 6] }
    with: { value: "\${matrix.p}" }
  b:
    uses: ./plugins.mjs
    matrix: { p: [1, 2, 3, 4, 5, 6] }
    with: { value: "\${matrix.p}" }
  c:
    uses: ./plugins.mjs
    matrix: { p: [1, 2, 3, 4, 5, 6] }
    with: { value: "\${matrix.p}" }
`,
  });
  const one = await p.cli('validate', 'x.yaml');
  assert.equal(one.code, 2);
  assert.match(one.stderr, /^x\.yaml:5:5: error\[E_TOO_MANY_INSTANCES\]: stage "a": its matrix expands to 12 instances \(p: 3 × q: 4\), more than the cap of 10$/m);
  const raised = await p.cli('validate', 'x.yaml', '--set', 'max_instances=12');
  assert.equal(raised.code, 0, raised.stderr);
  assert.match(raised.stdout, /ok \(1 stages, 12 instances/);

  // The total is reported once, at the stage that crosses it.
  const total = await p.cli('validate', 'y.yaml');
  assert.equal(total.code, 2);
  assert.deepEqual([...total.stderr.matchAll(/error\[(\w+)\]/g)].map((m) => m[1]), ['E_TOO_MANY_INSTANCES']);
  assert.match(total.stderr, /^y\.yaml:9:5: error\[E_TOO_MANY_INSTANCES\]: stage "b": its matrix of 6 instances brings the pipeline to 12 instances, more than the cap of 10$/m);
  assert.equal((await p.cli('validate', 'y.yaml', '--set', 'max_instances=18')).code, 0);

  const bad = await p.cli('validate', 'x.yaml', '--set', 'max_instances=0');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /max_instances must be >= 1/);
});
