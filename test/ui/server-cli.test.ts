// `rethink ui` as a command: it finds the project's pipelines, prints the URL on a free loopback port,
// serves until Ctrl-C and then exits 0; off loopback it prints a URL with a token; a port in use is
// the user's error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Overview } from '../../src/ui/api.js';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { startCli, until } from '../support/cli-process.js';

const PIPELINES = { 'plugins.mjs': TEST_PLUGINS, 'pipelines/a.yaml': SWEEP.replaceAll('./plugins.mjs', '../plugins.mjs'), 'pipelines/b.yml': SWEEP.replaceAll('./plugins.mjs', '../plugins.mjs').replace('base: 10', 'base: 11') };

test('rethink ui: the project pipelines on a free loopback port, until Ctrl-C', async () => {
  const p = await project(PIPELINES);
  assert.equal((await p.run('pipelines/a.yaml')).code, 0);
  const ui = startCli(p.dir, ['ui']);
  // stdout is the URL line alone.
  let stdout = '';
  ui.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await until('the URL', () => /http:\/\/127\.0\.0\.1:\d+\/\n/.test(stdout) || ui.child.exitCode !== null);
  const url = stdout.trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(ui.stderr(), /rethink ui: pipelines\/a\.yaml, pipelines\/b\.yml over .*cache/);
  const o = (await (await fetch(new URL('/api/overview', url))).json()) as Overview;
  assert.deepEqual(o.pipelines.map((x) => x.id), ['a', 'b']);
  assert.equal(o.counts['up-to-date'], 8);
  assert.equal(o.counts['never-run'], 8);
  ui.child.kill('SIGINT');
  const end = await ui.done;
  assert.equal(end.code, 0, end.stderr);
});

test('rethink ui --host 0.0.0.0 prints a URL with its token; a port in use is a user error', async () => {
  const p = await project(PIPELINES);
  assert.equal((await p.run('pipelines/a.yaml')).code, 0);
  const open = startCli(p.dir, ['ui', 'pipelines/a.yaml', '--host', '0.0.0.0']);
  let stdout = '';
  open.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await until('the URL', () => /\n$/.test(stdout) || open.child.exitCode !== null);
  const m = /^http:\/\/0\.0\.0\.0:(\d+)\/\?token=([A-Za-z0-9_-]+)\n$/.exec(stdout);
  assert.ok(m, stdout + open.stderr());
  assert.match(open.stderr(), /every request needs the token/);
  assert.equal((await fetch(`http://127.0.0.1:${m[1]}/api/overview`)).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${m[1]}/api/overview?token=${m[2]}`)).status, 200);
  open.child.kill('SIGTERM');
  assert.equal((await open.done).code, 0);

  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  try {
    const r = await p.cli('ui', 'pipelines/a.yaml', '--port', String((busy.address() as AddressInfo).port));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_PORT\]: port \d+ on 127\.0\.0\.1 is in use/);
    const high = await p.cli('ui', 'pipelines/a.yaml', '--port', '70000');
    assert.equal(high.code, 2);
    assert.match(high.stderr, /error\[E_BAD_FLAG\]: --port must be at most 65535/);
  } finally {
    busy.close();
  }
});
