import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { fastYamlValue } from '../../src/config/fast-yaml.js';
import { parsePipeline } from '../../src/config/pipeline-file.js';
import { UserError } from '../../src/util/user-error.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// The values the fast path reads are remembered under the user's cache directory (file-memo.ts):
// this file's thousands of texts go to a directory of its own, made empty, so that each is read by
// js-yaml first (the memo's answers are checked in a test of their own below).
const memoHome = mkdtempSync(join(tmpdir(), 'rethink-fast-yaml-'));
process.env['XDG_CACHE_HOME'] = memoHome;
process.on('exit', () => rmSync(memoHome, { recursive: true, force: true }));

/** What the full path reads: the `yaml` Document's values, or undefined when it reports an error. */
function slowValue(text: string): { readonly value: unknown } | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  return doc.errors.length > 0 ? undefined : { value: doc.toJS({ maxAliasCount: -1 }) };
}

/** Asserts that the fast path either declines `text` or reads exactly the full path's values; true when it read them. */
function agrees(text: string): boolean {
  const fast = fastYamlValue(text);
  if (fast === undefined) return false;
  const slow = slowValue(text);
  assert.ok(slow !== undefined, `the fast path read a document the full path rejects:\n${text}`);
  assert.deepStrictEqual(fast.value, slow.value, text);
  return true;
}

/** Scalars in every spelling the core schema distinguishes, plain and quoted, in block and flow style. */
const SCALARS = [
  '1', '-1', '+1', '0', '-0', '007', '1.0', '1.', '.5', '-.5', '+.5', '1e3', '1e-3', '1E+3', '.5e2', '1.5e', 'e3',
  '0x10', '0x1F', '0X10', '0o17', '0o8', '017', '0b101', '1_000', '1_000.5', '12345678901234567890', '0x', '1e400',
  '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN', '-.nan', 'inf', 'nan', 'Infinity', 'NaN',
  '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off', 'y', 'n',
  '2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30:00', '1:20', '<<', '=', 'a b', 'a  b', "it's", 'a#b', 'a # comment',
  '"1"', "'1'", '"~"', "'null'", '"true"', '"\\x41\\u00e9\\U0001F600\\n\\t\\\\\\"\\/\\_\\N\\L\\P\\0\\a\\b\\e\\v\\f\\r\\ "', "'it''s'", '""', "''",
  '-', '--', '...', '"big[*]"', 'big[c=0]', "'${vars.x}'", '"${matrix.a}"', './noop.mjs', 'a:b', 'http://x.org/a?b=c&d#e',
];

test('every core-schema scalar spelling reads as the yaml package reads it', () => {
  let read = 0;
  for (const s of SCALARS) {
    for (const text of [`v: ${s}\n`, `v: [${s}]\n`, `v: { k: ${s} }\n`, `- ${s}\n`, `${s}: v\n`]) {
      if (agrees(text)) read++;
    }
  }
  assert.ok(read > SCALARS.length * 3, `the fast path read only ${read} documents`);
});

