// `rethink exec` against the shared remote, as a Slurm job or a worker runs it: the spec comes from
// the remote (--key), inputs come down from it, outputs and then the run record go up; a second
// attempt of a finished key runs nothing; a forged spec is refused with nothing published; and
// `--serve` runs several jobs in one warm process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { s3Server } from '../support/s3.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { buildJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import { isJobMessage, type JobMessage, type JobResult } from '../../src/exec/job-messages.js';
import { EXEC_EXIT } from '../../src/exec/engine.js';
import { LocalStore } from '../../src/store/local.js';
import { jobSpecPathOf, runPathOf } from '../../src/store/remote.js';
import type { OutputRef, RunRecord } from '../../src/store/types.js';
import { asStageId } from '../../src/util/brand.js';

/** The test plugin, counting its runs in runs.log beside it. */
const COUNTED = `import { appendFileSync } from 'node:fs';
import { plugin as emit } from './plugins.mjs';
export const plugin = { ...emit, name: 'counted', async run(ctx) { appendFileSync(new URL('./runs.log', import.meta.url), ctx.stage.id + '\\n'); return emit.run(ctx); } };
`;
const PIPELINE = `stages:
  a: { uses: ./counted.mjs, with: { value: 7 } }
  b: { uses: ./counted.mjs, with: { value: 1 }, inputs: { x: a } }
  bad: { uses: ./counted.mjs, with: { value: 1, user_error: true } }
  spin: { uses: ./counted.mjs, with: { value: 1, spin: 1000000000 } }
`;
const FILES = { 'plugins.mjs': TEST_PLUGINS, 'counted.mjs': COUNTED, 'p.yaml': PIPELINE };

/** The job spec a coordinator would publish for stage `id`, its upstream stages having written `upstream`. */
async function specOf(p: Project, id: string, upstream: Readonly<Record<string, Readonly<Record<string, OutputRef>>>> = {}): Promise<JobSpec> {
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: p.dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const inst = plan.instances.get(asStageId(id))!;
  const outputsOf = (u: string) => upstream[u] ?? {};
  const { key, keyRecord } = await lookup(new LocalStore(join(p.dir, 'unused')), inst, inputKeys(plan, inst, outputsOf));
  return buildJobSpec({ instance: inst, key, keyRecord, inputs: resolveInputs(plan, inst, outputsOf), cores: 1 }, plan);
}

/** Publishes the spec where `rethink exec --key` looks for it, as a coordinator does. */
async function publish(remote: string, spec: JobSpec): Promise<void> {
  const file = join(remote, ...jobSpecPathOf(spec.key).split('/'));
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, JSON.stringify(spec));
}

