// `rethink run` as its own process: a stage that never settles or outlives its timeout fails the run
// (never a silent exit 0), and SIGINT, SIGTERM and SIGHUP stop it cleanly, a second one at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project, type RunDoc } from '../support/tmp-project.js';
import { startCli, until, type CliProcess } from '../support/cli-process.js';

/**
 * Logs its stage id to starts.log, writes its output, then: `never` leaves a promise pending with
 * nothing to wait on; `deaf` waits an hour without looking at its signal; `slow` waits for a file
 * named `go`, stopping when its signal aborts; `fail` throws; `later` never settles once there is a
 * file named `hang`.
 */
const STUCK = `
import { access, appendFile } from 'node:fs/promises';
export const plugin = {
  name: 'stuck', version: '1', description: 'never settles, ignores its signal, waits or fails',
  params: { type: 'object', properties: { mode: { enum: ['never', 'deaf', 'slow', 'fail', 'later'] } }, required: ['mode'] },
  inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const here = (name) => new URL(name, import.meta.url); // in the project, whatever the cwd
    await appendFile(here('starts.log'), ctx.stage.id + '\\n');
    await ctx.writeJson('out', { mode: ctx.params.mode });
    switch (ctx.params.mode) {
      case 'never': return new Promise(() => {});
      case 'deaf': return new Promise((resolve) => setTimeout(resolve, 3_600_000));
      case 'slow':
        while (!(await access(here('go')).then(() => true, () => false))) {
          ctx.signal.throwIfAborted();
          await new Promise((r) => setTimeout(r, 20));
        }
        return;
      case 'fail': throw new Error('boom');
      case 'later': return (await access(here('hang')).then(() => true, () => false)) ? new Promise(() => {}) : undefined;
    }
  },
};
`;

/** `rethink run --json …` to its end, as a separate process. */
function runToEnd(dir: string, ...argv: string[]): { code: number | null; doc: RunDoc | undefined; stderr: string } {
  const r = spawnSync(process.execPath, [compiledBin(), 'run', '--json', ...argv], { cwd: dir, encoding: 'utf8', env: { ...process.env, RETHINK_CACHE_DIR: join(dir, 'cache') } });
  let doc: RunDoc | undefined;
  try {
    doc = JSON.parse(r.stdout) as RunDoc;
  } catch {
    doc = undefined;
  }
  return { code: r.status, doc, stderr: r.stderr };
}

/** `rethink run --json …` as a process of its own, to signal while it runs. */
const start = (dir: string, ...argv: string[]): CliProcess => startCli(dir, ['run', '--json', ...argv]);

