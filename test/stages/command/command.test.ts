// The `command` plugin through the real CLI: values stay literal arguments, `files:` and the
// command's text are in the key (and `status` names what moved), declared outputs are enforced, a
// failing command shows its last lines, a timeout or Ctrl-C ends its whole process group, a Python
// stage reads a dataset artifact with python/rethink.py, and results reproduce under the subprocess
// executor and `rethink verify`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledBin, project, TEST_PLUGINS } from '../../support/tmp-project.js';
import { startCli, until } from '../../support/cli-process.js';
import { openSafetensors } from '../../../src/tensors/safetensors.js';

const PYTHON_HELPER = join(compiledBin(), '..', '..', '..', '..', 'python');

/** Writes its argv (after the script) and the env names it sees as JSON to its last argument. */
const ARGS_PY = `import json, os, sys
*args, out = sys.argv[1:]
json.dump({"args": args, "env": {k: os.environ[k] for k in sorted(os.environ) if k.startswith(("RETHINK_", "MY_"))}}, open(out, "w"))
`;

/** The last JSON output a stage wrote, through `rethink show --json`. */
async function outputOf(p: Awaited<ReturnType<typeof project>>, id: string, output: string): Promise<unknown> {
  const r = await p.cli('show', id, 'p.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { outputs: Record<string, { value?: unknown; path: string }> };
  return doc.outputs[output]!.value ?? JSON.parse(await readFile(doc.outputs[output]!.path, 'utf8'));
}

const isGone = (pid: number): boolean => {
  try {
    // A zombie waiting for its reaper is gone too: it runs nothing.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
};

test('values from vars and matrix stay one literal argument each: spaces, quotes, $(…) and ; are never run', async () => {
  const nasty = `it's "a" $(touch pwned) ; rm -rf x`;
  const p = await project({
    'args.py': ARGS_PY,
    'p.yaml': `vars: { nasty: ${JSON.stringify(nasty)} }
stages:
  plain:
    uses: command
    matrix: { word: ["two words", "$HOME"] }
    with:
      run: python3 args.py \${vars.nasty} --name=\${matrix.word} "in \${matrix.word} quotes" 'single \${vars.nasty}' $(echo literal) \${outputs.out}
      env: { MY_VALUE: "\${matrix.word}" }
    outputs: { out: json }
  bash:
    uses: command
    with:
      run: python3 args.py \${vars.nasty} "q \${vars.nasty}" $(echo expanded) \${outputs.out} | cat
      shell: bash
    outputs: { out: json }
`,
  });
  const r = await p.run('p.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await outputOf(p, 'plain[word=two words]', 'out'), {
    args: [nasty, '--name=two words', 'in two words quotes', `single ${nasty}`, '$(echo', 'literal)'],
    env: { MY_VALUE: 'two words', RETHINK_CORES: '1', RETHINK_SEED: '0', RETHINK_STAGE_ID: 'plain[word=two words]' },
  });
  assert.deepEqual(((await outputOf(p, 'plain[word=$HOME]', 'out')) as { args: string[] }).args.slice(1, 3), ['--name=$HOME', 'in $HOME quotes']);
  // Under a shell, the text's own syntax works ($(…), pipes), and values are still literal.
  assert.deepEqual(((await outputOf(p, 'bash', 'out')) as { args: string[] }).args, [nasty, `q ${nasty}`, 'expanded']);
  assert.equal(existsSync(join(p.dir, 'pwned')), false);
});

test('the key holds the listed files: editing one reruns the stage and status names it; an unlisted file changes nothing', async () => {
  const p = await project({
    'args.py': ARGS_PY,
    'lib/util.py': '# v1\n',
    'notes.txt': 'one',
    'p.yaml': `stages:
  cmd:
    uses: command
    with: { run: "python3 args.py \${outputs.out}", files: [args.py, "lib/**/*.py"] }
    outputs: { out: json }
`,
  });
  assert.equal((await p.run('p.yaml')).status.cmd, 'ran');
  await p.write({ 'notes.txt': 'two' });
  assert.equal((await p.run('p.yaml')).status.cmd, 'cached');
  await p.write({ 'lib/util.py': '# v2\n' });
  assert.match((await p.cli('status', 'p.yaml')).stdout, /will run +cmd +the files it reads changed \(fingerprint: files\.lib\/util\.py\)/);
  assert.equal((await p.run('p.yaml')).status.cmd, 'ran');
  await p.write({ 'lib/new.py': '' });
  assert.match((await p.cli('status', 'p.yaml')).stdout, /will run +cmd +the files it reads changed \(fingerprint: files\.lib\/new\.py added\)/);
});

test('a declared output the command did not write, or a file it left beside its outputs, fails the stage and keeps nothing', async () => {
  const p = await project({
    'p.yaml': `stages:
  missing:
    uses: command
    with: { run: "touch \${outputs.a}", shell: bash }
    outputs: { a: file, b: json }
  extra:
    uses: command
    with: { run: "echo '{}' > \${outputs.a}; touch \${outputs.a}.bak", shell: bash }
    outputs: { a: json }
`,
  });
  const r = await p.run('p.yaml', '--keep-going');
  assert.equal(r.code, 2, r.stderr);
  const reasons = Object.fromEntries(r.doc.stages.map((s) => [s.id, s.reason ?? '']));
  assert.match(reasons.missing!, /^the command did not write output "b" \(json\) to \$\{outputs\.b\} \(.*\/outputs\/b\.json\)$/);
  assert.match(reasons.extra!, /^the command wrote "a\.json\.bak" in its outputs folder, which no output of stage extra declares \(declared: a \(json, .*\)\); write scratch files to \$TMPDIR$/);
  assert.deepEqual(await readdir(join(p.dir, 'cache', 'objects')).catch(() => []), []);
});

test('a command that exits non-zero fails with its last lines; ::error makes it a user error; an unknown program is named', async () => {
  const p = await project({
    'p.yaml': `stages:
  fails:
    uses: command
    with: { run: "for i in $(seq 1 30); do echo line $i; done; echo oops >&2; exit 3", shell: bash }
    outputs: { a: json }
  refuses:
    uses: command
    with: { run: "python3 -c \\"print('::error torch is missing: apt-get install -y python3-torch'); raise SystemExit(1)\\"" }
    outputs: { a: json }
  absent:
    uses: command
    with: { run: "no-such-program --flag" }
    outputs: { a: json }
`,
  });
  const fails = await p.run('p.yaml', '--only', 'fails');
  assert.equal(fails.code, 1);
  const reason = fails.doc.stages[0]!.reason!;
  assert.match(reason, /^the command exited with code 3: for i in .*; its last lines:\n {4}line 12\n/);
  assert.match(reason, /line 30\n {4}oops$/);
  assert.doesNotMatch(reason, /line 11\n/);
  const refuses = await p.run('p.yaml', '--only', 'refuses');
  assert.equal(refuses.code, 2);
  assert.equal(refuses.doc.stages[0]!.reason, 'torch is missing: apt-get install -y python3-torch (the command exited with code 1)');
  const absent = await p.run('p.yaml', '--only', 'absent');
  assert.equal(absent.code, 2);
  assert.match(absent.doc.stages[0]!.reason!, /^stage absent: program "no-such-program" not found on PATH/);
});

test('a timeout kills the command and everything it started, grandchildren included', async () => {
  const p = await project({
    'p.yaml': `stages:
  slow:
    uses: command
    timeout: 1s
    with: { run: "sh -c 'sleep 300 & echo $! > grandchild.pid; wait' & echo $! > child.pid; wait", shell: bash }
    outputs: { a: json }
`,
  });
  const r = await p.run('p.yaml');
  assert.equal(r.code, 1);
  assert.equal(r.doc.stages[0]!.reason, 'timed out after 1s');
  const pids = ['child.pid', 'grandchild.pid'].map((f) => Number(readFileSync(join(p.dir, f), 'utf8')));
  await until('the killed processes to be reaped', () => pids.every(isGone), 5_000);
});

test('Ctrl-C stops the run and kills the command\'s whole process group', async () => {
  const p = await project({
    'p.yaml': `stages:
  long:
    uses: command
    with: { run: "sh -c 'sleep 300 & echo $! > grandchild.pid; wait'", shell: bash }
    outputs: { a: json }
`,
  });
  const cli = startCli(p.dir, ['run', 'p.yaml']);
  await until('the command to start its grandchild', () => existsSync(join(p.dir, 'grandchild.pid')) && readFileSync(join(p.dir, 'grandchild.pid'), 'utf8').trim() !== '');
  const pid = Number(readFileSync(join(p.dir, 'grandchild.pid'), 'utf8'));
  cli.child.kill('SIGINT');
  const exit = await cli.done;
  assert.equal(exit.code, 130, exit.stderr);
  await until('the grandchild to be reaped', () => isGone(pid), 5_000);
});

/** A tiny dataset, as the dataset plugins write one: x uint8 [N,2,2,1], y int32 [N], classes. */
const DATASET_PLUGIN = `export const plugin = {
  name: 'tiny', version: '1', description: 'a 3-image dataset', params: { type: 'object' }, inputs: {},
  outputs: { dataset: { kind: 'tensors' } },
  async run(ctx) {
    const x = Uint8Array.from({ length: 12 }, (_, i) => i * 10);
    await ctx.writeTensors('dataset', {
      x_train: { dtype: 'uint8', shape: [3, 2, 2, 1], data: x },
      y_train: { dtype: 'int32', shape: [3], data: Int32Array.from([0, 1, 1]) },
    }, { classes: JSON.stringify(['cat', 'dog']) });
  },
};
`;

/** Reads the dataset with the helper (without numpy, so it runs wherever python3 does), writes a metric and tensors. */
const STATS_PY = `import json, sys, rethink
data, meta = rethink.load(sys.argv[1], numpy=False, metadata=True)
x, y = data["x_train"], data["y_train"]
rethink.progress(step="1/1")
json.dump({"shape": list(x.shape), "mean": sum(x.tolist()) / len(x.tolist()), "labels": y.tolist(), "classes": json.loads(meta["classes"])}, open(sys.argv[2], "w"))
rethink.save(sys.argv[3], {"counts": ("I32", [2], [y.tolist().count(0), y.tolist().count(1)])}, metadata={"from": "stats.py"})
`;

test('a Python stage reads a dataset artifact with python/rethink.py and writes a JSON metric and tensors', async () => {
  const p = await project({
    'tiny.mjs': DATASET_PLUGIN,
    'stats.py': STATS_PY,
    'p.yaml': `stages:
  data: { uses: ./tiny.mjs }
  stats:
    uses: command
    with:
      run: python3 stats.py \${inputs.data} \${outputs.metrics} \${outputs.counts}
      env: { PYTHONPATH: ${JSON.stringify(PYTHON_HELPER)}, PYTHONDONTWRITEBYTECODE: "1" }
      files: [stats.py]
    inputs: { data: data.dataset }
    outputs: { metrics: json, counts: tensors }
`,
  });
  const r = await p.run('p.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await outputOf(p, 'stats', 'metrics'), { shape: [3, 2, 2, 1], mean: 55, labels: [0, 1, 1], classes: ['cat', 'dog'] });
  const show = JSON.parse((await p.cli('show', 'stats', 'p.yaml', '--json')).stdout) as { outputs: Record<string, { path: string }> };
  const counts = await openSafetensors(show.outputs.counts!.path);
  try {
    assert.deepEqual(counts.metadata, { from: 'stats.py' });
    assert.deepEqual([...(await counts.read('counts')).data], [1, 2]);
  } finally {
    await counts.close();
  }
});

/** A command whose output depends only on its input: a comment in the script changes nothing it writes. */
const DOUBLE_PY = `import json, sys
v = json.load(open(sys.argv[1]))["value"]
json.dump({"value": 2 * v}, open(sys.argv[2], "w"))
`;

test('caching and early cutoff across command stages: a script edit that leaves the output alone leaves its dependents cached', async () => {
  const p = await project({
    'double.py': DOUBLE_PY,
    'first.py': `import json, sys\njson.dump({"value": 21}, open(sys.argv[1], "w"))\n`,
    'p.yaml': `stages:
  first:
    uses: command
    with: { run: "python3 first.py \${outputs.out}", files: [first.py] }
    outputs: { out: json }
  second:
    uses: command
    matrix: { copy: [1, 2] }
    with: { run: "python3 double.py \${inputs.x} \${outputs.out} \${matrix.copy}", files: [double.py] }
    inputs: { x: first }
    outputs: { out: json }
`,
  });
  assert.deepEqual((await p.run('p.yaml')).status, { first: 'ran', 'second[copy=1]': 'ran', 'second[copy=2]': 'ran' });
  assert.deepEqual((await p.run('p.yaml')).status, { first: 'cached', 'second[copy=1]': 'cached', 'second[copy=2]': 'cached' });
  await p.write({ 'first.py': `# a comment\nimport json, sys\njson.dump({"value": 21}, open(sys.argv[1], "w"))\n` });
  // Only the edited stage's own files moved: its dependents wait on it, their files are the same.
  assert.match((await p.cli('status', 'p.yaml')).stdout, /will run +second\[copy=1\] +upstream first will run\n/);
  assert.deepEqual((await p.run('p.yaml')).status, { first: 'ran', 'second[copy=1]': 'cached', 'second[copy=2]': 'cached' });
  await p.write({ 'double.py': `${DOUBLE_PY}# edited\n` });
  assert.deepEqual((await p.run('p.yaml')).status, { first: 'cached', 'second[copy=1]': 'ran', 'second[copy=2]': 'ran' });
  assert.deepEqual(await outputOf(p, 'second[copy=2]', 'out'), { value: 42 });
});

/** Adds its script's step to the value it reads (a JSON {value}) and writes {value}. */
const step = (n: number): string => `import json, sys\nv = json.load(open(sys.argv[1]))["value"]\njson.dump({"value": v + ${n}}, open(sys.argv[2], "w"))\n`;

test('a sweep mixing plugin and command stages reruns with nothing to do, then exactly the command stages whose script changed', async () => {
  const p = await project({
    'plugins.mjs': TEST_PLUGINS,
    'add1.py': step(1),
    'add2.py': step(2),
    'p.yaml': `stages:
  base:
    uses: ./plugins.mjs
    matrix: { v: [10, 20] }
    with: { value: "\${matrix.v}" }
  cmd:
    uses: command
    matrix: { v: [10, 20], script: [add1.py, add2.py] }
    with: { run: "python3 \${matrix.script} \${inputs.x} \${outputs.out}", files: ["\${matrix.script}"] }
    inputs: { x: base }
    outputs: { out: json }
  total:
    uses: ./plugins.mjs
    with: { value: 0 }
    inputs: { x: "cmd[*]" }
`,
  });
  const first = await p.run('p.yaml');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(await outputOf(p, 'total', 'out'), { value: 11 + 12 + 21 + 22 });
  assert.ok(Object.values((await p.run('p.yaml')).status).every((s) => s === 'cached'));
  await p.write({ 'add2.py': step(3) });
  assert.deepEqual((await p.run('p.yaml')).status, {
    'base[v=10]': 'cached',
    'base[v=20]': 'cached',
    'cmd[v=10,script=add1.py]': 'cached',
    'cmd[v=10,script=add2.py]': 'ran',
    'cmd[v=20,script=add1.py]': 'cached',
    'cmd[v=20,script=add2.py]': 'ran',
    total: 'ran',
  });
  assert.deepEqual(await outputOf(p, 'total', 'out'), { value: 11 + 13 + 21 + 23 });
});

test('a command stage computes the same bytes under --executor subprocess, and rethink verify finds it reproduces', async () => {
  const files = {
    'double.py': DOUBLE_PY,
    'p.yaml': `stages:
  first:
    uses: command
    with: { run: "echo '{\\"value\\": 4}' > \${outputs.out}", shell: bash }
    outputs: { out: json }
  second:
    uses: command
    with: { run: "python3 double.py \${inputs.x} \${outputs.out}", files: [double.py] }
    inputs: { x: first }
    outputs: { out: json }
`,
  };
  const local = await project(files);
  const sub = await project(files);
  const l = await local.run('p.yaml');
  const s = await sub.run('p.yaml', '--executor', 'subprocess');
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(s.doc.stages.map((x) => [x.id, x.status, x.key, x.outputs]), l.doc.stages.map((x) => [x.id, x.status, x.key, x.outputs]));
  const v = await sub.cli('verify', 'p.yaml');
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, /done: 2 reproduced, 0 differ/);
});

test('the planner checks a command stage\'s ports: outputs declared, references to ports that exist, outputs: only where the plugin takes them', async () => {
  const p = await project({
    'none.yaml': 'stages:\n  c: { uses: command, with: { run: "true" } }\n',
    'typo.yaml': 'stages:\n  c: { uses: command, with: { run: "echo ${outputs.metric}" }, outputs: { metrics: json } }\n',
    'other.yaml': 'stages:\n  c: { uses: aggregate, outputs: { x: json } }\n',
  });
  const none = await p.cli('validate', 'none.yaml');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /E_STAGE_OUTPUTS\]: stage "c" \(command\) declares no outputs/);
  const typo = await p.cli('validate', 'typo.yaml');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /E_INTERPOLATION\]: stage "c": \$\{outputs\.metric\} names no output of the stage[\s\S]*its outputs: metrics/);
  const other = await p.cli('validate', 'other.yaml');
  assert.equal(other.code, 2);
  assert.match(other.stderr, /E_STAGE_OUTPUTS\]: stage "c": plugin "aggregate" declares its own outputs/);
});
