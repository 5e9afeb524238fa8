// What a user's own project sees: `rethink` installed as a package (here, linked into its node_modules),
// a plugin that imports its API by the package's name, typed for TypeScript and run by the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project } from './support/tmp-project.js';

const root = join(compiledBin(), '..', '..', '..', '..');

const PLUGIN = `
import { definePlugin, Rng } from 'rethink-ml';
export const plugin = definePlugin({
  name: 'draw', version: '1', description: 'seeded draws', inputs: {},
  params: { type: 'object', properties: { n: { type: 'integer', default: 3 } }, additionalProperties: false },
  outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const rng = Rng.derive(ctx.seed, 'draw');
    await ctx.writeJson('out', { draws: Array.from({ length: ctx.params.n }, () => rng.int(1000)) });
  },
});
`;

test("a plugin in the user's project imports definePlugin and Rng from 'rethink-ml' and runs", async () => {
  const p = await project({ 'draw.mjs': PLUGIN, 'p.yaml': 'seed: 5\nstages:\n  d: { uses: ./draw.mjs }\n' });
  await mkdir(join(p.dir, 'node_modules'), { recursive: true });
  await symlink(root, join(p.dir, 'node_modules', 'rethink-ml'), 'dir');
  const r = await p.run('p.yaml');
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse((await p.cli('show', 'd', 'p.yaml', '--json')).stdout) as { outputs: { out: { value: { draws: number[] } } } };
  // The project's own PRNG, seeded by the pipeline: the plugin's draws are the ones Rng gives here.
  const { Rng } = await import('../src/util/random.js');
  const rng = Rng.derive(5, 'draw');
  assert.deepEqual(shown.outputs.out.value.draws, [rng.int(1000), rng.int(1000), rng.int(1000)]);
});

test("a plugin's UserInputError from 'rethink-ml' fails its stage as the user's to fix: exit code 2, not retried", async () => {
  const p = await project({
    'strict.mjs': `import { definePlugin, UserInputError } from 'rethink-ml';
export const plugin = definePlugin({ name: 'strict', version: '1', description: 'x', params: { type: 'object' }, inputs: {}, outputs: { out: { kind: 'json' } },
  async run() { throw new UserInputError('strict: nothing to do here; give it an input'); } });`,
    'p.yaml': 'stages:\n  s: { uses: ./strict.mjs, retries: 2 }\n',
  });
  await mkdir(join(p.dir, 'node_modules'), { recursive: true });
  await symlink(root, join(p.dir, 'node_modules', 'rethink-ml'), 'dir');
  const r = await p.run('p.yaml');
  assert.equal(r.code, 2);
  const s = r.doc.stages[0]!;
  assert.deepEqual([s.status, s.reason, s.attempts], ['failed', 'strict: nothing to do here; give it an input', undefined]);
});

test("the public API is typed: a TypeScript plugin and its test compile against 'rethink-ml' and 'rethink-ml/testing'", async () => {
  const p = await project({
    // A Node project's usual setup: @types/node (this repository's copy) and strict checks, libraries' .d.ts included.
    'tsconfig.json': JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] },
      files: ['plugin.ts'],
    }),
    'plugin.ts': `
import { definePlugin, Rng, type Artifact } from 'rethink-ml';
import { runPlugin } from 'rethink-ml/testing';
export const plugin = definePlugin<{ factor: number }>({
  name: 'scale', version: '1', description: 'x', inputs: {}, params: { type: 'object' }, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const f: number = ctx.params.factor;
    // @ts-expect-error: params are typed, not any
    ctx.params.nope;
    const input: Artifact | readonly Artifact[] | undefined = ctx.inputs['x'];
    await ctx.writeJson('out', { v: f * Rng.derive(ctx.seed, 'x').next(), input: input === undefined });
  },
});
export const result = runPlugin(plugin, { params: { factor: 2 } });
`,
  });
  await mkdir(join(p.dir, 'node_modules'), { recursive: true });
  await symlink(root, join(p.dir, 'node_modules', 'rethink-ml'), 'dir');
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', p.dir], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
});
