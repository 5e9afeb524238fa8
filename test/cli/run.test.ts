import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project, SWEEP, TEST_PLUGINS, HEAVY_PLUGIN } from '../support/tmp-project.js';

test('a sweep expands, matches instances by shared axes, and fans in', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const r = await p.cli('dag', 'p.yaml', '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  const dag = JSON.parse(r.stdout) as { nodes: { id: string; inputs: Record<string, { id: string }[]> }[]; edges: unknown[] };
  assert.deepEqual(
    dag.nodes.map((n) => n.id),
    ['download', 'corrupt[p=0]', 'corrupt[p=0.5]', 'train[p=0,seed=1]', 'train[p=0,seed=2]', 'train[p=0.5,seed=1]', 'train[p=0.5,seed=2]', 'aggregate'],
  );
  const train = dag.nodes.find((n) => n.id === 'train[p=0.5,seed=2]')!;
  assert.deepEqual(train.inputs.x!.map((s) => s.id), ['corrupt[p=0.5]']);
  assert.equal(dag.nodes.find((n) => n.id === 'aggregate')!.inputs.x!.length, 4);
  assert.equal(dag.edges.length, 2 + 4 + 4);

  const first = await p.run('p.yaml');
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.doc.stages.every((s) => s.status === 'ran'));
  // aggregate = Σ over 4 trains of (1 + (p + 10)) = 4 + 2·10 + 2·10.5
  const agg = await p.cli('show', 'aggregate', 'p.yaml', '--json');
  assert.equal((JSON.parse(agg.stdout) as { outputs: { out: { value: { value: number } } } }).outputs.out.value.value, 45);
});

test('a second run runs nothing; --set reruns exactly the affected stages, as status said', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  await p.run('p.yaml');
  const again = await p.run('p.yaml');
  assert.deepEqual(new Set(Object.values(again.status)), new Set(['cached']));

  const st = await p.cli('status', 'p.yaml', '--json', '--set', 'corrupt.with.value=7', '--set', 'vars.base=10');
  const states = (JSON.parse(st.stdout) as { stages: { id: string; status: string; reasons: string[] }[] }).stages;
  const willRun = states.filter((s) => s.status === 'will-run').map((s) => s.id);
  assert.deepEqual(willRun, ['corrupt[p=0]', 'corrupt[p=0.5]', 'train[p=0,seed=1]', 'train[p=0,seed=2]', 'train[p=0.5,seed=1]', 'train[p=0.5,seed=2]', 'aggregate']);
  assert.deepEqual(states.find((s) => s.id === 'corrupt[p=0.5]')!.reasons, ['param value 0.5 → 7']);
  assert.match(states.find((s) => s.id === 'train[p=0,seed=1]')!.reasons[0]!, /upstream corrupt\[p=0\] will run/);

  const rerun = await p.run('p.yaml', '--set', 'corrupt.with.value=7');
  const ran = Object.entries(rerun.status).filter(([, s]) => s === 'ran').map(([id]) => id);
  // With value 7 both corrupt instances have one key: one computes it, the other takes its result.
  assert.deepEqual(ran, willRun.filter((id) => id !== 'corrupt[p=0.5]'));
  const twin = rerun.doc.stages.find((s) => s.id === 'corrupt[p=0.5]')!;
  assert.equal(twin.status, 'cached');
  assert.equal(twin.reason, 'same key as corrupt[p=0], computed in this run');
  assert.equal(twin.key, rerun.doc.stages.find((s) => s.id === 'corrupt[p=0]')!.key);
  assert.equal(rerun.status.download, 'cached');

  // One leaf param: only that instance's stage and its dependents.
  const leaf = await p.run('p.yaml', '--set', 'corrupt.with.value=7', '--set', 'aggregate.with.value=1');
  assert.deepEqual(Object.entries(leaf.status).filter(([, s]) => s === 'ran').map(([id]) => id), ['aggregate']);
  const seed = await p.cli('status', 'p.yaml', '--set', 'seed=3', '--set', 'corrupt.with.value=7', '--set', 'aggregate.with.value=1');
  assert.match(seed.stdout, /will run +download +seed 1 → 3/);
  // train's seed comes from its matrix: it reruns only because its upstream does.
  assert.match(seed.stdout, /will run +train\[p=0,seed=1\] +upstream corrupt\[p=0\] will run\n/);
});

