import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPipelineFile } from '../../src/config/pipeline-file.js';
import { buildPlan } from '../../src/plan/build.js';
import { findCycles } from '../../src/plan/cycles.js';
import { createRegistry } from '../../src/plan/registry.js';
import { stageOrder } from '../../src/plan/stage-order.js';
import { withUpstream } from '../../src/plan/select.js';
import type { Plan, StageInstance } from '../../src/plan/plan.js';
import type { StageId } from '../../src/util/brand.js';
import { project, TEST_PLUGINS } from '../support/tmp-project.js';

async function plan(yaml: string) {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'x.yaml': yaml });
  return buildPlan(await loadPipelineFile(join(p.dir, 'x.yaml'), [], 'x.yaml'), createRegistry());
}

test('instances are ordered by Kahn’s algorithm taking the ready stage written first, then in matrix order', async () => {
  const p = await plan(`stages:
  e: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: d } }
  a: { uses: ./plugins.mjs, with: { value: 1 } }
  d: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: [a, c, a] } }
  b: { uses: ./plugins.mjs, with: { value: "\${matrix.q}" }, matrix: { q: [2, 1] } }
  c: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: "b[*]" } }
  f: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: a } }
`);
  // A first-in-first-out queue would give a, b…, f, c, d, e; file order among the ready gives e before f.
  assert.deepEqual(p.order, ['a', 'b[q=2]', 'b[q=1]', 'c', 'd', 'e', 'f']);
  assert.deepEqual(p.graph.inNeighbors('d'), ['a', 'c'], 'one edge per upstream instance');
  assert.deepEqual(p.instances.get('d' as never)!.inputs[0]!.sources.map((s) => s.id), ['a', 'a', 'c'], 'a fan-in in canonical order');
  assert.deepEqual(p.instances.get('c' as never)!.inputs[0]!.sources.map((s) => s.id), ['b[q=1]', 'b[q=2]'], 'by matrix value');
});

test('an input binds the upstream instances that agree on shared axes and the selector, compared by their text', async () => {
  const p = await plan(`stages:
  big:
    uses: ./plugins.mjs
    matrix: { a: [0, 1], b: [1, 0], c: [0, "1"] }
    with: { value: "\${matrix.a}" }
  pick:
    uses: ./plugins.mjs
    matrix: { a: ["1", 0] }
    with: { value: 1 }
    inputs: { x: "big[c=1]" }
  same:
    uses: ./plugins.mjs
    matrix: { c: [0], b: [0] }
    with: { value: 1 }
    inputs: { x: [big, "pick[a=0]"] }
  all: { uses: ./plugins.mjs, with: { value: 1 }, inputs: { x: "big[*]" } }
`);
  const sources = (id: string) => p.instances.get(id as never)!.inputs[0]!.sources.map((s) => s.id);
  assert.deepEqual(sources('pick[a=1]'), ['big[a=1,b=0,c=1]', 'big[a=1,b=1,c=1]']);
  assert.deepEqual(sources('pick[a=0]'), ['big[a=0,b=0,c=1]', 'big[a=0,b=1,c=1]']);
  assert.deepEqual(sources('same[c=0,b=0]'), ['big[a=0,b=0,c=0]', 'big[a=1,b=0,c=0]', 'pick[a=0]']);
  assert.equal(sources('all').length, 8);
  assert.deepEqual(sources('all').slice(0, 3), ['big[a=0,b=0,c=0]', 'big[a=0,b=0,c=1]', 'big[a=0,b=1,c=0]']);
});

test('exclude: entries match by the axes they name, in any key order, values compared by their text', async () => {
  const p = await plan(`stages:
  a:
    uses: ./plugins.mjs
    matrix: { p: [0, 0.5, 1], s: [1, 2] }
    exclude: [{ p: 0.5 }, { p: 1, s: "2" }, { s: 1, p: 0 }]
    with: { value: "\${matrix.p}" }
`);
  assert.deepEqual(p.order, ['a[p=0,s=2]', 'a[p=1,s=1]']);
});

test('a chain of 100,000 stages is ordered, and its cycle found, without exhausting the call stack', () => {
  const n = 100_000;
  const names = Array.from({ length: n }, (_, i) => `s${i}`);
  const chain = new Map(names.slice(0, -1).map((s, i) => [s, new Set([names[i + 1]!])]));
  assert.deepEqual(findCycles(names, chain), []);
  assert.deepEqual(stageOrder(names, chain), names);
  // Listed last-first in the file: the order still follows the edges.
  assert.deepEqual(stageOrder([...names].reverse(), chain), names);
  const cycle = new Map([...chain, [names[n - 1]!, new Set([names[0]!])]]);
  const cycles = findCycles(names, cycle);
  assert.equal(cycles.length, 1);
  assert.deepEqual(cycles[0], names, 'every stage of the cycle, in file order');
  assert.deepEqual(findCycles(['a', 'b'], new Map([['b', new Set(['b'])]])), [['b']], 'a stage reading itself');
});

test('the upstream of a 200,000-instance fan-in is collected without overflowing the call stack (run --only)', () => {
  const ids = Array.from({ length: 200_000 }, (_, i) => `big[i=${i}]` as StageId);
  const instances = new Map<StageId, Pick<StageInstance, 'inputs'>>(ids.map((id) => [id, { inputs: [] }]));
  instances.set('all' as StageId, { inputs: [{ name: 'x', many: true, sources: ids.map((id) => ({ id, output: 'out' })) }] });
  const plan = { instances } as unknown as Plan;
  assert.equal(withUpstream(plan, ['all' as StageId]).size, 200_001);
});

test('planning a valid pipeline needs no source positions: a stage\'s `where` is located when it is read', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'x.yaml': `stages:
  a: { uses: ./plugins.mjs, with: { value: "\${matrix.q}" }, matrix: { q: [1, 2] } }
  b:
    uses: ./plugins.mjs
    with: { value: 1 }
    inputs: { x: "a[*]" }
` });
  const file = await loadPipelineFile(join(p.dir, 'x.yaml'), [], 'x.yaml');
  const planned = await buildPlan(file, createRegistry());
  assert.equal(file.source.hasDocument, false, 'the yaml Document was built');
  assert.equal(planned.instances.get('a[q=2]' as StageId)!.where, 'x.yaml:2:3');
  assert.equal(planned.instances.get('b' as StageId)!.where, 'x.yaml:3:3');
  assert.equal(file.source.hasDocument, true);
});