/** Structures and scalar styles the two parsers must read alike. */
const DOCUMENTS = [
  'a: 1\nb:\n  c: [1, 2, {d: e}]\n  f:\n  - g\n  - h: i\n    j: k\n',
  'a:\n- 1\n- 2\nb: 3\n',
  'a:\n  - - 1\n    - 2\n  - []\n  - {}\n',
  'empty:\nnull_value: ~\nlist: [ ]\nmap: { }\n',
  '---\na: 1\n',
  '---\na: 1\n...\n',
  '# only a comment\na: 1 # trailing\n# end\n',
  'a: |\n  line 1\n  line 2\n\n',
  'a: |-\n  line 1\n  line 2\n\n',
  'a: |+\n  line 1\n  line 2\n\n',
  'a: >\n  folded\n  text\n\n  new para\n    indented\n  back\n',
  'a: >-\n  folded\n  text\n',
  'a: |2\n    indented by two more\n  b\n',
  'a: plain\n  continued\n  on lines\nb: next\n',
  'a: "double\n  quoted\n\n  lines"\n',
  "a: 'single\n  quoted\n\n  lines'\n",
  'a: "line \\\n  joined"\n',
  'a: [1,\n  2,\n  3]\nb: {x: 1,\n  y: 2}\n',
  'a: {x: , y: ~}\n',
  'a: [a b, "c, d", \'e]\']\n',
  '"quoted key": 1\n\'single key\': 2\n"": 3\n',
  'ключ: значение\n"\\u00e9": 1\némoji: "😀"\n',
  '\ufeffa: 1\n',
  'a: 1\r\nb:\r\n  - x\r\n  - y\r\n',
  'a: b: c\n',
  'a:\n  b: 1\n c: 2\n',
  'a: [1, 2\n',
  'a: "unterminated\n',
  'a: 1\na: 2\n',
  'a: {x: 1, x: 2}\n',
  '1: a\n"1": b\n',
  '0x10: a\n16: b\n',
  '- a\nb: c\n',
  'a: 1\n---\nb: 2\n',
  '',
  '# nothing\n',
  '[1, 2]\n',
  'plain scalar\n',
  'a: &x 1\nb: *x\n',
  'a: &x [1, 2]\nb: *x\n',
  'a: *x\n',
  'a: !!str 1\n',
  'a: !!int "1"\n',
  'a: !custom x\n',
  'a: ! 1\n',
  'a: !<tag:yaml.org,2002:str> 1\n',
  '%YAML 1.1\n---\na: yes\n',
  '%TAG ! tag:example.com,2000:\n---\na: 1\n',
  '? a\n: 1\n',
  '? [a, b]\n: 1\n',
  '[a, b]: 1\n',
  '{a: 1}: 2\n',
  '[a]: 1\n',
  '~: a\n',
  'null: a\n',
  ': a\n',
  '__proto__: {a: 1}\n',
  'a: {__proto__: 1}\n',
  '<<: {a: 1}\nb: 2\n',
  'a:\n\tb: 1\n',
  'a: "\tb"\n',
  `${'k'.repeat(1100)}: 1\n`,
  `a: "${'v'.repeat(1100)}"\n`,
  'a: b\n  - c\n',
  'a: - b\n',
  'a: [b]c\n',
  'a: "b"c\n',
  'a: @b\n',
  'a: `b\n',
  'a: %b\n',
  'a:b: c\n',
  'a : 1\nb  :   2\n',
  'a: -1\nb: - 1\n',
  '- a:\n  b: 1\n',
  '-\n  a: 1\n-   b: 2\n',
  'a: # comment\n  b\n',
  'a: b #c\n#d\n  e: f\n',
  'a: [a#b, c #d\n  ]\n',
  'a: {b: [c, {d: [e]}]}\n',
  'a: "\\q"\n',
  'a: \'\\q\'\n',
  'a: "\\x4"\n',
  'a:    \n  - 1\n',
  'a: 1 \nb: 2\t\n',
  // Found by fuzzing the two parsers against each other: js-yaml reads these differently or accepts them.
  'a: { [0.2, 0.5] }\n',
  'a: { b: 1, [c] }\n',
  'a: b\rc: d\n',
  'a:\n  b: "x\ny"\n',
  'a:\n  b: [1,\n2]\n',
  'a:\n  b: {c: 1,\n d: 2}\n',
  'a: "x"#c\n',
  'a: [x]#c\n',
  '---a: 1\n',
  '...a: 1\n',
  '"a\n b": 1\n',
  'x:\n  "a\n   b": 1\n',
  'a\n b: 1\n',
  '[a,\n b]: 1\n',
  'x: [a,\n b]\n',
  '- - [a,\n   b]\n',
];

test('structures, scalar styles, and every document either path declines read alike', () => {
  let read = 0;
  for (const text of DOCUMENTS) if (agrees(text)) read++;
  assert.ok(read >= 25, `the fast path read only ${read} documents`);
});