test('keys do not change when YAML keys are reordered or comments edited', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  await p.run('p.yaml');
  const reordered = `stages:
  aggregate:   # fan-in first this time
    inputs: { x: "train[*]" }
    with: { value: 0 }
    uses: ./plugins.mjs
  train:
    inputs: { x: corrupt }
    with: { value: 1 }
    seed: "\${matrix.seed}"
    matrix: { seed: [1, 2], p: [0, 0.5] }
    uses: ./plugins.mjs
  corrupt:
    with: { value: "\${matrix.p}" }
    inputs: { x: download }
    matrix: { p: [0, 0.5] }
    uses: ./plugins.mjs
  download:
    with: { value: 10 }
    uses: ./plugins.mjs
vars: { base: 10 }
seed: 1
`;
  await p.write({ 'p.yaml': reordered });
  const r = await p.run('p.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(new Set(Object.values(r.status)), new Set(['cached']));
});

test('early cutoff: an upstream rerun with identical output leaves dependents cached', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  await p.run('p.yaml');
  const r = await p.run('p.yaml', '--set', 'download.with.ignored=5');
  assert.equal(r.status.download, 'ran');
  for (const [id, s] of Object.entries(r.status)) if (id !== 'download') assert.equal(s, 'cached', id);
});

test('independent stages overlap; --jobs 1 serializes; a cores:all stage runs alone', async () => {
  const meet = `stages:
  a: { uses: ./plugins.mjs, with: { value: 1, meet: m } }
  b: { uses: ./plugins.mjs, with: { value: 2, meet: m } }
`;
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'heavy.mjs': HEAVY_PLUGIN, 'p.yaml': meet });
  const stats = (await import(join(p.dir, 'plugins.mjs'))).stats as { max: number; now: number };
  stats.max = 0;
  // a and b each wait until the other has started: this completes only if they run concurrently.
  const both = await p.run('p.yaml', '--jobs', '2');
  assert.deepEqual(both.status, { a: 'ran', b: 'ran' });
  assert.equal(stats.max, 2);

  const spin = `stages:
${[1, 2, 3, 4].map((i) => `  s${i}: { uses: ./plugins.mjs, with: { value: ${i}, spin: 20 } }`).join('\n')}
`;
  await p.write({ 'spin.yaml': spin });
  stats.max = 0;
  const serial = await p.run('spin.yaml', '--jobs', '1');
  assert.equal(Object.values(serial.status).filter((s) => s === 'ran').length, 4);
  assert.equal(stats.max, 1);

  // s1 and s2 must overlap (they meet); the cores:all stage h must overlap neither.
  const heavy = `stages:
  h: { uses: ./heavy.mjs, with: { value: 1, spin: 50 } }
  s1: { uses: ./plugins.mjs, with: { value: 1, meet: n, spin: 50 } }
  s2: { uses: ./plugins.mjs, with: { value: 2, meet: n, spin: 50 } }
`;
  await p.write({ 'heavy.yaml': heavy });
  stats.max = 0;
  const h = await p.run('heavy.yaml', '--jobs', '4');
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.doc.stages.length, 3);
  assert.equal(stats.max, 2, 'the cores:all stage overlapped the others');
});

