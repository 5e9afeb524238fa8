import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { compiledBin, project, TEST_PLUGINS } from '../support/tmp-project.js';

/** Runs `rethink validate` on one pipeline text and returns stderr and the exit code. */
async function validate(yaml: string, ...flags: string[]) {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'x.yaml': yaml });
  return p.cli('validate', 'x.yaml', ...flags);
}

/** The `file:line:col: error[CODE]` heads of the diagnostics. */
const heads = (stderr: string) => [...stderr.matchAll(/^(\S+:\d+:\d+): error\[(\w+)\]/gm)].map((m) => `${m[1]} ${m[2]}`);

test('an unknown key points at the key, with the line, a marker and a suggestion', async () => {
  const r = await validate(`stages:
  a:
    uses: ./plugins.mjs
    wiht: { value: 1 }
`);
  assert.equal(r.code, 2);
  assert.deepEqual(heads(r.stderr), ['x.yaml:4:5 E_UNKNOWN_KEY']);
  assert.ok(r.stderr.includes('  4 |     wiht: { value: 1 }\n    |     ^^^^\n'), r.stderr);
  assert.match(r.stderr, /did you mean "with"\? valid keys: uses, description, with, inputs, matrix, exclude, seed/);
});

test('wrong types, bad params and interpolation errors point at the value', async () => {
  const r = await validate(`seed: -1
stages:
  a:
    uses: ./plugins.mjs
    with: { value: "x", extra: 2 }
  b:
    uses: ./plugins.mjs
    matrix: { p: [1, 2] }
    with:
      value: "\${matrix.q}"
`);
  assert.equal(r.code, 2);
  assert.deepEqual(heads(r.stderr), ['x.yaml:1:7 E_BAD_VALUE']);
  const fixed = await validate(`stages:
  a:
    uses: ./plugins.mjs
    with: { value: "x", extra: 2 }
  b:
    uses: ./plugins.mjs
    matrix: { p: [1, 2] }
    with:
      value: "\${matrix.q}"
`);
  assert.deepEqual(heads(fixed.stderr), ['x.yaml:4:20 E_TYPE', 'x.yaml:4:25 E_UNKNOWN_KEY', 'x.yaml:9:14 E_INTERPOLATION'], 'in file order');
  assert.match(fixed.stderr, /unknown key "extra" in plugin "emit" params/);
  assert.match(fixed.stderr, /matrix has: p/);
});

test('unknown plugin, unknown stage, missing and ambiguous inputs name what would be valid', async () => {
  const r = await validate(`stages:
  data: { uses: ./plugins.mjs, with: { value: 1 }, matrix: { p: [1, 2] } }
  one:
    uses: emitt
  two:
    uses: ./plugins.mjs
    with: { value: 1 }
    inputs: { x: dta }
`);
  assert.deepEqual(heads(r.stderr), ['x.yaml:4:11 E_UNKNOWN_PLUGIN', 'x.yaml:8:18 E_UNKNOWN_STAGE']);
  assert.match(r.stderr, /did you mean "data"\? stages: data, one, two/);
  const single = `export { plugin as base } from './plugins.mjs';
import { plugin as p } from './plugins.mjs';
export const plugin = { ...p, name: 'single', inputs: { x: {} } };
`;
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'single.mjs': single, 'x.yaml': `stages:
  data: { uses: ./plugins.mjs, with: { value: 1 }, matrix: { p: [1, 2] } }
  need: { uses: ./single.mjs, with: { value: 1 } }
  amb:
    uses: ./single.mjs
    with: { value: 1 }
    inputs: { x: data }
  pick:
    uses: ./single.mjs
    with: { value: 1 }
    inputs: { x: "data[p=2]", y: data }
` });
  const r2 = await q.cli('validate', 'x.yaml');
  assert.equal(r2.code, 2);
  assert.deepEqual(heads(r2.stderr).sort(), ['x.yaml:11:31 E_UNKNOWN_INPUT', 'x.yaml:3:3 E_MISSING_INPUT', 'x.yaml:7:18 E_AMBIGUOUS_INPUT'].sort());
  assert.match(r2.stderr, /matches 2 instances of "data" \(its axes p are not in amb's matrix\)/);
});

test('a cycle names every stage in it with its line', async () => {
  const r = await validate(`stages:
  a: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: c } }
  ok: { uses: ./plugins.mjs, with: { value: 1 } }
  b: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: a } }
  c: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: [b, ok] } }
`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^x\.yaml:2:3: error\[E_CYCLE\]: cycle between stages: a → b → c → a$/m);
  assert.match(r.stderr, /x\.yaml:4:3: stage "b" is on the cycle/);
  assert.match(r.stderr, /x\.yaml:5:3: stage "c" is on the cycle/);
});

