// The shared remote cache, end to end through the CLI: two "machines" (two projects with their own
// local caches) share results through one bucket on a real S3-protocol server on loopback, or
// through a shared directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { compiledBin, project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { s3Server } from '../support/s3.js';

const FILES = { 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP };
const TRAINS = ['train[p=0,seed=1]', 'train[p=0,seed=2]', 'train[p=0.5,seed=1]', 'train[p=0.5,seed=2]'];

async function localObjects(dir: string): Promise<string[]> {
  const root = join(dir, 'cache', 'objects');
  const out: string[] = [];
  for (const a of await readdir(root).catch(() => [])) for (const b of await readdir(join(root, a))) out.push(a + b);
  return out.sort();
}

const aggregateValue = async (p: Awaited<ReturnType<typeof project>>, ...flags: string[]) =>
  (JSON.parse((await p.cli('show', 'aggregate', 'p.yaml', '--json', ...flags)).stdout) as { outputs: { out: { value: { value: number } } } }).outputs.out.value.value;

test('two machines share results through one S3 bucket; a hit downloads only what a stage reads', async () => {
  const s3 = await s3Server(['team']);
  try {
    const alice = await project(FILES);
    const bob = await project(FILES);
    const remote = ['--remote', 's3://team/exp1'];

    const first = await alice.run('p.yaml', ...remote);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.doc.stages.every((s) => s.status === 'ran'));
    // 8 results, 5 distinct objects: corrupt[p=0] outputs what download does, the two seeds of a
    // train agree (the test plugin ignores its seed).
    assert.deepEqual({ ...first.doc.remote!.pushed, bytes: 0 }, { records: 8, objects: 5, bytes: 0 });
    assert.deepEqual(first.doc.remote!.pulled, { records: 0, objects: 0, bytes: 0 });
    const keys = await s3.keys('team');
    const runs = keys.filter((k) => k.startsWith('exp1/runs/'));
    const objects = keys.filter((k) => k.startsWith('exp1/objects/'));
    assert.deepEqual(runs.map((k) => k.slice('exp1/runs/'.length).replace('/', '').replace('.json', '')).sort(), first.doc.stages.map((s) => s.key!).sort());
    assert.deepEqual(objects.map((k) => k.slice('exp1/objects/'.length).replace('/', '')), await localObjects(alice.dir));

    // Bob has nothing locally: every stage is a remote hit, and nothing is downloaded, because no
    // stage ran to read an input.
    const st = await bob.cli('status', 'p.yaml', ...remote);
    assert.match(st.stdout, /8 up to date \(8 on the remote\), 0 will run/);
    const second = await bob.run('p.yaml', ...remote);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(second.doc.stages.every((s) => s.status === 'cached' && s.remote === true), JSON.stringify(second.doc.stages));
    assert.deepEqual(second.doc.remote!.pulled, { records: 8, objects: 0, bytes: 0 });
    assert.deepEqual(second.doc.remote!.pushed, { records: 0, objects: 0, bytes: 0 });
    assert.deepEqual(await localObjects(bob.dir), []);

    // A changed leaf reruns on Bob's machine: it reads the four train outputs (two distinct objects),
    // which come down verified; the new result goes up.
    const leaf = await bob.run('p.yaml', ...remote, '--set', 'aggregate.with.value=1');
    assert.equal(leaf.code, 0, leaf.stderr);
    assert.deepEqual(Object.entries(leaf.status).filter(([, s]) => s === 'ran').map(([id]) => id), ['aggregate']);
    assert.equal(leaf.doc.remote!.pulled.objects, 2);
    assert.equal(leaf.doc.remote!.pushed.records, 1);
    assert.equal(await aggregateValue(bob, '--set', 'aggregate.with.value=1'), 46);
    // The trains' outputs are local now, so their records were kept: without the remote, only the
    // stages never downloaded rerun, and their identical outputs leave the trains cached (early cutoff).
    const offline = await bob.run('p.yaml', '--set', 'aggregate.with.value=1');
    assert.deepEqual(Object.entries(offline.status).filter(([, s]) => s === 'ran').map(([id]) => id), ['download', 'corrupt[p=0]', 'corrupt[p=0.5]']);
    for (const id of [...TRAINS, 'aggregate']) assert.equal(offline.status[id], 'cached', id);

    // Alice picks Bob's result up.
    const back = await alice.run('p.yaml', ...remote, '--set', 'aggregate.with.value=1');
    assert.equal(back.status['aggregate'], 'cached');
    assert.equal(back.doc.stages.find((s) => s.id === 'aggregate')!.remote, true);
    assert.equal(await aggregateValue(alice, '--set', 'aggregate.with.value=1', ...remote), 46);
  } finally {
    await s3.close();
  }
});

