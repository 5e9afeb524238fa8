// `rethink ui`'s boundaries: nothing outside the cache and the built app is read (traversal through
// the URL, encoded slashes, absolute paths, symlinks out of the cache or the app), a token is needed
// off loopback, the headers every response carries, and a cache that does not exist is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PipelineDag } from '../../src/ui/api.js';
import { CONTENT_SECURITY_POLICY, isLoopback, tokenMatches } from '../../src/cli/ui/security.js';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { uiOver, type TestUi } from '../support/ui-server.js';

const SECRET = 'the-secret-outside-the-cache';
let p: Project;
let s: TestUi;
let key: string;
let appDir: string;

before(async () => {
  p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP, 'secret.txt': SECRET });
  assert.equal((await p.run('p.yaml')).code, 0);
  appDir = join(p.dir, 'app');
  await mkdir(join(appDir, 'assets'), { recursive: true });
  await writeFile(join(appDir, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(appDir, 'assets', 'app-1234.js'), 'console.log(1)');
  await symlink(join(p.dir, 'secret.txt'), join(appDir, 'assets', 'leak.js'));
  s = await uiOver(p, { pipelines: ['p.yaml'], appDir });
  key = (await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'download')!.key!;
});

after(() => s?.close());

/** A GET with the path sent exactly as written (fetch would normalize `..` away). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: s.ui.port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('traversal attempts never reach a file outside the cache or the app', async () => {
  const attempts = [
    '/api/runs/../../secret.txt',
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e/%2e%2e/secret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/assets/..%5c..%5csecret.txt',
    `/${encodeURIComponent(join(p.dir, 'secret.txt'))}`,
    `/api/runs/${key}/outputs/..%2f..%2f..%2fsecret.txt`,
    `/api/runs/${key}/outputs/%2e%2e%2f%2e%2e%2fCACHEDIR.TAG`,
    `/api/runs/${key}/outputs/__proto__`,
    `/api/runs/${key}/outputs/constructor`,
    `/api/runs/..%2f..%2f${'0'.repeat(58)}/outputs/out`,
    `/api/runs/${encodeURIComponent(join(p.dir, 'secret.txt'))}`,
    `/api/runs/${key}%2f..%2f..%2fsecret.txt`,
    '/api/pipelines/..%2fsecret.txt',
    '/api/pipelines/p/sweep/..%2f..%2fsecret.txt',
    '/assets/leak.js',
  ];
  for (const path of attempts) {
    const r = await rawGet(path);
    assert.doesNotMatch(r.body, new RegExp(SECRET), path);
    assert.ok(r.status === 200 ? r.body.includes('<title>app</title>') : [400, 404].includes(r.status), `${path}: ${r.status} ${r.body}`);
    // (`/api/runs/../..` is normalized out of /api/ by the URL parser: the app answers it.)
    if (path.startsWith('/api/') && !path.includes('/../')) assert.equal(JSON.parse(r.body).format, 1, path);
  }
  // What is in the app is served; paths the app routes itself get its index.html.
  assert.equal((await rawGet('/assets/app-1234.js')).body, 'console.log(1)');
  assert.match((await rawGet('/runs/abc')).body, /<title>app<\/title>/);
});

test('an object replaced by a symlink out of the cache is not served', async () => {
  const outDir = join(p.dir, 'cache', 'objects');
  const hash = await (async () => {
    const r = (await s.get(`/api/runs/${key}`)).json<{ outputs: { hash: string }[] }>();
    return r.outputs[0]!.hash;
  })();
  const file = join(outDir, hash.slice(0, 2), hash.slice(2));
  await rm(file, { force: true });
  await symlink(join(p.dir, 'secret.txt'), file);
  try {
    const r = await s.get(`/api/runs/${key}/outputs/out`);
    assert.equal(r.status, 404);
    assert.equal(r.json<{ error: { code: string } }>().error.code, 'E_NOT_LOCAL');
    assert.doesNotMatch(r.text, new RegExp(SECRET));
  } finally {
    await rm(file, { force: true });
    assert.ok((await readdir(join(outDir, hash.slice(0, 2)))).every((n) => n !== hash.slice(2)));
  }
});

test('on loopback, requests addressed to another name are refused (DNS rebinding)', async () => {
  const rebound = await rawGet('/api/overview', { host: 'evil.example:8080' });
  assert.equal(rebound.status, 403);
  assert.equal(JSON.parse(rebound.body).error.code, 'E_HOST');
  for (const host of [`localhost:${s.ui.port}`, `127.0.0.1:${s.ui.port}`, `[::1]:${s.ui.port}`]) assert.equal((await rawGet('/api/overview', { host })).status, 200, host);
});

test('headers: nosniff everywhere, a strict CSP on the app', async () => {
  const api = await rawGet('/api/overview');
  assert.equal(api.headers['x-content-type-options'], 'nosniff');
  const page = await rawGet('/');
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /script-src[^;]*unsafe/);
  const post = await new Promise<number>((done) => request({ host: '127.0.0.1', port: s.ui.port, path: '/api/overview', method: 'POST' }, (res) => done(res.statusCode!)).end());
  assert.equal(post, 405);
});

test('off loopback, every request needs the token printed at start (compared in constant time)', async () => {
  const printed: string[] = [];
  const open = await uiOver(p, { pipelines: ['p.yaml'], host: '0.0.0.0', appDir }, printed);
  try {
    const token = open.ui.token!;
    assert.match(token, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(open.ui.url.endsWith(`?token=${token}`));
    const none = await open.get('/api/overview');
    assert.equal(none.status, 401);
    assert.equal(none.json<{ error: { code: string } }>().error.code, 'E_TOKEN');
    assert.equal((await open.get('/api/overview?token=wrong')).status, 401);
    assert.equal((await open.get('/', {})).status, 401);
    assert.equal((await open.get(`/api/overview?token=${token}x`)).status, 401);
    assert.equal((await open.get(`/api/overview?token=${token}`)).status, 200);
    assert.equal((await open.get('/api/overview', { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await open.get('/api/live?token=nope')).status, 401);
    // The page opened with the token sets a cookie, so its assets and API calls pass without it.
    const page = await open.get(`/runs/abc?token=${token}`);
    assert.equal(page.status, 200);
    const cookie = page.headers.get('set-cookie')!;
    assert.match(cookie, /^rethink_ui_token=[^;]+; HttpOnly; SameSite=Strict; Path=\/$/);
    assert.equal((await open.get('/assets/app-1234.js', { cookie: cookie.split(';')[0]! })).status, 200);
    assert.equal((await open.get('/assets/app-1234.js', { cookie: 'rethink_ui_token=wrong' })).status, 401);
  } finally {
    await open.close();
  }
  assert.equal(s.ui.token, undefined, 'loopback needs no token');
  assert.deepEqual(['127.0.0.1', '127.8.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::', '192.168.1.2'].map(isLoopback), [true, true, true, true, true, false, false, false]);
  assert.equal(tokenMatches('abc', 'abc'), true);
  assert.equal(tokenMatches('abcd', 'abc'), false);
  assert.equal(tokenMatches(undefined, 'abc'), false);
});

test('a cache dir that does not exist: a clear error at start, exit code 2', async () => {
  const r = await p.cli('ui', 'p.yaml', '--cache-dir', 'no-such-cache');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E_NO_CACHE\]: no cache at .*no-such-cache/);
  assert.match(r.stderr, /check --cache-dir/);
  assert.equal(r.stdout, '');
});

test('without the built app: a clear 500 page that says to build it', async () => {
  const bare = await uiOver(p, { pipelines: ['p.yaml'], appDir: join(p.dir, 'no-app') });
  try {
    const r = await bare.get('/pipelines/p');
    assert.equal(r.status, 500);
    assert.match(r.headers.get('content-type')!, /^text\/html/);
    assert.match(r.text, /run `npm run build`/);
    assert.equal((await bare.get('/api/overview')).status, 200);
  } finally {
    await bare.close();
  }
});
