import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { compiledBin, project } from '../support/tmp-project.js';

const root = join(compiledBin(), '..', '..', '..', '..');

test('init starts a project whose pipeline runs its own plugin, and never overwrites a file', async () => {
  const p = await project({ '.gitignore': 'node_modules/\ncache/' });
  const r = await p.cli('init');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^created pipelines\/quickstart\.yaml, plugins\/gap\.mjs; \.gitignore: results\/\n/);
  assert.match(r.stdout, /plugins\/gap\.mjs imports 'rethink-ml': install it in the project first/);
  assert.equal(await readFile(join(p.dir, '.gitignore'), 'utf8'), 'node_modules/\ncache/\nresults/\n', 'kept, and completed');
  // The editor schema the pipeline names is there.
  const yaml = await readFile(join(p.dir, 'pipelines', 'quickstart.yaml'), 'utf8');
  const schema = /\$schema=(\S+)/.exec(yaml)![1]!;
  assert.ok(existsSync(resolve(join(p.dir, 'pipelines'), schema)), schema);

  // Without the package, the plugin's import fails with what to install. (In a child process: this
  // one would keep the failed import of that module file.)
  const unlinked = spawnSync(process.execPath, [compiledBin(), 'validate'], { cwd: p.dir, encoding: 'utf8' });
  assert.equal(unlinked.status, 2);
  assert.match(unlinked.stderr, /it imports the package rethink-ml: npm install rethink-ml in the project/);

  await mkdir(join(p.dir, 'node_modules'), { recursive: true });
  await symlink(root, join(p.dir, 'node_modules', 'rethink-ml'), 'dir');
  const tiny = ['--set', 'vars.epochs=1', '--set', 'small.with.train.per_class=5', '--set', 'small.with.test.per_class=5'];
  const run = await p.run(...tiny);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.doc.stages.filter((s) => s.status === 'ran').length, 12);
  const gaps = JSON.parse((await p.cli('results', 'gap', '--json', ...tiny)).stdout) as { columns: string[]; rows: number[][] };
  assert.deepEqual(gaps.columns, ['p', 'train', 'test', 'gap']);
  assert.equal(gaps.rows.length, 3);
  for (const [, train, test, gap] of gaps.rows) assert.ok(Math.abs(gap! - (train! - test!)) < 1e-12);

  // A second init would overwrite: refused, nothing written.
  await writeFile(join(p.dir, 'plugins', 'gap.mjs'), '// mine\n');
  const again = await p.cli('init');
  assert.equal(again.code, 2);
  assert.match(again.stderr, /error\[E_EXISTS\]: rethink init would overwrite pipelines\/quickstart\.yaml, plugins\/gap\.mjs/);
  assert.equal(await readFile(join(p.dir, 'plugins', 'gap.mjs'), 'utf8'), '// mine\n');
  // Into a new folder.
  const sub = await p.cli('init', 'sub/exp');
  assert.equal(sub.code, 0, sub.stderr);
  assert.match(sub.stdout, /next: cd sub\/exp && npx rethink run\n$/);
  assert.ok(existsSync(join(p.dir, 'sub', 'exp', 'plugins', 'gap.mjs')) && existsSync(dirname(join(p.dir, 'sub', 'exp', 'pipelines', 'quickstart.yaml'))));
});
