// The package as a user gets it: `npm pack`, the tarball installed into a new project (npm's cache
// from `npm ci` first: --prefer-offline), then `npx rethink doctor --json` and a few training steps,
// which must run on the native backend. Slow (an npm install): only where RETHINK_PACKED_TARBALL_TEST=1
// (CI sets it); under RETHINK_REQUIRE_SERVICES=1 (CI) a test that cannot run is a failure, not a skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin } from '../support/tmp-project.js';
import { tempDir } from '../support/temp.js';

const root = join(compiledBin(), '..', '..', '..', '..');

/** Why the test cannot run here, or false; throws where CI requires it to run. */
function cannotRun(): string | false {
  let why: string | false = false;
  if (process.env['RETHINK_PACKED_TARBALL_TEST'] !== '1') why = 'installs the packed tarball with npm (a minute or two): set RETHINK_PACKED_TARBALL_TEST=1 to run it';
  else if (spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0) why = 'npm is not on PATH';
  if (why !== false && process.env['RETHINK_REQUIRE_SERVICES'] === '1') throw new Error(`RETHINK_REQUIRE_SERVICES=1 but the packed-tarball test ${why}`);
  return why;
}

const TINY = `# a few steps of an MLP on 100 Fashion-MNIST images: enough to show which backend trains
seed: 0
stages:
  fashion: { uses: fashion-mnist }
  small:
    uses: subset
    with: { train: { per_class: 10 }, test: { per_class: 5 } }
    inputs: { dataset: fashion }
  train:
    uses: train
    with: { model: mlp_1x512, epochs: 1, max_steps: 3, batch_size: 32, lr: 0.05 }
    inputs: { data: small.dataset }
`;

test('the packed tarball installs into a new project, where doctor finds native and a tiny run trains on it', { skip: cannotRun(), timeout: 600_000 }, async (t) => {
  // Each step's time goes to the test's diagnostics: where the minutes went, if CI finds it slow.
  const sh = (cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> => {
    const started = performance.now();
    const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    t.diagnostic(`${cmd} ${args.slice(0, 3).join(' ')}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return r;
  };
  const out = await tempDir('rethink-pack-');
  // The build is npm test's (pretest): pack what is there rather than building again.
  const pack = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', out], root);
  assert.equal(pack.status, 0, pack.stderr);
  const tarball = join(out, (await readdir(out)).find((f) => f.endsWith('.tgz'))!);
  assert.match(tarball, /rethink-ml-\d+\.\d+\.\d+\.tgz$/);

  const dir = await tempDir('rethink-user-');
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }, null, 2)}\n`);
  // The README's install line: onnxruntime-node's script would download CUDA providers (no network
  // beyond the npm registry here); the native backend needs only the CPU library in its package.
  const install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
  assert.equal(install.status, 0, install.stdout + install.stderr);
  assert.doesNotMatch(install.stderr, /Unknown (project|user|env) config/);

  const doctor = sh('npx', ['--no', 'rethink', 'doctor', '--json'], dir);
  const report = JSON.parse(doctor.stdout) as { format: number; ok: boolean; rethink: { package: string }; backend: { default: string }; backends: { name: string; loads: boolean }[] };
  assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
  assert.equal(report.format, 1);
  assert.equal(report.rethink.package, 'rethink-ml');
  assert.equal(report.backend.default, 'native');
  assert.equal(report.backends.find((b) => b.name === 'native')?.loads, true);

  await writeFile(join(dir, 'tiny.yaml'), TINY);
  const run = sh('npx', ['--no', 'rethink', 'run', 'tiny.yaml'], dir);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stderr, /falls back from the native backend/);
  const show = sh('npx', ['--no', 'rethink', 'show', 'train', 'tiny.yaml', '--json'], dir);
  assert.equal(show.status, 0, show.stderr);
  const shown = JSON.parse(show.stdout) as { provenance: { backend: { name: string } } };
  assert.equal(shown.provenance.backend.name, 'native');
});