test('an object whose bytes do not match its hash is refused, nothing of it is kept, and its producers recompute it', async () => {
  const s3 = await s3Server(['team']);
  try {
    const alice = await project(FILES);
    const bob = await project(FILES);
    const first = await alice.run('p.yaml', '--remote', 's3://team');
    const trainHash = first.doc.stages.find((s) => s.id === 'train[p=0,seed=1]')!.outputs['out']!;
    await s3.put('team', `objects/${trainHash.slice(0, 2)}/${trainHash.slice(2)}`, '{"value": 666}');

    const r = await bob.run('p.yaml', '--remote', 's3://team', '--set', 'aggregate.with.value=1');
    // A miss, not a failure: both results naming the object (the seeds agree) are computed again.
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.status['aggregate'], 'ran');
    assert.equal(r.status['train[p=0,seed=1]'], 'ran');
    assert.equal(r.status['train[p=0,seed=2]'], 'ran');
    assert.match(r.stderr, new RegExp(`warning: remote object ${trainHash} was corrupt \\(the remote's copy s3://team/objects/${trainHash.slice(0, 2)}/${trainHash.slice(2)} hashes to [0-9a-f]{12}…\\)`));
    assert.equal(await aggregateValue(bob, '--remote', 's3://team', '--set', 'aggregate.with.value=1'), 46);
    // The bad bytes were never stored: the local copy is the recomputed one.
    const local = join(bob.dir, 'cache', 'objects', trainHash.slice(0, 2), trainHash.slice(2));
    assert.equal(createHash('sha256').update(await readFile(local)).digest('hex'), trainHash);
    assert.deepEqual(await readdir(join(bob.dir, 'cache', 'tmp')).then((f) => f.filter((n) => n.startsWith('obj-'))), []);
  } finally {
    await s3.close();
  }
});

test('an unreachable remote never fails a run: it runs on the local cache and says why', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_MAX_ATTEMPTS: '1' });
  try {
    const p = await project(FILES);
    const r = await p.run('p.yaml', '--remote', 's3://team/x');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.doc.stages.every((s) => s.status === 'ran'));
    assert.match(r.doc.remote!.error!, new RegExp(`s3://team/x/runs/[0-9a-f]{2}/[0-9a-f]{62}\\.json failed: .*ECONNREFUSED`));
    const plain = await p.cli('run', 'p.yaml', '--remote', 's3://team/x', '--set', 'aggregate.with.value=2');
    assert.equal(plain.code, 0);
    assert.match(plain.stderr, /remote FAILED, went on with the local cache alone: GET s3:\/\/team\/x\/runs\/.*ECONNREFUSED/);
  } finally {
    process.env = saved;
  }
});