test('a failure names the stage and cause, skips dependents, stops new stages unless --keep-going', async () => {
  const pipeline = `stages:
  bad: { uses: ./plugins.mjs, with: { value: 1, fail: true } }
  after: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: bad } }
  other: { uses: ./plugins.mjs, with: { value: 2 } }
`;
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': pipeline });
  const r = await p.run('p.yaml', '--jobs', '1');
  assert.equal(r.code, 1);
  const bad = r.doc.stages.find((s) => s.id === 'bad')!;
  assert.equal(bad.status, 'failed');
  assert.match(bad.reason!, /boom in bad/);
  assert.deepEqual(r.status, { bad: 'failed', after: 'skipped', other: 'skipped' });
  assert.match(r.doc.stages.find((s) => s.id === 'after')!.reason!, /upstream bad failed/);
  // The failed stage wrote its output before throwing: nothing of it may be kept.
  const objects = await readdir(join(p.dir, 'cache'), { recursive: true });
  assert.ok(!objects.some((f) => f.startsWith('objects/') && f.split('/').length === 3), `objects left: ${objects.join(', ')}`);
  assert.ok(!objects.some((f) => f.startsWith('runs/') && f.endsWith('.json')));

  const k = await p.run('p.yaml', '--jobs', '1', '--keep-going');
  assert.deepEqual(k.status, { bad: 'failed', after: 'skipped', other: 'ran' });
  const plain = await p.cli('run', 'p.yaml', '--jobs', '1');
  assert.match(plain.stderr, /FAILED +bad \(\d+\.\ds\): boom in bad/);
  assert.doesNotMatch(plain.stderr, /\n\s+at /, 'no stack trace');
});

test("a stage failing on the user's input (userError) exits 2 with the plugin's message", async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': `stages:\n  get: { uses: ./plugins.mjs, with: { value: 1, user_error: true } }\n` });
  const r = await p.run('p.yaml');
  assert.equal(r.code, 2);
  assert.equal(r.doc.stages[0]!.status, 'failed');
  assert.equal(r.doc.stages[0]!.reason, 'checksum mismatch for https://example.org/x: expected 0abc, got 0def');
});

test('--only runs the selection and its upstream; --dry-run runs nothing', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const dry = await p.run('p.yaml', '--dry-run');
  assert.deepEqual(new Set(Object.values(dry.status)), new Set(['would-run']));
  const only = await p.run('p.yaml', '--only', 'train[p=0.5,*');
  assert.deepEqual(Object.keys(only.status), ['download', 'corrupt[p=0.5]', 'train[p=0.5,seed=1]', 'train[p=0.5,seed=2]']);
  const none = await p.cli('run', 'p.yaml', '--only', 'trian');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--only "trian" matches no stage/);
});

test('show prints outputs, key record and provenance', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const before = await p.cli('show', 'corrupt[p=0.5]', 'p.yaml');
  assert.match(before.stdout, /not run yet \(upstream download will run\)/);
  await p.run('p.yaml');
  const s = JSON.parse((await p.cli('show', 'corrupt[p=0.5]', 'p.yaml', '--json')).stdout) as {
    status: string;
    keyRecord: { plugin: string; params: Record<string, unknown>; seed: number; inputs: { x: { stage: string; hash: string }[] } };
    outputs: { out: { value: unknown; hash: string } };
    provenance: { node: string };
  };
  assert.equal(s.status, 'up-to-date');
  assert.deepEqual(s.keyRecord.params, { value: 0.5, ignored: 0, fail: false, user_error: false, spin: 0 });
  assert.equal(s.keyRecord.seed, 1);
  assert.equal(s.keyRecord.inputs.x[0]!.stage, 'download');
  assert.deepEqual(s.outputs.out.value, { value: 10.5 });
  assert.equal(s.provenance.node, process.version);
  const ambiguous = await p.cli('show', 'train', 'p.yaml');
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /"train" has 4 instances/);
});

test('a plugin fingerprint (files outside the store) joins the key: editing the file reruns the stage', async () => {
  const reader = `import { readFileSync } from 'node:fs';
export const plugin = {
  name: 'reader', version: '1', description: 'reads a local file', params: { type: 'object', properties: { path: { type: 'string' } } },
  inputs: {}, outputs: { out: { kind: 'json' } },
  async fingerprint(params) { return readFileSync(params.path, 'utf8'); },
  run: (ctx) => ctx.writeJson('out', { text: readFileSync(ctx.params.path, 'utf8') }),
};
`;
  const p = await project({ 'reader.mjs': reader, 'data.txt': 'one', 'p.yaml': 'stages:\n  read: { uses: ./reader.mjs, with: { path: data.txt } }\n' });
  process.chdir(p.dir); // the test plugin reads relative to the working directory
  assert.equal((await p.run('p.yaml')).status.read, 'ran');
  assert.equal((await p.run('p.yaml')).status.read, 'cached');
  await p.write({ 'data.txt': 'two' });
  assert.match((await p.cli('status', 'p.yaml')).stdout, /will run +read +the files it reads changed \(fingerprint\)/);
  assert.equal((await p.run('p.yaml')).status.read, 'ran');
});

