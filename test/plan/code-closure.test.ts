import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';
import { codeClosure } from '../../src/plan/code-closure.js';
import { project } from '../support/tmp-project.js';

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
}

/** A package whose exports hide its package.json (so its version is found by walking up). */
const pkg = (version: string) => ({
  'node_modules/fakepkg/package.json': JSON.stringify({ name: 'fakepkg', version, type: 'module', exports: { '.': './index.mjs' } }),
  'node_modules/fakepkg/index.mjs': 'export const x = 1;\n',
});

test('the closure holds the module, the local modules it imports however it imports them, and its packages’ versions', async () => {
  const dir = await tempDir('rethink-closure-');
  await write(dir, {
    'plugins/p.mjs': [
      "import { a } from './lib/a.mjs';",
      "export * from '../shared/b.mjs';",
      "import { readFile } from 'node:fs/promises';",
      "import path from 'path';",
      "import { x } from 'fakepkg';",
      "import data from './data.json' with { type: 'json' };",
      "const later = () => import('./lib/lazy.mjs');",
      "const dynamic = (n) => import('./lib/' + n);",
      'export const meta = import.meta.url;',
    ].join('\n'),
    'plugins/lib/a.mjs': "import { c } from './c.mjs';\nimport { a as again } from './a.mjs';\nexport const a = c;\n",
    'plugins/lib/c.mjs': 'export const c = 3;\n',
    'plugins/lib/lazy.mjs': 'export default 1;\n',
    'plugins/lib/unused.mjs': 'export default 2;\n',
    'shared/b.mjs': 'export const b = 2;\n',
    'plugins/data.json': '{"k": 1}',
    ...pkg('1.2.3'),
  });
  const first = await codeClosure(join(dir, 'plugins/p.mjs'));
  assert.deepEqual(Object.keys(first.files), ['../shared/b.mjs', 'data.json', 'lib/a.mjs', 'lib/c.mjs', 'lib/lazy.mjs', 'npm:fakepkg', 'p.mjs']);
  assert.equal(first.files['npm:fakepkg'], '1.2.3');
  assert.match(first.files['lib/c.mjs']!, /^[0-9a-f]{16}$/);

  const changed = async (files: Record<string, string>) => {
    await write(dir, files);
    return (await codeClosure(join(dir, 'plugins/p.mjs'))).hash;
  };
  const h0 = first.hash;
  assert.equal(await changed({ 'plugins/lib/unused.mjs': 'export default 3;\n' }), h0, 'a file nothing imports does not count');
  const h1 = await changed({ 'plugins/lib/c.mjs': 'export const c = 4;\n' });
  assert.notEqual(h1, h0, 'a module imported through another one counts');
  const h2 = await changed({ 'plugins/data.json': '{"k": 2}' });
  assert.notEqual(h2, h1);
  const h3 = await changed(pkg('1.2.4'));
  assert.notEqual(h3, h2, 'a package upgrade counts');
  await assert.rejects(codeClosure(join(dir, 'plugins/missing.mjs')), { code: 'ENOENT' });
});

test('status names the helper file whose change reruns a stage', async () => {
  const plugin = "import { factor } from './lib/helper.mjs';\nexport const plugin = { name: 'h', version: '1', description: 'x', params: { type: 'object' }, inputs: {}, outputs: { out: { kind: 'json' } }, run: (ctx) => ctx.writeJson('out', { v: factor }) };\n";
  const p = await project({ 'h.mjs': plugin, 'lib/helper.mjs': 'export const factor = 2;\n', 'p.yaml': 'stages:\n  a: { uses: ./h.mjs }\n' });
  assert.equal((await p.run('p.yaml')).status.a, 'ran');
  assert.equal((await p.run('p.yaml')).status.a, 'cached');
  await p.write({ 'lib/helper.mjs': 'export const factor = 3;\n' });
  const st = await p.cli('status', 'p.yaml');
  assert.match(st.stdout, /will run +a +plugin code changed \(lib\/helper\.mjs\)/);
  // A plugin module is imported once per process: the new helper is read by a fresh CLI process, but
  // the key changes either way, so the stale result is not taken.
  assert.equal((await p.run('p.yaml')).status.a, 'ran');
});
