// `rethink exec` against the shared remote, as a Slurm job or a worker runs it: the spec comes from
// the remote (--key), inputs come down from it, outputs and then the run record go up; a second
// attempt of a finished key runs nothing; a forged spec is refused with nothing published; and
// `--serve` runs several jobs in one warm process.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../../src/store/signing.js';
import { signSpec } from '../../src/exec/spec-signing.js';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { s3Server } from '../support/s3.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { buildJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import { isJobMessage, type JobMessage, type JobResult } from '../../src/exec/job-messages.js';
import { EXEC_EXIT } from '../../src/exec/engine.js';
import { LocalStore } from '../../src/store/local.js';
import { DirRemote, jobSpecPathOf, openRemote, runPathOf } from '../../src/store/remote.js';
import { publishPluginCode } from '../../src/exec/plugin-code.js';
import type { OutputRef, RunRecord } from '../../src/store/types.js';
import { asStageId } from '../../src/util/brand.js';

/** The test plugin, counting its runs in the file RETHINK_TEST_RUNS_LOG names (on a worker it runs from the worker's cache). */
const COUNTED = `import { appendFileSync } from 'node:fs';
import { plugin as emit } from './plugins.mjs';
export const plugin = { ...emit, name: 'counted', async run(ctx) { appendFileSync(process.env.RETHINK_TEST_RUNS_LOG, ctx.stage.id + '\\n'); return emit.run(ctx); } };
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

/** A project whose plugin logs its runs to its runs.log. */
async function setup(): Promise<Project> {
  const p = await project(FILES);
  process.env.RETHINK_TEST_RUNS_LOG = join(p.dir, 'runs.log');
  return p;
}

/** Publishes the spec where `rethink exec --key` looks for it, and its plugin's code, as a coordinator does. */
async function publish(remote: string, spec: JobSpec): Promise<void> {
  const file = join(remote, ...jobSpecPathOf(spec.key).split('/'));
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, JSON.stringify(spec));
  assert.equal(await publishPluginCode(new DirRemote(remote), spec.plugin.baseDir, spec.plugin.uses), spec.plugin.code);
}

/** How the tests start a worker's `rethink exec`: it runs the test plugin, loaded from a path. */
const ALLOW = '--allow-plugin-code';

const runs = async (p: Project): Promise<string[]> => (await readFile(join(p.dir, 'runs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
const files = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
const recordOn = async (remote: string, key: string): Promise<RunRecord> => JSON.parse(await readFile(join(remote, ...runPathOf(key).split('/')), 'utf8')) as RunRecord;

test('exec --key runs the spec the remote holds: outputs then the record go up, and a downstream job on another cache reads them from there', async () => {
  const p = await setup();
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  await publish(remote, a);
  const r = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1', '--worker', 'w1', ALLOW);
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
  const rb = await p.cli('exec', '--key', b.key, '--remote', remote, '--cache-dir', 'node2', ALLOW);
  assert.equal(rb.code, EXEC_EXIT.ok, rb.stderr);
  const bOut = (JSON.parse(rb.stdout) as JobResult & { ok: true }).outputs.out!;
  const value = JSON.parse(await readFile(join(remote, 'objects', bOut.hash.slice(0, 2), bOut.hash.slice(2)), 'utf8')) as { value: number };
  assert.equal(value.value, 8);
  assert.deepEqual(await runs(p), ['a', 'b']);
});

test('a second exec of a key whose record is on the remote runs nothing and exits 0 (engines may start a job twice)', async () => {
  const p = await setup();
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  await publish(remote, a);
  const first = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1', ALLOW);
  assert.equal(first.code, EXEC_EXIT.ok, first.stderr);
  const again = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node2', ALLOW);
  assert.equal(again.code, EXEC_EXIT.ok, again.stderr);
  const result = JSON.parse(again.stdout) as JobResult & { ok: true };
  assert.equal(result.already, true);
  assert.deepEqual(result.outputs, (JSON.parse(first.stdout) as JobResult & { ok: true }).outputs);
  assert.match(again.stderr, /its result is already on .*; nothing ran/);
  assert.deepEqual(await runs(p), ['a'], 'the stage ran once');
});

test('a forged spec (its key is not its key record\'s hash) is refused with exit 3, and nothing reaches the remote', async () => {
  const p = await setup();
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  const forged = { ...a, key: `${a.key.slice(0, -1)}${a.key.endsWith('0') ? '1' : '0'}` as JobSpec['key'] };
  await publish(remote, forged);
  const r = await p.cli('exec', '--key', forged.key, '--remote', remote, '--cache-dir', 'node1', ALLOW);
  assert.equal(r.code, EXEC_EXIT.refused);
  assert.match(r.stderr, /error\[E_BAD_SPEC\]: job spec .*jobs\/[0-9a-f]{64}\/spec\.json: key: is not the hash of keyRecord/);
  // The result carries the diagnostic's hint too: whoever started the job shows only the message.
  const [message, hint] = r.stderr.split('\n');
  const told = `${message!.replace(/^error\[E_BAD_SPEC\]: /, '')}; ${hint!.replace(/^ {2}= /, '')}`;
  assert.deepEqual(JSON.parse(r.stdout), { ok: false, error: { name: 'JobRefused', message: told, userError: true, refused: true } });
  assert.deepEqual((await files(remote)).filter((f) => !f.startsWith('code/')), [jobSpecPathOf(forged.key)], 'nothing but the forged spec (and its code)');
  assert.deepEqual(await runs(p), []);

  // A key with no spec on the remote: refused, naming the path.
  const missing = await p.cli('exec', '--key', 'ab'.repeat(32), '--remote', remote, '--cache-dir', 'node1');
  assert.equal(missing.code, EXEC_EXIT.refused);
  assert.match(missing.stderr, new RegExp(`error\\[E_NO_SPEC\\]: there is no job spec at .*/remote/jobs/${'ab'.repeat(32)}/spec\\.json`));
});

test('a path plugin runs on a worker only with --allow-plugin-code or a spec signed by a trusted key, and its code comes from the remote by hash', async () => {
  const trusted = generateKeyPairSync('ed25519');
  const stranger = generateKeyPairSync('ed25519');
  const p = await project(FILES, { RETHINK_REMOTE_TRUSTED_KEYS: 'trusted.pub.pem' });
  process.env.RETHINK_TEST_RUNS_LOG = join(p.dir, 'runs.log');
  await p.write({ 'trusted.pub.pem': trusted.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  const remote = join(p.dir, 'remote');
  const [a, bad] = [await specOf(p, 'a'), await specOf(p, 'bad')];
  for (const spec of [a, bad]) await publish(remote, spec);

  const refused = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1');
  assert.equal(refused.code, EXEC_EXIT.refused);
  assert.match(refused.stderr, /error\[E_PLUGIN_CODE_REFUSED\]: stage a: plugin "\.\/counted\.mjs" is loaded from a path, and this machine runs only built-in plugins \(the spec is not signed by a trusted key: the spec is unsigned\)\n {2}= to run plugin code from the remote \(by its hash\), start this worker with --allow-plugin-code \(or RETHINK_ALLOW_PLUGIN_CODE=1\), or have the coordinator sign/);

  // Signed by the trusted key: it runs without the flag (and fails with its user error, exit 2).
  const sign = (spec: JobSpec, key: KeyObject) => writeFile(join(remote, ...jobSpecPathOf(spec.key).split('/')), JSON.stringify(signSpec(spec, { id: keyIdOf(key), key })));
  await sign(bad, trusted.privateKey);
  assert.equal((await p.cli('exec', '--key', bad.key, '--remote', remote, '--cache-dir', 'node1')).code, EXEC_EXIT.userError);
  // Signed by a key nobody trusts: refused, saying so.
  await sign(a, stranger.privateKey);
  const strange = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1');
  assert.equal(strange.code, EXEC_EXIT.refused);
  assert.match(strange.stderr, /the spec is signed by key [0-9a-f]{16}, which is not trusted/);
  assert.deepEqual(await runs(p), ['bad']);

  // With the flag the code comes from the remote, not from the project's files (broken now).
  await p.write({ 'plugins.mjs': 'throw new Error("not this code");\n' });
  const ran = await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1', ALLOW);
  assert.equal(ran.code, EXEC_EXIT.ok, ran.stderr);
  assert.deepEqual(await runs(p), ['bad', 'a']);
  assert.deepEqual((await readdir(join(p.dir, 'node1', 'code', a.plugin.code!))).sort(), ['.rethink-code.json', 'counted.mjs', 'plugins.mjs']);

  // Code on the remote that is not what the key names is refused, on a machine that has not fetched it yet.
  const bundleFile = join(remote, 'code', `${a.plugin.code}.json`);
  const bundle = JSON.parse(await readFile(bundleFile, 'utf8')) as { files: Record<string, string> };
  bundle.files['plugins.mjs'] = Buffer.from('export const plugin = { evil: true };\n').toString('base64');
  await writeFile(bundleFile, JSON.stringify(bundle));
  const tampered = await p.cli('exec', '--key', bad.key, '--remote', remote, '--cache-dir', 'node2', ALLOW);
  assert.equal(tampered.code, EXEC_EXIT.refused);
  assert.match(tampered.stderr, new RegExp(`error\\[E_PLUGIN_CODE\\]: stage bad: the plugin code .*/code/${a.plugin.code}\\.json is not the code the job's key names: it hashes to [0-9a-f]{64} here, not ${a.plugin.code}`));
  assert.deepEqual(await runs(p), ['bad', 'a']);
});

