// The shipped pipelines: every one validates, and the Figure 1 pipeline runs end to end in miniature
// (3 images a class, 3 epochs) into a report with its three figures and its table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/cli.js';
import { compiledBin } from './support/tmp-project.js';

const root = join(compiledBin(), '..', '..', '..', '..');

async function cli(cache: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, cwd: root, env: { RETHINK_CACHE_DIR: cache } });
  return { code, stdout, stderr };
}

test('every pipeline in pipelines/ validates', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'rethink-pipelines-'));
  const files = (await readdir(join(root, 'pipelines'))).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 3, files.join());
  for (const f of files) {
    const r = await cli(cache, 'validate', `pipelines/${f}`);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
  }
});

test('pipelines/figure1.yaml runs in miniature into a report with three figures and a table', async () => {
  const cache = await mkdtemp(join(tmpdir(), 'rethink-figure1-'));
  const out = await mkdtemp(join(tmpdir(), 'rethink-figure1-out-'));
  const tiny = ['--set', 'vars.per_class=3', '--set', 'vars.max_epochs=3'];
  const r = await cli(cache, 'run', 'pipelines/figure1.yaml', '--json', ...tiny);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { stages: { id: string; status: string }[] };
  assert.equal(doc.stages.length, 29);
  assert.ok(doc.stages.every((s) => s.status === 'ran'));
  const ex = await cli(cache, 'export', 'report', 'pipelines/figure1.yaml', '--to', out, ...tiny);
  assert.equal(ex.code, 0, ex.stderr);
  const html = await readFile(join(out, 'report', 'html.html'), 'utf8');
  assert.equal(html.split('<figure><svg').length - 1, 3);
  for (const kind of ['none', 'random_labels', 'shuffled_pixels', 'random_pixels', 'gaussian']) assert.ok(html.includes(`>${kind}<`), kind);
  const md = await readFile(join(out, 'report', 'markdown.md'), 'utf8');
  assert.match(md, /\| p \| final\.train\.acc \| final\.test\.acc \| total_steps \| stopped_by \|/);
  assert.equal(md.match(/^\| (0|0\.200|0\.400|0\.600|0\.800|1) \|/gm)?.length, 6);
  assert.match(md, /- Figure 1b: convergence slowdown \(from `fig1b`\)/);
});
