// Two real `rethink run` processes on one cache: each stage is computed once, by whoever claimed it
// first, and a holder killed mid-stage is taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, type RunDoc } from '../support/tmp-project.js';
import { startCli, until, type CliProcess } from '../support/cli-process.js';

/** Logs "<pid> <stage id>" when it starts, then holds until the project has a file named `go`. */
const SLOW = `
import { access, appendFile } from 'node:fs/promises';
export const plugin = {
  name: 'slow', version: '1', description: 'waits for a go file',
  params: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
  inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    await appendFile('starts.log', process.pid + ' ' + ctx.stage.id + '\\n');
    while (!(await access('go').then(() => true, () => false))) await new Promise((r) => setTimeout(r, 20));
    await ctx.writeJson('out', { value: ctx.params.x });
  },
};
`;

const PIPELINE = `stages:
  a: { uses: ./slow.mjs, with: { x: 1 } }
  c: { uses: ./slow.mjs, with: { x: 2 } }
`;

const start = (dir: string, ...argv: string[]): CliProcess => startCli(dir, argv);

const starts = async (dir: string): Promise<string[][]> =>
  (await readFile(join(dir, 'starts.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => l.split(' '));

test('two processes running one pipeline on one cache split its stages and compute each once', async () => {
  const p = await project({ 'slow.mjs': SLOW, 'p.yaml': PIPELINE });
  const a = start(p.dir, 'run', 'p.yaml', '--json', '--jobs', '1');
  await until('the first process to start a stage', async () => (await starts(p.dir)).length === 1);
  const mine = (await starts(p.dir))[0]![1]!;

  const status = await p.cli('status', 'p.yaml');
  assert.match(status.stdout, new RegExp(`will run +${mine.replace(/[[\]]/g, '\\$&')} +never run; running now in pid ${a.child.pid} \\(p\\.yaml`));
  assert.match(status.stdout, /0 up to date, 2 will run \(1 running now in another process\)/);

  // The second process finds the first one's stage taken, waits for it, and takes the other.
  const b = start(p.dir, 'run', 'p.yaml', '--json', '--jobs', '1');
  await until('the second process to start the other stage', async () => (await starts(p.dir)).length === 2);
  await writeFile(join(p.dir, 'go'), '');
  const [ra, rb] = await Promise.all([a.done, b.done]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);

  const log = await starts(p.dir);
  assert.deepEqual(log.map(([, id]) => id).sort(), ['a', 'c'], 'each stage ran once');
  const ranBy = new Map(log.map(([pid, id]) => [id!, Number(pid)]));
  for (const [r, self, other] of [[ra, a, b], [rb, b, a]] as const) {
    const doc = JSON.parse(r.stdout) as RunDoc;
    for (const s of doc.stages) {
      if (ranBy.get(s.id) === self.child.pid) assert.equal(s.status, 'ran');
      else {
        assert.equal(s.status, 'cached', `${s.id} in pid ${self.child.pid}`);
        // Found while waiting for the other's lease (which names it), or on a last look after this
        // process got the cores and the lease (the other had just finished).
        const by = `pid ${other.child.pid} \\(p\\.yaml, since \\d\\d:\\d\\d:\\d\\d UTC\\)|another process`;
        assert.match(s.reason ?? '', new RegExp(`^computed meanwhile by (${by})$`));
      }
    }
  }
  assert.deepEqual(await readdir(join(p.dir, 'cache', 'leases')), [], 'every lease released');
  const again = await p.run('p.yaml');
  assert.deepEqual(again.status, { a: 'cached', c: 'cached' });
});

test('a process killed while it computes a stage is taken over by the one waiting for it', async () => {
  const p = await project({ 'slow.mjs': SLOW, 'p.yaml': 'stages:\n  a: { uses: ./slow.mjs, with: { x: 1 } }\n' });
  const a = start(p.dir, 'run', 'p.yaml', '--json');
  await until('the first process to start', async () => (await starts(p.dir)).length === 1);
  const b = start(p.dir, 'run', 'p.yaml'); // plain progress lines on stderr
  await until('the second process to wait', () => /waiting a: another process is computing it/.test(b.stderr()));
  a.child.kill('SIGKILL');
  await until('the second process to start the stage itself', async () => (await starts(p.dir)).length === 2);
  await writeFile(join(p.dir, 'go'), '');
  const rb = await b.done;
  assert.equal(rb.code, 0, rb.stderr);
  assert.deepEqual((await starts(p.dir)).map(([pid]) => Number(pid)), [a.child.pid, b.child.pid]);
  assert.match(rb.stderr, /waiting a: another process is computing it, pid \d+ \(p\.yaml, since/);
  assert.match(rb.stderr, /Z {3}ran {5}a \(/);
  assert.deepEqual(await readdir(join(p.dir, 'cache', 'leases')), []);
});