test('--remote-read-only uploads nothing; push uploads afterwards; pull brings everything down for offline runs', async () => {
  const s3 = await s3Server(['team']);
  try {
    const alice = await project(FILES);
    const ro = await alice.run('p.yaml', '--remote', 's3://team/ro', '--remote-read-only');
    assert.equal(ro.code, 0, ro.stderr);
    assert.deepEqual(await s3.keys('team'), []);

    const push = await alice.cli('push', 'p.yaml', '--remote', 's3://team/ro', '--json');
    assert.equal(push.code, 0, push.stderr);
    const pushed = JSON.parse(push.stdout) as { uploaded: string[]; 'already-on-remote': string[]; remote: { pushed: { records: number; objects: number } } };
    assert.equal(pushed.uploaded.length, 8);
    assert.deepEqual(pushed.remote.pushed.objects, 5);
    const again = await alice.cli('push', 'p.yaml', '--remote', 's3://team/ro');
    assert.match(again.stdout, /pushed 0 results to s3:\/\/team\/ro; 8 already there/);

    const bob = await project(FILES);
    const pull = await bob.cli('pull', 'p.yaml', '--remote', 's3://team/ro', '--only', 'train[p=0.5,*]');
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /pulled 2 results from s3:\/\/team\/ro; 0 already local/);
    const all = await bob.cli('pull', 'p.yaml', '--remote', 's3://team/ro');
    assert.match(all.stdout, /pulled 6 results from s3:\/\/team\/ro; 2 already local/);
    assert.deepEqual(await localObjects(bob.dir), await localObjects(alice.dir));
    const offline = await bob.run('p.yaml');
    assert.ok(offline.doc.stages.every((s) => s.status === 'cached' && !s.remote), JSON.stringify(offline.doc.stages));
    assert.equal(await aggregateValue(bob), 45);
  } finally {
    await s3.close();
  }
});

test('a shared directory works as a remote too, named by RETHINK_REMOTE', async () => {
  const shared = await project({});
  const alice = await project(FILES, { RETHINK_REMOTE: join(shared.dir, 'bucket') });
  const bob = await project(FILES, { RETHINK_REMOTE: `file://${join(shared.dir, 'bucket')}` });
  const first = await alice.run('p.yaml');
  assert.equal(first.doc.remote!.pushed.records, 8);
  const second = await bob.run('p.yaml', '--set', 'aggregate.with.value=3');
  assert.deepEqual(Object.entries(second.status).filter(([, s]) => s === 'ran').map(([id]) => id), ['aggregate']);
  assert.equal(second.doc.remote!.pulled.records, 7);
  assert.equal(await aggregateValue(bob, '--set', 'aggregate.with.value=3'), 48);
  // The trains' and the aggregate's outputs are on Bob's machine now; download and corrupt are not.
  const plain = await bob.cli('run', 'p.yaml', '--set', 'aggregate.with.value=3');
  assert.match(plain.stderr, /^\S+Z {3}cached {2}download \(from the remote\) {2}\[\d\/8\]$/m);
  assert.match(plain.stderr, /^\S+Z {3}cached {2}train\[p=0,seed=1\] {2}\[\d\/8\]$/m);
  assert.match(plain.stderr, /^\S+Z done: 0 ran, 8 cached \(3 from the remote\) in /m);
  assert.match(plain.stderr, new RegExp(`^remote ${join(shared.dir, 'bucket')}: found 3 results, 0 objects \\(0\\.0 kB\\); uploaded 0 results, 0 objects`, 'm'));
  // Nothing of a transfer is left behind in the shared directory.
  assert.deepEqual(await readdir(join(shared.dir, 'bucket', 'tmp')), []);
});

test('bad remotes are user errors (exit 2) that say what would be valid', async () => {
  const p = await project(FILES);
  const ftp = await p.cli('run', 'p.yaml', '--remote', 'ftp://host/x');
  assert.equal(ftp.code, 2);
  assert.match(ftp.stderr, /--remote "ftp:\/\/host\/x": unsupported scheme/);
  assert.match(ftp.stderr, /s3:\/\/bucket\[\/prefix\]/);
  const bucket = await p.cli('status', 'p.yaml', '--remote', 's3://A_b/x');
  assert.equal(bucket.code, 2);
  assert.match(bucket.stderr, /--remote "s3:\/\/A_b\/x" is not a valid S3 location/);
  const push = await p.cli('push', 'p.yaml');
  assert.equal(push.code, 2);
  assert.match(push.stderr, /rethink push needs a remote/);
});