test("a stage's user error on a worker exits 2 and publishes nothing", async () => {
  const p = await setup();
  const remote = join(p.dir, 'remote');
  const bad = await specOf(p, 'bad');
  await publish(remote, bad);
  const r = await p.cli('exec', '--key', bad.key, '--remote', remote, '--cache-dir', 'node1', ALLOW);
  assert.equal(r.code, EXEC_EXIT.userError);
  assert.equal((JSON.parse(r.stdout) as JobResult & { ok: false }).error.userError, true);
  assert.ok(!(await files(remote)).some((f) => f.startsWith('objects/') || f.startsWith('runs/')));
});

test('exec --key against an S3 remote (s3rver): objects, then the record, in the bucket', async () => {
  const s3 = await s3Server(['team']);
  try {
    const p = await setup();
    const a = await specOf(p, 'a');
    await s3.put('team', `exp/${jobSpecPathOf(a.key)}`, JSON.stringify(a));
    await publishPluginCode(await openRemote('s3://team/exp', p.dir, '--remote'), p.dir, './counted.mjs');
    const r = await p.cli('exec', '--key', a.key, '--remote', 's3://team/exp', '--cache-dir', 'node1', ALLOW);
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
  const p = await setup();
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
    const r = await p.cli('exec', '--spec', 'a.json', '--remote', 's3://team/exp', '--cache-dir', 'node1', ALLOW);
    assert.equal(r.code, EXEC_EXIT.refused, r.stderr);
    assert.match(r.stderr, /error\[E_REMOTE_UNREACHABLE\]: the remote s3:\/\/team\/exp cannot be reached: .*\n {2}= check --remote \(or RETHINK_REMOTE\), the network, and the credentials/);
    assert.deepEqual(await runs(p), []);
  } finally {
    process.env = saved;
  }
});