test('models lists the paper models with their exact parameter counts; a bad --input is a user error', async () => {
  const p = await project({});
  const r = await p.cli('models', '--input', '28x28x3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const text = r.stdout;
  for (const [name, n] of [['mlp_1x512', 1209866], ['mlp_3x512', 1735178], ['small_alexnet', 1387786], ['small_inception', 1649402], ['small_inception_bn', 1649402]] as const) {
    assert.match(text, new RegExp(`"${name}"[\\s\\S]*?${n}`), name);
  }
  const bad = await p.cli('models', '--input', '28x28');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--input "28x28" is not HxWxC/);
});

test('dag renders ascii, mermaid, dot and json; a bad format is a user error', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': `stages:
  a: { uses: ./plugins.mjs, with: { value: 1 }, matrix: { p: [1, 2] } }
  b: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: "a[*]" } }
` });
  assert.equal((await p.cli('dag', 'p.yaml')).stdout, 'a[p=1]  (emit)\na[p=2]  (emit)\nb       (emit)  ← a[p=1].out, a[p=2].out\n');
  assert.equal(
    (await p.cli('dag', 'p.yaml', '--format', 'mermaid')).stdout,
    'flowchart LR\n  n0["a[p=1]"]\n  n1["a[p=2]"]\n  n2["b"]\n  n0 --> n2\n  n1 --> n2\n',
  );
  const dot = (await p.cli('dag', 'p.yaml', '--format', 'dot')).stdout;
  assert.match(dot, /^digraph "p" \{\n  rankdir=LR;\n/);
  assert.match(dot, /  "a\[p=1\]" -> "b";\n  "a\[p=2\]" -> "b";\n\}\n$/);
  const bad = await p.cli('dag', 'p.yaml', '--format', 'svg');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format "svg" is not supported\n  = formats: ascii, mermaid, dot, json/);
});

test('plain progress lines (stderr not a terminal) say what ran and what was cached, each with its time', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': 'stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n  b: { uses: ./plugins.mjs, with: { value: 2 }, inputs: { x: a } }\n' });
  const strip = (s: string) => s.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /gm, '@ ').replace(/\(\d+\.\ds\)/g, '(T)').replace(/in \d+\.\d+s/, 'in T');
  const first = await p.cli('run', 'p.yaml', '--jobs', '1');
  // stdout: what the run came to, the final stage and how to see it (b writes no Markdown to print).
  assert.equal(first.stdout, "\nresults:\n  b: rethink show 'b' p.yaml\n");
  assert.equal(
    strip(first.stderr),
    '@ rethink: p.yaml: 2 stages, 1 core\n@   start   a\n@   ran     a (T)  [1/2]\n@   start   b\n@   ran     b (T)  [2/2]\n@ done: 2 ran, 0 cached in T\n',
  );
  const again = await p.cli('run', 'p.yaml', '--jobs', '1');
  assert.equal(strip(again.stderr), '@ rethink: p.yaml: 2 stages, 1 core\n@   cached  a  [1/2]\n@   cached  b  [2/2]\n@ done: 0 ran, 2 cached in T\n');
});

test('--cache-dir moves the store; --json keeps stdout to the one document even when a plugin logs', async () => {
  const noisy = `export const plugin = {
  name: 'noisy', version: '1', description: 'logs to the console', params: { type: 'object' },
  inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) { console.log('hello from a plugin'); console.info('and more'); await ctx.writeJson('out', 1); },
};
`;
  const p = await project({ 'noisy.mjs': noisy, 'p.yaml': 'stages:\n  n: { uses: ./noisy.mjs }\n' });
  // The real binary, so that what the plugin writes to the process's stdout is captured too.
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [compiledBin(), 'run', 'p.yaml', '--json', '--cache-dir', 'elsewhere'], { cwd: p.dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /hello from a plugin\nand more/);
  const doc = JSON.parse(r.stdout) as { stages: { status: string; outputs: { out: string } }[] };
  assert.equal(doc.stages[0]!.status, 'ran');
  const hash = doc.stages[0]!.outputs.out;
  const { existsSync } = await import('node:fs');
  assert.ok(existsSync(join(p.dir, 'elsewhere', 'objects', hash.slice(0, 2), hash.slice(2))), 'the object is under --cache-dir');
  assert.ok(!existsSync(join(p.dir, 'cache', 'objects')), 'nothing went to the default store');
  assert.equal((await p.run('p.yaml', '--cache-dir', 'elsewhere')).status.n, 'cached');
  assert.equal((await p.run('p.yaml')).status.n, 'ran', 'the env-var store is a different store');
});

test('a stage finds its checkpoint directory again after a failed attempt; it is deleted once the stage succeeds', async () => {
  const plugin = `
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
export const plugin = {
  name: 'resumable', version: '1', description: 'fails on its first attempt', params: { type: 'object', properties: { x: { type: 'number' } } },
  inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const file = join(await ctx.checkpointDir(), 'attempts');
    const attempts = Number(await readFile(file, 'utf8').catch(() => '0')) + 1;
    await writeFile(file, String(attempts));
    if (attempts < 2) throw new Error('preempted on attempt ' + attempts);
    await ctx.writeJson('out', { attempts });
  },
};
`;
  const p = await project({ 'resumable.mjs': plugin, 'p.yaml': 'stages:\n  a: { uses: ./resumable.mjs, with: { x: 1 } }\n' });
  const first = await p.run('p.yaml');
  assert.equal(first.code, 1);
  assert.match(first.doc.stages[0]!.reason!, /preempted on attempt 1/);
  const key = first.doc.stages[0]!.key!;
  assert.deepEqual(await readdir(join(p.dir, 'cache', 'checkpoints', key)), ['attempts']);
  // Another key (x changed) has its own directory, so it starts from nothing.
  const other = await p.run('p.yaml', '--set', 'a.with.x=2');
  assert.equal(other.code, 1);
  assert.match(other.doc.stages[0]!.reason!, /preempted on attempt 1/);
  const second = await p.run('p.yaml');
  assert.equal(second.code, 0, second.stderr);
  const shown = await p.cli('show', 'a', 'p.yaml', '--json');
  assert.deepEqual((JSON.parse(shown.stdout) as { outputs: { out: { value: unknown } } }).outputs.out.value, { attempts: 2 });
  // x=1's checkpoints went with its success; x=2's wait for its next attempt.
  assert.deepEqual(await readdir(join(p.dir, 'cache', 'checkpoints')), [other.doc.stages[0]!.key!]);
});

test('--force recomputes cached instances, replaces their result and says whether the outputs changed', async () => {
  // `count` writes how often it has run (a file beside the pipeline): each run's output differs.
  const json = "{ kind: 'json' }";
  const p = await project({
    'same.mjs': `export const plugin = { name: 'same', version: '1', description: 'x', params: { type: 'object' }, inputs: {}, outputs: { out: ${json} },
      async run(ctx) { await ctx.writeJson('out', { v: 1 }); } };`,
    'count.mjs': `import { readFile, writeFile } from 'node:fs/promises';
      export const plugin = { name: 'count', version: '1', description: 'x', params: { type: 'object', properties: { file: { type: 'string' } } }, inputs: {}, outputs: { out: ${json} },
      async run(ctx) { const n = Number(await readFile(ctx.params.file, 'utf8').catch(() => '0')) + 1; await writeFile(ctx.params.file, String(n)); await ctx.writeJson('out', { n }); } };`,
    'after.mjs': `export const plugin = { name: 'after', version: '1', description: 'x', params: { type: 'object' }, inputs: { x: ${json} }, outputs: { out: ${json} },
      async run(ctx) { await ctx.writeJson('out', await ctx.inputs.x.readJson()); } };`,
  });
  await p.write({
    'p.yaml': `stages:
  a: { uses: ./same.mjs }
  b: { uses: ./after.mjs, inputs: { x: a } }
  c: { uses: ./count.mjs, with: { file: ${JSON.stringify(join(p.dir, 'count.txt'))} } }
  d: { uses: ./after.mjs, inputs: { x: c } }
