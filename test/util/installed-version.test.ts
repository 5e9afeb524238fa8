import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedVersion } from '../../src/util/installed-version.js';
import { tempDir } from '../support/temp.js';

function put(root: string, files: Record<string, unknown>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
}

const pkg = (name: string, version: string, extra: Record<string, unknown> = {}) => ({
  [`package.json`]: { name, version, main: 'index.js', ...extra },
  'index.js': 'module.exports = 1;\n',
});

function under(dir: string, files: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${dir}/${k}`, v]));
}

/** What Node's own resolver says: the package's package.json as `from` resolves it. */
function nodeSays(name: string, from: string): string | undefined {
  try {
    return (createRequire(from)(`${name}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

test('the version is the one Node would load from that file, in the layouts npm and pnpm make', async () => {
  const root = await tempDir('rethink-installed-');
  put(root, {
    ...under('node_modules/dep', pkg('dep', '1.0.0')),
    // a nearer copy shadows the hoisted one for files below it
    ...under('app/nested/node_modules/dep', pkg('dep', '2.0.0')),
    'app/nested/deeper/file.js': '',
    'app/file.js': '',
    // node_modules/node_modules is never searched: from inside a package, its own node_modules, then the hoisted one
    ...under('node_modules/node_modules/dep', pkg('dep', '9.9.9')),
    ...under('node_modules/other', pkg('other', '3.0.0')),
    // pnpm: the package's dependencies are siblings in the store, reached through symlinks
    ...under('store/dep@4.0.0/node_modules/dep', pkg('dep', '4.0.0')),
    ...under('store/user@1.0.0/node_modules/user', pkg('user', '1.0.0')),
  });
  symlinkSync(join(root, 'store/dep@4.0.0/node_modules/dep'), join(root, 'store/user@1.0.0/node_modules/dep'));
  const cases: [string, string, string | undefined][] = [
    ['dep', 'app/file.js', '1.0.0'],
    ['dep', 'app/nested/deeper/file.js', '2.0.0'],
    ['dep', 'node_modules/other/index.js', '1.0.0'],
    ['dep', 'store/user@1.0.0/node_modules/user/index.js', '4.0.0'],
    ['absent', 'app/file.js', undefined],
  ];
  for (const [name, from, version] of cases) {
    const file = join(root, from);
    assert.equal(installedVersion(name, file), version, `${name} from ${from}`);
    assert.equal(installedVersion(name, file), nodeSays(name, file), `${name} from ${from}: as Node resolves it`);
  }
});

test('a package Node cannot require (ES modules only, no package.json export) still has its version', async () => {
  const root = await tempDir('rethink-installed-');
  put(root, { ...under('node_modules/esm-only', pkg('esm-only', '5.1.0', { type: 'module', exports: { import: './index.js' } })), 'file.js': '' });
  assert.equal(nodeSays('esm-only', join(root, 'file.js')), undefined, 'Node\'s CommonJS resolver refuses it');
  assert.equal(installedVersion('esm-only', join(root, 'file.js')), '5.1.0');
});

test('a folder that is not the package (another name inside) is left to Node\'s resolver', async () => {
  const root = await tempDir('rethink-installed-');
  put(root, { ...under('node_modules/alias', pkg('real-name', '1.0.0')), 'file.js': '' });
  assert.equal(installedVersion('alias', join(root, 'file.js')), undefined);
});

test('this package\'s own dependencies are found as Node finds them', () => {
  const here = fileURLToPath(import.meta.url);
  for (const name of ['js-yaml', 'ajv']) assert.equal(installedVersion(name, here), nodeSays(name, here), name);
  // es-module-lexer exports no package.json: its entry as Node resolves it, then up to its package.json
  const entry = createRequire(here).resolve('es-module-lexer');
  const own = JSON.parse(readFileSync(join(entry.slice(0, entry.lastIndexOf('/node_modules/es-module-lexer/') + '/node_modules/es-module-lexer/'.length), 'package.json'), 'utf8')) as { version: string };
  assert.equal(installedVersion('es-module-lexer', here), own.version);
});