const runs = async (p: Project): Promise<string[]> => (await readFile(join(p.dir, 'runs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
const files = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
const recordOn = async (remote: string, key: string): Promise<RunRecord> => JSON.parse(await readFile(join(remote, ...runPathOf(key).split('/')), 'utf8')) as RunRecord;

test('exec --key runs the spec the remote holds: outputs then the record go up, and a downstream job on another cache reads them from there', async () => {
  const p = await project(FILES);
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  await publish(remote, a);
  const r = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1', '--worker', 'w1');
  assert.equal(r.code, EXEC_EXIT.ok, r.stderr);
  const result = JSON.parse(r.stdout) as JobResult & { ok: true };
  const record = await recordOn(remote, a.key);
  assert.deepEqual(result.record, record);
  assert.deepEqual(record.outputs, result.outputs);
  assert.equal(record.stage.id, 'a');
  const ranOn = record.provenance.ranOn as { host: string; worker: string };
  assert.equal(ranOn.worker, 'w1');
  assert.equal(typeof ranOn.host, 'string');
  assert.equal((record.provenance.attempts as unknown[]).length, 1);
  const out = result.outputs.out!.hash;
  const remoteFiles = await files(remote);
  assert.ok(remoteFiles.includes(`objects/${out.slice(0, 2)}/${out.slice(2)}`), 'the output is on the remote');
  // The spec and the attempt's note stay; the progress file is gone with the job.
  assert.ok(remoteFiles.includes(jobSpecPathOf(a.key)));
  assert.equal(remoteFiles.filter((f) => f.startsWith(`jobs/${a.key}/attempts/`)).length, 1);
  assert.ok(!remoteFiles.some((f) => f.endsWith('progress.json')));

  // b on another node: its input a.out is only on the remote.
  const b = await specOf(p, 'b', { a: result.outputs });
  await publish(remote, b);
  const rb = await p.cli('exec', '--key', b.key, '--remote', remote, '--cache-dir', 'node2');
  assert.equal(rb.code, EXEC_EXIT.ok, rb.stderr);
  const bOut = (JSON.parse(rb.stdout) as JobResult & { ok: true }).outputs.out!;
  const value = JSON.parse(await readFile(join(remote, 'objects', bOut.hash.slice(0, 2), bOut.hash.slice(2)), 'utf8')) as { value: number };
  assert.equal(value.value, 8);
  assert.deepEqual(await runs(p), ['a', 'b']);
});

test('a second exec of a key whose record is on the remote runs nothing and exits 0 (engines may start a job twice)', async () => {
  const p = await project(FILES);
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  await publish(remote, a);
  const first = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1');
  assert.equal(first.code, EXEC_EXIT.ok, first.stderr);
  const again = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node2');
  assert.equal(again.code, EXEC_EXIT.ok, again.stderr);
  const result = JSON.parse(again.stdout) as JobResult & { ok: true };
  assert.equal(result.already, true);
  assert.deepEqual(result.outputs, (JSON.parse(first.stdout) as JobResult & { ok: true }).outputs);
  assert.match(again.stderr, /its result is already on .*; nothing ran/);
  assert.deepEqual(await runs(p), ['a'], 'the stage ran once');
});

test('a forged spec (its key is not its key record\'s hash) is refused with exit 3, and nothing reaches the remote', async () => {
  const p = await project(FILES);
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  const forged = { ...a, key: `${a.key.slice(0, -1)}${a.key.endsWith('0') ? '1' : '0'}` as JobSpec['key'] };
  await publish(remote, forged);
  const r = await p.cli('exec', '--key', forged.key, '--remote', remote, '--cache-dir', 'node1');
  assert.equal(r.code, EXEC_EXIT.refused);
  assert.match(r.stderr, /error\[E_BAD_SPEC\]: job spec .*jobs\/[0-9a-f]{64}\/spec\.json: key: is not the hash of keyRecord/);
  assert.deepEqual(JSON.parse(r.stdout), { ok: false, error: { name: 'JobRefused', message: r.stderr.split('\n')[0]!.replace(/^error\[E_BAD_SPEC\]: /, ''), userError: true, refused: true } });
  assert.deepEqual(await files(remote), [jobSpecPathOf(forged.key)], 'nothing but the forged spec');
  assert.deepEqual(await runs(p), []);

  // A key with no spec on the remote: refused, naming the path.
  const missing = await p.cli('exec', '--key', 'ab'.repeat(32), '--remote', remote, '--cache-dir', 'node1');
  assert.equal(missing.code, EXEC_EXIT.refused);
  assert.match(missing.stderr, new RegExp(`error\\[E_NO_SPEC\\]: there is no job spec at .*/remote/jobs/${'ab'.repeat(32)}/spec\\.json`));
});

test("a stage's user error on a worker exits 2 and publishes nothing", async () => {
  const p = await project(FILES);
  const remote = join(p.dir, 'remote');
  const bad = await specOf(p, 'bad');
  await publish(remote, bad);
  const r = await p.cli('exec', '--key', bad.key, '--remote', remote, '--cache-dir', 'node1');
  assert.equal(r.code, EXEC_EXIT.userError);
  assert.equal((JSON.parse(r.stdout) as JobResult & { ok: false }).error.userError, true);
  assert.ok(!(await files(remote)).some((f) => f.startsWith('objects/') || f.startsWith('runs/')));
});

test('exec --key against an S3 remote (s3rver): objects, then the record, in the bucket', async () => {
  const s3 = await s3Server(['team']);
  try {
    const p = await project(FILES);
    const a = await specOf(p, 'a');
    await s3.put('team', `exp/${jobSpecPathOf(a.key)}`, JSON.stringify(a));
    const r = await p.cli('exec', '--key', a.key, '--remote', 's3://team/exp', '--cache-dir', 'node1');
    assert.equal(r.code, EXEC_EXIT.ok, r.stderr);
    const out = (JSON.parse(r.stdout) as JobResult & { ok: true }).outputs.out!.hash;
    const keys = await s3.keys('team');
    assert.ok(keys.includes(`exp/objects/${out.slice(0, 2)}/${out.slice(2)}`));
    assert.ok(keys.includes(`exp/${runPathOf(a.key)}`));
    const puts = s3.requests.filter((q) => q.startsWith('PUT ')).map((q) => q.split('?')[0]!);
    assert.ok(puts.indexOf(`PUT /team/exp/objects/${out.slice(0, 2)}/${out.slice(2)}`) < puts.indexOf(`PUT /team/exp/${runPathOf(a.key)}`), 'the record goes up last');
  } finally {
    await s3.close();
  }
});

test('a remote that cannot be reached at the start refuses the job (exit 3), naming the URL and what to check', async () => {
  const p = await project(FILES);
  await writeFile(join(p.dir, 'a.json'), JSON.stringify(await specOf(p, 'a')));
  // A port nothing listens on.
  const port = await new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
  });
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_MAX_ATTEMPTS: '1' });
  try {
    const r = await p.cli('exec', '--spec', 'a.json', '--remote', 's3://team/exp', '--cache-dir', 'node1');
    assert.equal(r.code, EXEC_EXIT.refused, r.stderr);
    assert.match(r.stderr, /error\[E_REMOTE_UNREACHABLE\]: the remote s3:\/\/team\/exp cannot be reached: .*\n {2}= check --remote \(or RETHINK_REMOTE\), the network, and the credentials/);
    assert.deepEqual(await runs(p), []);
  } finally {
    process.env = saved;
  }
});