test('a no-op rerun with an S3 remote configured touches the remote not at all and loads no SDK', async () => {
  const p = await project(FILES);
  assert.equal((await p.run('p.yaml')).code, 0);
  const cli = join(compiledBin(), '..', 'cli.js');
  const script = `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(cli)});
    let out = '';
    const io = { stdout(t) { out += t; }, stderr(t) { process.stderr.write(t); }, isTTY: false, cwd: ${JSON.stringify(p.dir)},
      env: { RETHINK_CACHE_DIR: ${JSON.stringify(join(p.dir, 'cache'))}, RETHINK_REMOTE: 's3://team/x' } };
    if ((await main(['run', 'p.yaml', '--json'], io)) !== 0) process.exit(3);
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('@aws-sdk'));
    console.log(JSON.stringify({ remote: JSON.parse(out).remote, loaded: loaded.length }));
  `;
  // No endpoint and no credentials: any remote call would fail and show as an error.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: p.dir, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    remote: { url: 's3://team/x', readOnly: false, pulled: { records: 0, objects: 0, bytes: 0 }, pushed: { records: 0, objects: 0, bytes: 0 } },
    loaded: 0,
  });
});

test('gc --remote keeps the named pipelines’ current results and deletes the rest once past the grace period', async () => {
  const shared = await project({});
  const bucket = join(shared.dir, 'bucket');
  const alice = await project(FILES);
  assert.equal((await alice.run('p.yaml', '--remote', bucket)).code, 0);
  assert.equal((await alice.run('p.yaml', '--remote', bucket, '--set', 'aggregate.with.value=3')).doc.remote!.pushed.records, 1);

  const fresh = await alice.cli('gc', '--remote', bucket, 'p.yaml', '--json');
  assert.equal((JSON.parse(fresh.stdout) as { deletedRuns: number }).deletedRuns, 0, 'all of it is within the hour of grace');
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const e of await readdir(bucket, { recursive: true, withFileTypes: true })) if (e.isFile()) await utimes(join(e.parentPath, e.name), old, old);

  const dry = await alice.cli('gc', '--remote', bucket, 'p.yaml', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, new RegExp(`^gc ${bucket}: keeping 8 results and \\d+ objects \\([\\d.]+ kB\\); would delete 1 results and 1 objects`));
  const real = await alice.cli('gc', '--remote', bucket, 'p.yaml', '--json');
  assert.deepEqual(
    (({ keptRuns, deletedRuns, deletedObjects }) => ({ keptRuns, deletedRuns, deletedObjects }))(JSON.parse(real.stdout) as Record<string, number>),
    { keptRuns: 8, deletedRuns: 1, deletedObjects: 1 },
  );
  // Another machine still finds every current result; the other aggregate is gone from the remote.
  const bob = await project(FILES);
  const hits = await bob.run('p.yaml', '--remote', bucket);
  assert.deepEqual(new Set(Object.values(hits.status)), new Set(['cached']));
  const other = await bob.run('p.yaml', '--remote', bucket, '--set', 'aggregate.with.value=3');
  assert.equal(other.status.aggregate, 'ran');
  assert.deepEqual((await readdir(join(alice.dir, 'cache', 'runs'), { recursive: true })).filter((f) => f.endsWith('.json')).length, 9, 'the local cache is not touched');

  const bare = await alice.cli('gc', '--remote', bucket);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /rethink gc --remote needs the pipelines whose results to keep/);
});