test('gc --remote deletes the job folders and checkpoints of finished jobs, and of jobs abandoned a week ago; not those of running ones', async () => {
  const p = await setup();
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  await publish(remote, a);
  assert.equal((await p.cli('exec', '--key', a.key, '--remote', remote, '--cache-dir', 'node1', ALLOW)).code, EXEC_EXIT.ok);
  const running = 'ab'.repeat(32);
  const abandoned = 'cd'.repeat(32);
  const write = async (path: string, mtime?: Date) => {
    const file = join(remote, ...path.split('/'));
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, '{}');
    if (mtime) await utimes(file, mtime, mtime);
  };
  const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  await write(`checkpoints/${a.key}/train.safetensors`); // left behind by a finished job
  await write(`jobs/${running}/spec.json`);
  await write(`checkpoints/${running}/train.safetensors`);
  await write(`jobs/${abandoned}/spec.json`, old);
  await write(`checkpoints/${abandoned}/train.safetensors`, old);
  const gc = await p.cli('gc', 'p.yaml', '--remote', remote);
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /, and 2 job folders and 2 checkpoint folders of jobs finished or abandoned a week ago/);
  const left = (await files(remote)).filter((f) => f.startsWith('jobs/') || f.startsWith('checkpoints/'));
  assert.deepEqual(left, [`checkpoints/${running}/train.safetensors`, `jobs/${running}/spec.json`]);
});

test('exec --serve runs jobs sent over IPC one after another in one process, and exits when the channel closes', async () => {
  const p = await setup();
  const remote = join(p.dir, 'remote');
  const a = await specOf(p, 'a');
  const bad = await specOf(p, 'bad');
  const forged = { ...a, key: 'cd'.repeat(32) };
  await publishPluginCode(new DirRemote(remote), p.dir, './counted.mjs');
  const child = fork(compiledBin(), ['exec', '--serve', '--remote', remote, '--cache-dir', join(p.dir, 'node1'), ALLOW], { cwd: p.dir, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
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
  // A failed assertion must not leave the child (and this test process) running.
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
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
