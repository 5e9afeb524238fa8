// The import directions README.md's "How the code is laid out" draws, checked against the imports
// themselves: every relative import specifier of src/**/*.ts (static, dynamic with a literal, and
// `import type`), read with es-module-lexer. A new edge that runs backwards fails here with its file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, parse } from 'es-module-lexer';

// The repository root, from dist/test/ (compiled) or test/ (tsx).
const here = fileURLToPath(import.meta.url);
const root = here.includes('/dist/test/') ? here.slice(0, here.indexOf('/dist/test/')) : here.slice(0, here.indexOf('/test/'));

/** One import: the importing file and the file it names, both relative to the repository root. */
interface Edge {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

await init;
const edges: readonly Edge[] = sourceFiles('src').flatMap((from) => {
  const [imports] = parse(readFileSync(path.join(root, from), 'utf8'), from);
  return imports
    .map((i) => i.specifier)
    .filter((s): s is string => typeof s === 'string' && s.startsWith('.'))
    .map((s) => ({ from, to: path.posix.normalize(path.posix.join(path.posix.dirname(from), s)).replace(/\.js$/, '.ts') }));
});

/** The folder under src/ a file belongs to ('util', 'backends', …), or its top folder outside src/. */
function room(file: string): string {
  const [top, second] = file.split('/');
  return top === 'src' ? second!.replace(/\.ts$/, '') : top!;
}

const show = (e: Edge): string => `${e.from} → ${e.to}`;

function violations(rule: (e: Edge) => boolean): string[] {
  return edges.filter(rule).map(show);
}

/** The pipeline half: which of its rooms each may import (cli, the composition root, imports any). */
const pipeline: Readonly<Record<string, readonly string[]>> = {
  config: [],
  plan: ['config'],
  store: ['plan'],
  exec: ['config', 'plan', 'store'],
};

test('the pipeline runs one way: config → plan → exec → store, each importing only the rooms before it', () => {
  const rooms = new Set([...Object.keys(pipeline), 'cli']);
  const bad = violations((e) => {
    const [from, to] = [room(e.from), room(e.to)];
    return from !== to && rooms.has(to) && pipeline[from] !== undefined && !pipeline[from]!.includes(to);
  });
  assert.deepEqual(bad, []);
});

test('util/ imports nothing of ours outside util/', () => {
  assert.deepEqual(
    violations((e) => room(e.from) === 'util' && room(e.to) !== 'util'),
    [],
  );
});

test('train/ talks to a backend only through its session: it imports nothing under src/backends/ but session.ts', () => {
  assert.deepEqual(
    violations((e) => room(e.from) === 'train' && room(e.to) === 'backends' && e.to !== 'src/backends/session.ts'),
    [],
  );
});

test("ops/ is backend-neutral: it imports no backend (the session contract's types aside)", () => {
  assert.deepEqual(
    violations((e) => room(e.from) === 'ops' && room(e.to) === 'backends' && e.to !== 'src/backends/session.ts'),
    [],
  );
});

test('a backend room imports no other backend room, except native on the wasm heap it is built on', () => {
  const backendRoom = (f: string): string | null => (f.startsWith('src/backends/') && f.split('/').length > 3 ? f.split('/')[2]! : null);
  const bad = violations((e) => {
    const [from, to] = [backendRoom(e.from), backendRoom(e.to)];
    return from !== null && to !== null && from !== to && !(from === 'native' && to === 'wasm');
  });
  assert.deepEqual(bad, []);
});

test('backends are plugins of the training code: src/backends/ imports only ops/, util/ and itself', () => {
  assert.deepEqual(
    violations((e) => room(e.from) === 'backends' && !['backends', 'ops', 'util'].includes(room(e.to))),
    [],
  );
});

test('src/ imports nothing from test/, and only the CLI (the composition root) imports stages/', () => {
  assert.deepEqual(
    violations((e) => room(e.to) === 'test' || (room(e.to) === 'stages' && room(e.from) !== 'cli')),
    [],
  );
});

test("nothing imports the CLI but the CLI, and src/ui/ (the UI's API contract, shared with web/) imports nothing of ours", () => {
  assert.deepEqual(
    violations((e) => (room(e.to) === 'cli' && room(e.from) !== 'cli') || (room(e.from) === 'ui' && room(e.to) !== 'ui')),
    [],
  );
});

for (const e of [
  { from: 'src/config/ajv.ts', to: 'src/plan/key.ts' },
  { from: 'src/config/pipeline-file.ts', to: 'src/plan/resources.ts' },
  { from: 'src/store/tiered.ts', to: 'src/exec/semaphore.ts' },
  { from: 'src/store/remote.ts', to: 'src/config/diagnostic.ts' },
  { from: 'src/store/remote-timeouts.ts', to: 'src/config/diagnostic.ts' },
  { from: 'src/store/signing.ts', to: 'src/config/diagnostic.ts' },
]) {
  test(`the backwards edge ${show(e)} issue 18 named is gone`, () => {
    assert.ok(!edges.some((x) => x.from === e.from && x.to === e.to), `${show(e)} still imported`);
  });
}

test('the scan sees the imports it checks (a lexer that read nothing would pass every rule)', () => {
  assert.ok(edges.length > 500, `${edges.length} imports`);
  assert.ok(edges.some((e) => e.from === 'src/train/loop.ts' && e.to === 'src/backends/session.ts'), 'import type is read');
  assert.ok(edges.some((e) => e.from === 'src/backends/select.ts' && e.to === 'src/backends/webgpu/init.ts'), 'dynamic import() is read');
});
