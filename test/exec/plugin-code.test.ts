// A path plugin's code closure, carried by hash through the remote: the bundle keeps the layout of
// files outside the plugin's folder (../lib), a machine rebuilds exactly the closure the hash names,
// and a bundle that would write outside its folder is refused.
import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { codeClosure } from '../../src/plan/code-closure.js';
import { fetchPluginCode, PluginCodeError, pluginCodePathOf, publishPluginCode } from '../../src/exec/plugin-code.js';
import { DirRemote } from '../../src/store/remote.js';

async function projectWithHelper(): Promise<string> {
  const dir = await tempDir('rethink-code-');
  await mkdir(join(dir, 'plugins'), { recursive: true });
  await mkdir(join(dir, 'lib'), { recursive: true });
  await writeFile(join(dir, 'lib', 'sum.mjs'), 'export const sum = (a, b) => a + b;\n');
  await writeFile(join(dir, 'plugins', 'p.mjs'), "import { sum } from '../lib/sum.mjs';\nexport const plugin = { sum };\n");
  return dir;
}

test('publishPluginCode uploads the closure once; fetchPluginCode rebuilds it under the cache with the same hash', async () => {
  const dir = await projectWithHelper();
  const remote = new DirRemote(join(dir, 'remote'));
  const hash = await publishPluginCode(remote, dir, './plugins/p.mjs');
  assert.equal(hash, (await codeClosure(join(dir, 'plugins', 'p.mjs'))).hash);
  const bundle = JSON.parse((await remote.getText(pluginCodePathOf(hash)))!) as { entry: string; files: Record<string, string> };
  assert.equal(bundle.entry, 'plugins/p.mjs');
  assert.deepEqual(Object.keys(bundle.files).sort(), ['lib/sum.mjs', 'plugins/p.mjs']);

  const cache = join(dir, 'worker-cache');
  const where = await fetchPluginCode(remote, cache, hash);
  assert.deepEqual(where, { uses: './plugins/p.mjs', baseDir: join(cache, 'code', hash) });
  assert.equal((await codeClosure(join(where.baseDir, 'plugins', 'p.mjs'))).hash, hash);
  // A second job finds it in the cache: the remote is not asked again.
  await writeFile(join(dir, 'remote', 'code', `${hash}.json`), 'gone');
  assert.deepEqual(await fetchPluginCode(remote, cache, hash), where);
});

test('a bundle that names a file outside its folder is refused, and nothing is written', async () => {
  const dir = await projectWithHelper();
  const remote = new DirRemote(join(dir, 'remote'));
  const hash = await publishPluginCode(remote, dir, './plugins/p.mjs');
  const file = join(dir, 'remote', 'code', `${hash}.json`);
  const bundle = JSON.parse(await readFile(file, 'utf8')) as { files: Record<string, string> };
  bundle.files['../escaped.mjs'] = Buffer.from('x').toString('base64');
  await writeFile(file, JSON.stringify(bundle));
  await assert.rejects(fetchPluginCode(remote, join(dir, 'c'), hash), (e: unknown) => e instanceof PluginCodeError && /names a file outside its folder: "\.\.\/escaped\.mjs"/.test(e.message));
  await assert.rejects(readFile(join(dir, 'escaped.mjs')));
});