test('YAML syntax errors and duplicate stage ids point into the file', async () => {
  const r = await validate(`stages:
  a: { uses: ./plugins.mjs, with: { value: 1 } }
  a: { uses: ./plugins.mjs, with: { value: 2 } }
`);
  assert.deepEqual(heads(r.stderr), ['x.yaml:3:3 E_DUPLICATE_KEY']);
  const s = await validate('stages:\n  a: [1, 2\n');
  assert.equal(s.code, 2);
  assert.match(heads(s.stderr)[0]!, /^x\.yaml:\d+:\d+ E_YAML$/);
  const m = await validate(`stages:
  a: { uses: ./plugins.mjs, with: { value: 1 }, matrix: { p: [1, 1] } }
`);
  assert.deepEqual(heads(m.stderr), ['x.yaml:2:49 E_DUPLICATE_ID']);
});

test('one pass reports a misspelt input together with bad params, in file order', async () => {
  const r = await validate(`stages:
  data: { uses: fashion-mnist }
  t:
    uses: train
    inputs: { data: dta }
    with: { model: mlp_1x512, epochs: -1 }
  u: { uses: nope }
`);
  assert.deepEqual(heads(r.stderr), ['x.yaml:5:21 E_UNKNOWN_STAGE', 'x.yaml:6:39 E_BAD_VALUE', 'x.yaml:7:14 E_UNKNOWN_PLUGIN']);
  assert.match(r.stderr, /\n3 errors\n$/);
});

test("a value outside an enum suggests the nearest valid one; a wrong type says what it got", async () => {
  const r = await validate(`stages:
  data: { uses: fashion-mnist }
  t:
    uses: train
    with: { model: mlp_1x51, epochs: 2.5, batch_size: [1], lr: fast }
    inputs: { data: data }
`);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /stages\.t\.with\.model must be one of "mlp_1x512", .*\n(.*\n){3} {2}= did you mean "mlp_1x512"\?/);
  assert.match(r.stderr, /stages\.t\.with\.epochs must be an integer, not the number 2\.5/);
  assert.match(r.stderr, /stages\.t\.with\.batch_size must be an integer, not a list/);
  assert.match(r.stderr, /stages\.t\.with\.lr must be a number or null, not the string "fast"/);
  // Nothing close: no guess, just the valid values in the message.
  const far = await validate(`stages:\n  data: { uses: fashion-mnist }\n  t: { uses: train, with: { model: resnet50 }, inputs: { data: data } }\n`);
  assert.match(far.stderr, /must be one of "mlp_1x512"/);
  assert.doesNotMatch(far.stderr, /did you mean/);
});

test('bad flags and --set are user errors', async () => {
  const ok = `stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n`;
  const r = await validate(ok, '--sett', 'a=1');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /did you mean --set\?/);
  const s = await validate(ok, '--set', 'nostage.with.value=1');
  assert.match(s.stderr, /--set nostage.with.value=1: no stage "nostage"/);
  const t = await validate(ok, '--set', 'a.with.value=abc');
  assert.match(t.stderr, /stages\.a\.with\.value must be a number, not the string "abc"/);
});

test('the real binary exits 2 on a bad pipeline, without a stack trace', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'x.yaml': 'stages:\n  a: { uses: nope }\n' });
  const r = spawnSync(process.execPath, [compiledBin(), 'run', 'x.yaml'], { cwd: p.dir, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^x\.yaml:2:14: error\[E_UNKNOWN_PLUGIN\]: stage "a": unknown plugin "nope"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/** Nine levels of nine aliases each: a few hundred bytes that would expand to 9⁹ values. */
const laughs = (indent: string) =>
  ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((c, i) => {
    const prev = 'abcdefghi'[i]!;
    return `${c}: &${c} [${Array(9).fill(`*${prev}`).join(', ')}]`;
  })].map((l) => `${indent}${l}`).join('\n');

test('a YAML alias bomb, in the file or in --set, is a located user error naming the limit', async () => {
  const ok = `stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n`;
  const r = await validate(`vars:\n${laughs('  ')}\n${ok}`);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(heads(r.stderr), ['x.yaml:7:10 E_YAML_ALIASES']);
  assert.match(r.stderr, /aliases expand to more than 100,000 values \(at \*e\)/);
  const inline = `[${laughs('').split('\n').map((l) => l.replace(/^\w: /, '')).join(', ')}]`;
  const s = await validate(ok, '--set', `vars.x=${inline}`);
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /^error\[E_YAML_ALIASES\]: --set vars\.x: YAML aliases expand to more than 100,000 values/);
  const self = await validate(`vars:\n  a: &a [1, *a]\n${ok}`);
  assert.deepEqual(heads(self.stderr), ['x.yaml:2:13 E_YAML_ALIASES']);
  const fine = await validate(`vars:\n  a: &a { lr: 0.1 }\n  b: *a\n${ok}`);
  assert.equal(fine.code, 0, fine.stderr);
});