test('exec --serve runs jobs sent over IPC one after another in one process, and exits when the channel closes', async () => {
  const p = await project(FILES);
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  const bad = await specOf(p, 'bad');
  const forged = { ...a, key: 'cd'.repeat(32) };
  const child = fork(compiledBin(), ['exec', '--serve', '--remote', remote, '--cache-dir', join(p.dir, 'node1')], { cwd: p.dir, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const messages: JobMessage[] = [];
  const next = (type: JobMessage['type']) =>
    new Promise<JobMessage>((done) => {
      const seen = messages.findIndex((m) => m.type === type);
      if (seen !== -1) return done(messages.splice(seen, 1)[0]!);
      const on = (m: unknown) => {
        if (!isJobMessage(m) || m.type !== type) return;
        child.off('message', on);
        done(m);
      };
      child.on('message', on);
    });
  child.on('message', (m) => isJobMessage(m) && m.type !== 'result' && m.type !== 'ready' && messages.push(m));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await next('ready');
  const ranOn = { host: 'box', worker: 'w7', engine: 'queue', jobId: a.key, attempt: 1 };
  const results: JobResult[] = [];
  for (const spec of [a, bad, forged]) {
    child.send({ type: 'job', spec, ranOn });
    results.push((await next('result')) as JobResult);
  }
  // A job that would spin for minutes: cancel stops it, and it settles with the cancellation.
  const spin = await specOf(p, 'spin');
  child.send({ type: 'job', spec: spin, ranOn });
  child.send({ type: 'cancel' });
  const cancelled = (await next('result')) as JobResult & { ok: false };
  assert.equal(cancelled.ok, false);
  assert.match(cancelled.error.message, /cancelled by the worker/);
  assert.equal(cancelled.error.userError, undefined, 'a cancelled job may run again');
  child.disconnect();
  assert.equal(await exited, 0, stderr);
  const [ok, userError, refused] = results as [JobResult & { ok: true }, JobResult & { ok: false }, JobResult & { ok: false }];
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.record!.provenance.ranOn, ranOn);
  assert.equal(userError.error.userError, true);
  assert.equal(userError.error.refused, undefined);
  assert.equal(refused.error.refused, true);
  assert.match(refused.error.message, /key: is not the hash of keyRecord/);
  // Both stages ran in the one child: the attempt notes name its pid.
  const notes = (await files(remote)).filter((f) => f.includes('/attempts/'));
  assert.equal(notes.length, 3);
  for (const note of notes) assert.equal((JSON.parse(await readFile(join(remote, note), 'utf8')) as { pid: number }).pid, child.pid);
  assert.deepEqual((await runs(p)).slice(0, 2), ['a', 'bad']);
  assert.ok(!(await files(remote)).includes(runPathOf(spin.key)), 'nothing of the cancelled job is published');
});
