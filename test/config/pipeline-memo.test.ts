// A pipeline text validated once is not validated again (config/pipeline-file.ts): what the schema
// made of it is remembered under the user's cache directory (util/file-memo.ts). Each check runs in
// a fresh process, as a rerun does; whether ajv's validator ran shows in the validators' cache: a
// validator that runs is first compiled into RETHINK_VALIDATOR_CACHE when that directory is empty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/temp.js';

const pipelineFile = fileURLToPath(new URL('../../src/config/pipeline-file.js', import.meta.url));

const TEXT = `name: memo
vars: { lr: 0.01 }
stages:
  a: { uses: ./plugins.mjs, with: { value: 1 } }
  b: { uses: ./plugins.mjs, inputs: { x: a }, matrix: { s: [1, 2] } }
`;

/** parsePipeline in a fresh process: its result (less the source) and how many validators it compiled. */
function parseFresh(home: string, text: string, sets: readonly string[] = []): { file: unknown; compiled: number; error?: string } {
  const validators = join(home, `validators-${Math.random().toString(36).slice(2)}`);
  const script = `
    const { parsePipeline } = await import(${JSON.stringify(pipelineFile)});
    try {
      const { source: _source, ...file } = parsePipeline('p.yaml', ${JSON.stringify(text)}, ${JSON.stringify(sets)});
      process.stdout.write(JSON.stringify({ file }));
    } catch (e) {
      process.stdout.write(JSON.stringify({ error: e.message }));
    }
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: home, RETHINK_VALIDATOR_CACHE: validators } });
  assert.equal(r.status, 0, r.stderr);
  let compiled = 0;
  try {
    compiled = readdirSync(validators).filter((f) => f.endsWith('.cjs')).length;
  } catch {
    // never made: nothing was compiled
  }
  return { ...(JSON.parse(r.stdout) as { file: unknown; error?: string }), compiled };
}

test('a pipeline text validated before is read again without running the validator, to the same result', async () => {
  const home = await tempDir('rethink-pipeline-memo-');
  const first = parseFresh(home, TEXT);
  assert.equal(first.error, undefined);
  assert.equal(first.compiled, 1, 'the first read validates');
  const again = parseFresh(home, TEXT);
  assert.equal(again.compiled, 0, 'the second read did not run the validator');
  assert.deepEqual(again.file, first.file);
  // Another text is validated: the memo is per text.
  assert.equal(parseFresh(home, TEXT.replace('lr: 0.01', 'lr: 0.02')).compiled, 1);
});

test('with --set, or for an invalid text, the validator runs every time', async () => {
  const home = await tempDir('rethink-pipeline-memo-');
  parseFresh(home, TEXT);
  const set = parseFresh(home, TEXT, ['vars.lr=0.5']);
  assert.equal(set.compiled, 1, '--set edits the values the text gave: they are validated');
  assert.deepEqual((set.file as { vars: unknown }).vars, { lr: 0.5 });
  const bad = TEXT.replace('with:', 'wiht:');
  for (let i = 0; i < 2; i++) {
    const r = parseFresh(home, bad);
    assert.match(r.error ?? '', /wiht/);
    assert.equal(r.compiled, 1);
  }
});