test('with trusted keys, a machine takes from the remote only results signed by them: CI signs, a key-less writer cannot poison', async () => {
  const shared = await project({});
  const bucket = join(shared.dir, 'bucket');
  const keys = join(shared.dir, 'keys');
  await mkdir(keys);
  for (const who of ['ci', 'mallory']) {
    const pair = generateKeyPairSync('ed25519');
    await writeFile(join(keys, `${who}.pem`), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(keys, `${who}.pub.pem`), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const env = (signing: string | null) => ({
    RETHINK_REMOTE: bucket,
    RETHINK_REMOTE_TRUSTED_KEYS: join(keys, 'ci.pub.pem'),
    ...(signing ? { RETHINK_REMOTE_SIGNING_KEY: join(keys, signing) } : {}),
  });
  const ci = await project(FILES, env('ci.pem'));
  const mallory = await project(FILES, { RETHINK_REMOTE: bucket, RETHINK_REMOTE_SIGNING_KEY: join(keys, 'mallory.pem') });
  const dev = await project(FILES, env(null));
  assert.equal((await ci.run('p.yaml')).doc.remote!.pushed.records, 8);
  // Mallory publishes a result CI never made, and rewrites one CI made to name other objects.
  assert.equal((await mallory.run('p.yaml', '--set', 'aggregate.with.value=3')).doc.remote!.pushed.records, 1);
  const { readFile: read } = await import('node:fs/promises');
  const agg = (await ci.run('p.yaml')).doc.stages.find((s) => s.id === 'aggregate')!.key!;
  const recordFile = join(bucket, 'runs', agg.slice(0, 2), `${agg.slice(2)}.json`);
  const forged = JSON.parse(await read(recordFile, 'utf8')) as { outputs: { out: { hash: string } } };
  const train = (await ci.run('p.yaml')).doc.stages.find((s) => s.id === 'train[p=0,seed=1]')!.outputs['out']!;
  forged.outputs.out.hash = train; // an object that exists, with the wrong content for this key
  await writeFile(recordFile, JSON.stringify(forged));

  const first = await dev.run('p.yaml');
  assert.equal(first.status['train[p=0,seed=1]'], 'cached', 'CI’s signed results are hits');
  assert.equal(first.status.aggregate, 'ran', 'the forged record is passed over');
  assert.equal(await aggregateValue(dev), 45);
  assert.equal(first.doc.remote!.untrusted!.records, 1);
  assert.match(first.doc.remote!.untrusted!.first, /does not match its content$/);
  const second = await dev.cli('run', 'p.yaml', '--set', 'aggregate.with.value=3');
  assert.match(second.stderr, /^\S+Z {3}ran {5}aggregate/m);
  assert.match(second.stderr, /\nremote: passed over 1 result no trusted key signed \(the first: runs\/[0-9a-f]{2}\/[0-9a-f]{62}\.json: signed by key [0-9a-f]{16}, which is not trusted\)\n/);
  const pulled = await (await project(FILES, env(null))).cli('pull', 'p.yaml', '--set', 'aggregate.with.value=3');
  assert.match(pulled.stdout, /^pulled 7 results from /);
  assert.match(pulled.stderr, /^passed over 1 result no trusted key signed \(the first: runs\/.*which is not trusted\)$/m);
  // Without trusted keys configured, anything on the remote is taken (the forged record included).
  const status = await (await project(FILES, env(null))).cli('status', 'p.yaml', '--set', 'aggregate.with.value=3');
  assert.match(status.stderr, /^remote: passed over 1 result no trusted key signed/m);
  const open = await project(FILES, { RETHINK_REMOTE: bucket });
  assert.equal((await open.run('p.yaml', '--set', 'aggregate.with.value=3')).status.aggregate, 'cached');
  // CI's next run replaces the forged record with its own signed one.
  const ciAgain = await project(FILES, env('ci.pem'));
  assert.equal((await ciAgain.run('p.yaml')).status.aggregate, 'ran');
  assert.equal((await (await project(FILES, env(null))).run('p.yaml')).status.aggregate, 'cached');

  const broken = await project(FILES, { RETHINK_REMOTE: bucket, RETHINK_REMOTE_TRUSTED_KEYS: join(keys, 'nope.pem') });
  const refused = await broken.cli('status', 'p.yaml');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /RETHINK_REMOTE_TRUSTED_KEYS: cannot read ".*nope\.pem" \(ENOENT\)/);
});