`,
  });
  assert.ok(Object.values((await p.run('p.yaml')).status).every((s) => s === 'ran'));

  // The same bytes again: the dependents stay cached.
  const same = await p.run('p.yaml', '--force', 'a');
  assert.deepEqual(same.status, { a: 'ran', b: 'cached', c: 'cached', d: 'cached' });
  assert.equal(same.doc.stages.find((s) => s.id === 'a')!.reason, 'forced; the same outputs as the result it replaced');

  // Different bytes: the result is replaced, its dependents rerun on it, and later runs take it.
  const changed = await p.run('p.yaml', '--force', 'c');
  assert.deepEqual(changed.status, { a: 'cached', b: 'cached', c: 'ran', d: 'ran' });
  assert.equal(changed.doc.stages.find((s) => s.id === 'c')!.reason, 'forced; replaced a result whose out differed');
  const d = JSON.parse((await p.cli('show', 'd', 'p.yaml', '--json')).stdout) as { outputs: { out: { value: unknown } } };
  assert.deepEqual(d.outputs.out.value, { n: 2 });
  assert.deepEqual((await p.run('p.yaml')).status, { a: 'cached', b: 'cached', c: 'cached', d: 'cached' });

  // --dry-run only says so; --force runs its instances whatever --only selects; a bad glob is a user error.
  const dry = await p.run('p.yaml', '--force', 'c', '--dry-run');
  assert.deepEqual([dry.status['c'], dry.doc.stages.find((s) => s.id === 'c')!.reason], ['would-run', 'forced']);
  const both = await p.run('p.yaml', '--only', 'b', '--force', 'c');
  assert.deepEqual(both.status, { a: 'cached', b: 'cached', c: 'ran' }, 'd is neither selected nor forced');
  const bad = await p.cli('run', 'p.yaml', '--force', 'e*');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--force "e\*" matches no stage/);
});

test("a run ends by printing its final stages' Markdown (a table) when short, and how to see each", async () => {
  const p = await project({
    'plugins.mjs': TEST_PLUGINS,
    'p.yaml': `stages:
  a: { uses: ./plugins.mjs, matrix: { p: [1, 2] }, with: { value: "\${matrix.p}" } }
  t: { uses: aggregate, with: { title: Values, metrics: [value] }, inputs: { runs: "a[*]" } }
  side: { uses: ./plugins.mjs, with: { value: 5 } }
`,
  });
  const r = await p.cli('run', 'p.yaml');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "\n# Values\n\n| p | value |\n|---|---|\n| 1 | 1 |\n| 2 | 2 |\n\nresults:\n  t: rethink export 't' p.yaml\n  side: rethink show 'side' p.yaml\n");
  // Again from the cache: the same; a failed or dry run prints none of it; --json keeps to its document.
  assert.equal((await p.cli('run', 'p.yaml')).stdout, r.stdout);
  assert.equal((await p.cli('run', 'p.yaml', '--dry-run', '--set', 'side.with.value=6')).stdout, '');
  assert.doesNotMatch((await p.cli('run', 'p.yaml', '--json')).stdout, /results:/);
  // With --only, the selected stages are the run's final ones.
  assert.equal((await p.cli('run', 'p.yaml', '--only', 'a[p=1]')).stdout, "\nresults:\n  a[p=1]: rethink show 'a[p=1]' p.yaml\n");
});
