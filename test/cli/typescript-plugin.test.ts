// A TypeScript plugin in a user's project works in every command with no loader flag: rethink
// registers the project's tsx itself (Node 20), and without tsx says what to install. Child processes
// with no NODE_OPTIONS: the way a user's `npx rethink` runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project } from '../support/tmp-project.js';
import { nodeRunsTypeScript, prepareTypeScript } from '../../src/plan/typescript.js';

const root = join(compiledBin(), '..', '..', '..', '..');

// Type annotations, an interface and `as const`: none of it runs without a TypeScript loader.
const PLUGIN = `
interface Params { readonly n: number }
interface Ctx { readonly params: Params; readonly seed: number; writeJson(name: string, value: unknown): Promise<void> }
export const plugin = {
  name: 'count', version: '1', description: 'n squared', inputs: {},
  params: { type: 'object', properties: { n: { type: 'integer', default: 3 } }, additionalProperties: false },
  outputs: { out: { kind: 'json' as const } },
  async run(ctx: Ctx): Promise<void> {
    const n: number = ctx.params.n;
    await ctx.writeJson('out', { n, square: n * n });
  },
};
`;

function rethink(dir: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, RETHINK_CACHE_DIR: join(dir, 'cache') };
  delete env['NODE_OPTIONS'];
  return spawnSync(process.execPath, [compiledBin(), ...args], { cwd: dir, env, encoding: 'utf8' });
}

test('with tsx in the project, run, status, show and results load a .ts plugin without NODE_OPTIONS', { skip: nodeRunsTypeScript() ? 'this Node runs TypeScript itself' : false }, async () => {
  // npm init's package.json: "type": "commonjs", where tsx compiles the plugin to a CommonJS module.
  const p = await project({ 'package.json': '{ "name": "mine", "type": "commonjs" }\n', 'plugins/count.ts': PLUGIN, 'p.yaml': 'stages:\n  c: { uses: ./plugins/count.ts, with: { n: 4 } }\n' });
  await mkdir(join(p.dir, 'node_modules'), { recursive: true });
  await symlink(join(root, 'node_modules', 'tsx'), join(p.dir, 'node_modules', 'tsx'), 'dir');
  const run = rethink(p.dir, 'run', 'p.yaml');
  assert.equal(run.status, 0, run.stderr);
  const status = rethink(p.dir, 'status', 'p.yaml');
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout + status.stderr, /up to date/);
  const show = rethink(p.dir, 'show', 'c', 'p.yaml', '--json');
  assert.equal(show.status, 0, show.stderr);
  assert.deepEqual((JSON.parse(show.stdout) as { outputs: { out: { value: unknown } } }).outputs.out.value, { n: 4, square: 16 });
  const results = rethink(p.dir, 'results', 'c', 'p.yaml', '--json');
  assert.equal(results.status, 0, results.stderr);
  // An ES module project: the plugin stays an ES module.
  await p.write({ 'package.json': '{ "name": "mine", "type": "module" }\n' });
  const esm = rethink(p.dir, 'run', 'p.yaml', '--force', 'c');
  assert.equal(esm.status, 0, esm.stderr);
});

test('without tsx, a .ts plugin is a user error naming the file and the install', { skip: nodeRunsTypeScript() ? 'this Node runs TypeScript itself' : false }, async () => {
  const p = await project({ 'noise.ts': PLUGIN, 'p.yaml': 'stages:\n  n: { uses: ./noise.ts }\n' });
  const r = rethink(p.dir, 'validate', 'p.yaml');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /plugin module \.\/noise\.ts cannot be loaded: it is TypeScript, which Node [\d.]+ does not run by itself, and tsx is not installed in its project/);
  assert.match(r.stderr, /install tsx there \(npm install -D tsx\) and rethink loads it by itself/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a Node that strips types needs no tsx; JavaScript plugins never look for it', async () => {
  const noTsx = (): string => {
    throw new Error('not found');
  };
  assert.deepEqual(await prepareTypeScript('/p/plugin.ts', noTsx, { typescript: 'strip' }), { ok: true });
  assert.deepEqual(await prepareTypeScript('/p/plugin.mjs', noTsx, {}), { ok: true });
  assert.equal((await prepareTypeScript('/p/plugin.mts', noTsx, {})).ok, false);
});