/** Every file under `dir` (recursively) whose name passes `keep`. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, keep) : keep(name) ? [path] : [];
  });
}

test('the shipped pipelines and the tests\' pipeline texts read alike', () => {
  const pipelines = filesUnder(join(root, 'pipelines'), (n) => /\.ya?ml$/.test(n)).map((f) => readFileSync(f, 'utf8'));
  // The tests' pipelines are template literals with a `stages:` key; those that interpolate are left out.
  const inTests = filesUnder(join(root, 'test'), (n) => n.endsWith('.ts')).flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(/`((?:[^`\\$]|\\.)*\bstages:(?:[^`\\$]|\\.)*)`/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')),
  );
  const read = [...pipelines, ...inTests].filter(agrees).length;
  assert.ok(pipelines.length > 5 && read > (pipelines.length + inTests.length) / 2, `the fast path read ${read} of ${pipelines.length} + ${inTests.length} pipelines`);
});

const VALID = `name: p
seed: 3
vars: { lr: 1e-3, n: 0x10 }
stages:
  a:
    uses: ./plugins.mjs
    with: { value: 1 }
  b:
    uses: ./plugins.mjs
    inputs: { x: [a], y: a }
`;

test('a valid pipeline is read without building the yaml Document, and answers isList from its values', () => {
  const file = parsePipeline('p.yaml', VALID);
  assert.equal(file.source.hasDocument, false);
  assert.deepEqual(file.vars, { lr: 0.001, n: 16 });
  assert.equal(file.source.isList(['stages', 'b', 'inputs', 'x']), true);
  assert.equal(file.source.isList(['stages', 'b', 'inputs', 'y']), false);
  assert.equal(file.source.hasDocument, false);
  // A location is asked for: the Document is built then, and points where it always did.
  assert.deepEqual(file.source.locate(['stages', 'b', 'inputs', 'y']), { file: 'p.yaml', line: 10, col: 26, length: 1 });
  assert.equal(file.source.hasDocument, true);
});

test('an invalid pipeline, or one with --set, takes the full path with its located diagnostics', () => {
  assert.throws(
    () => parsePipeline('p.yaml', `${VALID}  a:\n    uses: ./plugins.mjs\n`),
    (e: unknown) => e instanceof UserError && e.diagnostics.map((d) => `${d.code} ${d.at?.line}`).join() === 'E_DUPLICATE_KEY 11',
  );
  assert.throws(
    () => parsePipeline('p.yaml', VALID.replace('lr: 1e-3', 'lr: .inf')),
    (e: unknown) => e instanceof UserError && e.diagnostics.map((d) => `${d.code} ${d.at?.line}:${d.at?.col}`).join() === 'E_NOT_FINITE 3:13',
  );
  const set = parsePipeline('p.yaml', VALID, ['vars.lr=0.5', 'a.with.value=2']);
  assert.deepEqual(set.vars, { lr: 0.5, n: 16 });
  assert.deepEqual(set.stages[0]!.with, { value: 2 });
  assert.equal(set.source.isList(['stages', 'b', 'inputs', 'x']), true);
});

/** What a fresh process makes of `texts` through the fast path, and whether it loaded js-yaml to do it. */
function inFreshProcess(texts: readonly string[]): { values: unknown[]; negativeZero: boolean[]; jsYamlLoaded: boolean } {
  const fastYaml = fileURLToPath(new URL('../../src/config/fast-yaml.js', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    const { fastYamlValue } = await import(${JSON.stringify(fastYaml)});
    const values = ${JSON.stringify(texts)}.map((t) => fastYamlValue(t)?.value ?? null);
    const negativeZero = values.map((v) => Object.is(v?.z, -0));
    const jsYamlLoaded = Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/js-yaml/'));
    process.stdout.write(JSON.stringify({ values, negativeZero, jsYamlLoaded }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: memoHome } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { values: unknown[]; negativeZero: boolean[]; jsYamlLoaded: boolean };
}

test('a text read before is read back from the memo, alike, without loading js-yaml', () => {
  const texts = [VALID, 'a: [1, 0x10, .5e2, "x", ~, true]\nb: { c: d }\nk: |\n  two\n  lines\n'];
  for (const t of texts) assert.ok(agrees(t));
  assert.ok(readdirSync(join(memoHome, 'rethink', 'memo', 'yaml-values')).length >= texts.length);
  const fresh = inFreshProcess(texts);
  assert.equal(fresh.jsYamlLoaded, false);
  assert.deepEqual(fresh.values, texts.map((t) => slowValue(t)!.value));
});

test('a value JSON would change (-0) is not remembered: it is read again, exactly', () => {
  const text = 'z: -0\nw: 1\n';
  assert.ok(agrees(text));
  const fresh = inFreshProcess([text]);
  assert.equal(fresh.jsYamlLoaded, true);
  assert.deepEqual(fresh.negativeZero, [true]);
});