test('non-finite numbers (.inf, -.inf, .nan) are refused by validate and run, naming the field or the flag', async () => {
  const r = await validate(`vars:\n  big: 1e999\nstages:\n  a:\n    uses: ./plugins.mjs\n    matrix: { p: [1, .nan] }\n    with: { value: -.inf }\n`);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(heads(r.stderr), ['x.yaml:2:8 E_NOT_FINITE', 'x.yaml:6:22 E_NOT_FINITE', 'x.yaml:7:20 E_NOT_FINITE']);
  assert.match(r.stderr, /stages\.a\.matrix\.p\[1\] is \.nan: pipeline values must be finite numbers/);
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'x.yaml': `stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n` });
  for (const command of ['validate', 'run']) {
    const s = await p.cli(command, 'x.yaml', '--set', 'a.with.value=.inf');
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /^error\[E_NOT_FINITE\]: --set a\.with\.value: \.inf is not a finite number/);
  }
});

test('bad resources:, executor: and slurm: values point at the value and say what would be valid', async () => {
  const r = await validate(`slurm: { partition: cpu, gpu_partiton: gpu }
stages:
  a:
    uses: ./plugins.mjs
    with: { value: 1 }
    resources: { gpu: requried, cores: 0, memory: 16Q, time: soon }
    executor: remote
  b:
    uses: ./plugins.mjs
    matrix: { mem: [1G, 2G] }
    with: { value: 1 }
    resources: { gpu: true, memory: "\${matrix.mem}" }
`);
  assert.equal(r.code, 2);
  assert.deepEqual(heads(r.stderr), [
    'x.yaml:1:26 E_UNKNOWN_KEY',
    'x.yaml:6:23 E_BAD_VALUE',
    'x.yaml:6:40 E_BAD_VALUE',
    'x.yaml:6:51 E_BAD_VALUE',
    'x.yaml:6:62 E_BAD_VALUE',
    'x.yaml:7:15 E_BAD_VALUE',
    'x.yaml:12:23 E_TYPE',
    'x.yaml:12:37 E_BAD_VALUE',
  ]);
  assert.match(r.stderr, /did you mean "gpu_partition"\? valid keys: partition, gpu_partition, account, args/);
  assert.match(r.stderr, /stages\.a\.resources\.gpu must be one of "none", "preferred", "required"\n(.*\n){3} {2}= did you mean "required"\?/);
  assert.match(r.stderr, /stages\.a\.resources\.cores must be >= 1\n(.*\n){3} {2}= Cores one instance needs: a whole number ≥ 1, or all/);
  assert.match(r.stderr, /stages\.a\.resources\.memory has the wrong shape\n(.*\n){3} {2}= Memory one instance needs: MiB, or "512M", "16G"/);
  assert.match(r.stderr, /stages\.a\.resources\.time has the wrong shape\n(.*\n){3} {2}= Wall time one attempt may take on a cluster \(sbatch -t\): seconds, or "90m", "2h"/);
  assert.match(r.stderr, /stages\.a\.executor must be one of "local"\n(.*\n){3} {2}= local: run this stage in the coordinator/);
  assert.match(r.stderr, /stages\.b\.resources\.gpu must be an integer, not true\n(.*\n){3} {2}= none \(CPU only\), preferred/);
  // Like timeout, resources are literal values: a sweep varies them with one stage per value.
  assert.match(r.stderr, /stages\.b\.resources\.memory has the wrong shape/);
  for (const [field, value] of [['time', '5 minutes'], ['time', '0h'], ['memory', '0.0G'], ['memory', '16GB']] as const) {
    const set = await validate(`stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n`, '--set', `a.resources.${field}=${value}`);
    assert.equal(set.code, 2, value);
    assert.match(set.stderr, new RegExp(`stages\\.a\\.resources\\.${field} has the wrong shape`), value);
  }
});
