import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project } from '../support/tmp-project.js';

/** Adds 1 to its input; with `noise` > 0 it also writes a random jitter into both of its outputs. */
const PLUGIN = `
export const plugin = {
  name: 'jitter', version: '1', description: 'deterministic unless noise > 0',
  params: { type: 'object', properties: { noise: { type: 'number', default: 0 } }, additionalProperties: false },
  inputs: { x: { optional: true } },
  outputs: { out: { kind: 'json' }, w: { kind: 'tensors' } },
  async run(ctx) {
    const r = ctx.params.noise > 0 ? (1 + Math.random()) * ctx.params.noise : 0;
    const base = ctx.inputs.x ? (await ctx.inputs.x.readJson()).value : 0;
    await ctx.writeJson('out', { value: base + 1, jitter: r, fixed: [1, 2] });
    await ctx.writeTensors('w', {
      w: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 2, 3 + r, 4) },
      b: { dtype: 'float32', shape: [1], data: Float32Array.of(5) },
    });
  },
};
`;

const PIPELINE = `stages:
  a: { uses: ./jitter.mjs }
  b: { uses: ./jitter.mjs, with: { noise: 0.001 }, inputs: { x: a.out } }
  c: { uses: ./jitter.mjs, inputs: { x: b.out } }
`;

interface VerifyDoc {
  stages: { id: string; status: string; differences: { output: string; details: string[] }[] }[];
  notVerified: { id: string }[];
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    out.push(`${path} ${e.isFile() ? (await stat(path)).mtimeMs : 'dir'}`);
  }
  return out.sort();
}

test('verify recomputes cached stages from their recorded inputs and names what does not reproduce, leaving the cache as it was', async () => {
  const p = await project({ 'jitter.mjs': PLUGIN, 'p.yaml': PIPELINE });
  assert.equal((await p.run('p.yaml')).code, 0);
  const before = await tree(join(p.dir, 'cache'));

  const r = await p.cli('verify', 'p.yaml', '--json');
  assert.equal(r.code, 1, 'a result that does not reproduce fails the command');
  const doc = JSON.parse(r.stdout) as VerifyDoc;
  assert.deepEqual(
    doc.stages.map((s) => [s.id, s.status]),
    [['a', 'reproduced'], ['b', 'differs'], ['c', 'reproduced']],
    'c recomputes from b as recorded, so b’s noise does not reach it',
  );
  const b = doc.stages[1]!;
  assert.deepEqual(b.differences.map((d) => d.output), ['out', 'w']);
  assert.equal(b.differences[0]!.details.length, 1, 'only the jitter field moved');
  assert.match(b.differences[0]!.details[0]!, /^jitter: 0\.00\d+ → 0\.00\d+$/);
  assert.equal(b.differences[1]!.details[0], '1 of 2 tensors differ');
  const delta = /^w: 1 of 4 values differ, max \|Δ\| (\d\.\de-\d)$/.exec(b.differences[1]!.details[1]!);
  assert.ok(delta && Number(delta[1]) > 0 && Number(delta[1]) < 0.001, b.differences[1]!.details[1]); // two jitters in [0.001, 0.002)
  assert.deepEqual(await tree(join(p.dir, 'cache')), before, 'nothing added, removed or rewritten in the cache');

  const text = await p.cli('verify', 'p.yaml', '--only', 'b');
  assert.equal(text.code, 1);
  assert.match(text.stderr, /^verify p\.yaml: recomputing 1 up-to-date stage\n/);
  assert.match(text.stderr, /\n {2}DIFFERS +b \(\d+\.\ds; recorded \d+\.\ds\)\n {6}out: jitter: /);
  assert.match(text.stderr, /\ndone: 0 reproduced, 1 differs in /);

  const sample = await p.cli('verify', 'p.yaml', '--json', '--sample', '2', '--only', 'a', '--only', 'c');
  assert.equal(sample.code, 0, sample.stderr);
  assert.deepEqual((JSON.parse(sample.stdout) as VerifyDoc).stages.map((s) => s.status), ['reproduced', 'reproduced']);
  const one = JSON.parse((await p.cli('verify', 'p.yaml', '--json', '--sample', '1')).stdout) as VerifyDoc;
  assert.equal(one.stages.length, 1);
  const oneAgain = JSON.parse((await p.cli('verify', 'p.yaml', '--json', '--sample', '1')).stdout) as VerifyDoc;
  assert.equal(oneAgain.stages[0]!.id, one.stages[0]!.id, 'a sample is the same for the same config');
});

test('verify names the stages it cannot check, and exits 2 when none is up to date', async () => {
  const p = await project({ 'jitter.mjs': PLUGIN, 'p.yaml': PIPELINE });
  const none = await p.cli('verify', 'p.yaml');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /nothing to verify in p\.yaml: all 3 stages are not up to date/);
  assert.match(none.stderr, /run first: rethink run p\.yaml/);

  await p.run('p.yaml', '--only', 'a');
  const partial = await p.cli('verify', 'p.yaml', '--json');
  assert.equal(partial.code, 0, partial.stderr);
  const doc = JSON.parse(partial.stdout) as VerifyDoc;
  assert.deepEqual(doc.stages.map((s) => s.id), ['a']);
  assert.deepEqual(doc.notVerified.map((s) => s.id), ['b', 'c']);
  assert.equal((await p.cli('verify', 'p.yaml', '--sample', '0')).code, 2);
  assert.equal((await p.cli('verify', 'p.yaml', '--backend', 'abacus')).code, 2);
});

test('verify works on a cache it cannot write to, recomputing in the OS temp directory, and leaves the cache as it was', async () => {
  const p = await project({ 'jitter.mjs': PLUGIN, 'p.yaml': PIPELINE.replace('noise: 0.001', 'noise: 0') });
  assert.equal((await p.run('p.yaml')).code, 0);
  // A cache that refuses a scratch directory, even to root (who ignores chmod): its tmp/ is a file.
  await rm(join(p.dir, 'cache', 'tmp'), { recursive: true });
  await writeFile(join(p.dir, 'cache', 'tmp'), 'not a directory');
  const before = await tree(join(p.dir, 'cache'));
  const r = await p.cli('verify', 'p.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as VerifyDoc).stages.map((s) => s.status), ['reproduced', 'reproduced', 'reproduced']);
  assert.match(r.stderr, /^rethink verify: the cache \S+ cannot be written \(E[A-Z]+\); recomputing in \S+ instead \(the cache is only read\)\n$/, 'said once');
  assert.deepEqual(await tree(join(p.dir, 'cache')), before);
});