const started = async (dir: string): Promise<string[]> => (await readFile(join(dir, 'starts.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
/** The files under cache/DIR, at any depth ([] when it does not exist). */
const filesIn = async (dir: string, sub: string): Promise<string[]> => (await readdir(join(dir, 'cache', sub), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => e.name);

test('a stage whose run() never settles fails the run, which reports every stage and exits 1', async () => {
  const p = await project({ 'stuck.mjs': STUCK, 'p.yaml': 'stages:\n  hang: { uses: ./stuck.mjs, with: { mode: never } }\n  bad: { uses: ./stuck.mjs, with: { mode: fail } }\n' });
  const r = runToEnd(p.dir, 'p.yaml', '--keep-going');
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.doc, `a JSON document on stdout; stderr:\n${r.stderr}`);
  assert.deepEqual(
    r.doc.stages.map((s) => [s.id, s.status, s.reason]),
    [
      ['hang', 'failed', 'its run() never settled: the plugin left a promise pending with nothing to wait on'],
      ['bad', 'failed', 'boom'],
    ],
  );

  const alone = spawnSync(process.execPath, [compiledBin(), 'run', 'p.yaml', '--only', 'hang'], { cwd: p.dir, encoding: 'utf8', env: { ...process.env, RETHINK_CACHE_DIR: join(p.dir, 'cache') } });
  assert.equal(alone.status, 1);
  assert.match(alone.stderr, /Z {3}FAILED {2}hang \(\d+\.\ds\): its run\(\) never settled/);
  assert.match(alone.stderr, /Z done: 0 ran, 0 cached, 1 failed in /);
  assert.deepEqual([...(await filesIn(p.dir, 'objects')), ...(await filesIn(p.dir, 'runs')), ...(await filesIn(p.dir, 'tmp'))], []);
});

test('a timeout fails a stage that never settles at its deadline, and keeps nothing of it', async () => {
  const p = await project({ 'stuck.mjs': STUCK, 'p.yaml': 'stages:\n  hang: { uses: ./stuck.mjs, with: { mode: never }, timeout: 1 }\n' });
  const r = runToEnd(p.dir, 'p.yaml');
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(
    r.doc?.stages.map((s) => [s.id, s.status, s.reason]),
    [['hang', 'failed', 'timed out after 1s']],
  );
  assert.deepEqual([...(await filesIn(p.dir, 'objects')), ...(await filesIn(p.dir, 'runs')), ...(await filesIn(p.dir, 'tmp'))], [], 'its written output is discarded');
});

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  test(`${signal} stops a run as Ctrl-C does: exit ${code}, its lease released, nothing recorded; the next run computes the stage`, async () => {
    const p = await project({ 'stuck.mjs': STUCK, 'p.yaml': 'stages:\n  s: { uses: ./stuck.mjs, with: { mode: slow } }\n' });
    const run = start(p.dir, 'p.yaml');
    await until('the stage to start', async () => (await started(p.dir)).length === 1);
    run.child.kill(signal);
    const r = await run.done;
    assert.deepEqual([r.code, r.signal], [code, null], r.stderr);
    assert.match(r.stderr, new RegExp(`^rethink: ${signal}: stopping \\(a second signal exits at once\\)$`, 'm'));
    const doc = JSON.parse(r.stdout) as RunDoc;
    assert.deepEqual(doc.stages.map((s) => [s.id, s.status, s.reason]), [['s', 'failed', `interrupted by ${signal}`]]);
    assert.deepEqual(await filesIn(p.dir, 'leases'), [], 'no lease left');
    assert.deepEqual([...(await filesIn(p.dir, 'runs')), ...(await filesIn(p.dir, 'objects')), ...(await filesIn(p.dir, 'tmp'))], [], 'nothing of the stage kept');

    await writeFile(join(p.dir, 'go'), '');
    const again = await p.run('p.yaml');
    assert.deepEqual(again.status, { s: 'ran' });
  });
}

test('Ctrl-C twice ends a run whose stage ignores its signal, with 130', async () => {
  const p = await project({ 'stuck.mjs': STUCK, 'p.yaml': 'stages:\n  d: { uses: ./stuck.mjs, with: { mode: deaf } }\n' });
  const run = start(p.dir, 'p.yaml');
  await until('the stage to start', async () => (await started(p.dir)).length === 1);
  run.child.kill('SIGINT');
  await until('the first to be handled', () => run.stderr().includes('rethink: SIGINT: stopping'));
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.deepEqual([r.code, r.signal], [130, null], r.stderr);
  // The second signal may have come before the lease was released: a dead process's lease holds nobody up.
  const status = await p.cli('status', 'p.yaml');
  assert.match(status.stdout, /will run +d +never run\n/);
});

test('a second signal exits at once, with the first one’s code, while stopping hangs', async () => {
  // Stopping hangs: the run waits on a fingerprint that ignores every signal and keeps a timer.
  const SLOW_FINGERPRINT = `import { appendFile } from 'node:fs/promises';
  export const plugin = {
    name: 'fp', version: '1', description: 'its fingerprint takes an hour',
    params: { type: 'object' }, inputs: {}, outputs: { out: { kind: 'json' } },
    fingerprint: async () => {
      await appendFile(new URL('starts.log', import.meta.url), 'fingerprint\\n');
      return new Promise((resolve) => setTimeout(() => resolve(1), 3_600_000));
    },
    async run(ctx) { await ctx.writeJson('out', {}); },
  };\n`;
  const p = await project({ 'fp.mjs': SLOW_FINGERPRINT, 'p.yaml': 'stages:\n  a: { uses: ./fp.mjs }\n' });
  const run = start(p.dir, 'p.yaml');
  await until('the fingerprint to start', async () => (await started(p.dir)).length === 1);
  run.child.kill('SIGTERM');
  await until('the first signal to be handled', () => run.stderr().includes('rethink: SIGTERM: stopping'));
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.deepEqual([r.code, r.signal], [143, null], r.stderr);
  assert.equal(r.stderr, "rethink: SIGTERM: stopping (a second signal exits at once)\nrethink: SIGINT again: exiting now; the next run takes over this process's leases\n");
});

test('a command left with nothing to wait on exits 1 and says so, never 0', async () => {
  const FINGERPRINT = `export const plugin = {
    name: 'fp', version: '1', description: 'its fingerprint never settles',
    params: { type: 'object' }, inputs: {}, outputs: { out: { kind: 'json' } },
    fingerprint: () => new Promise(() => {}),
    async run(ctx) { await ctx.writeJson('out', {}); },
  };\n`;
  const p = await project({ 'fp.mjs': FINGERPRINT, 'p.yaml': 'stages:\n  a: { uses: ./fp.mjs }\n' });
  const r = runToEnd(p.dir, 'p.yaml');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^rethink: internal error: the command never finished \(it waited on a promise that nothing could settle\)$/m);
});

test('verify reports a stage whose run() never settles as failed, and exits 1', async () => {
  const p = await project({ 'stuck.mjs': STUCK, 'p.yaml': 'stages:\n  a: { uses: ./stuck.mjs, with: { mode: later } }\n' });
  assert.deepEqual((await p.run('p.yaml')).status, { a: 'ran' });
  await writeFile(join(p.dir, 'hang'), '');
  const r = spawnSync(process.execPath, [compiledBin(), 'verify', 'p.yaml'], { cwd: p.dir, encoding: 'utf8', env: { ...process.env, RETHINK_CACHE_DIR: join(p.dir, 'cache') } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /\n {2}FAILED {6}a \(\d+\.\ds; recorded \d+\.\ds\): its run\(\) never settled: the plugin left a promise pending with nothing to wait on\n/);
  assert.match(r.stderr, /\ndone: 0 reproduced, 0 differ, 1 failed in /);
});
