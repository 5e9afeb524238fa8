// The live display's arithmetic and wording, driven by a fake clock: ETA from epoch times, up-to-N,
// done/total, waiting vs running, and how often the plain lines report progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecEvent, StageReport } from '../../src/exec/events.js';
import type { ProgressUpdate } from '../../src/plugin/types.js';
import type { CacheKey, StageId } from '../../src/util/brand.js';
import { clockText, RunProgress } from '../../src/cli/render/progress.js';
import { plainRenderer } from '../../src/cli/render/plain.js';
import { groupView, type StageGroup } from '../../src/cli/render/listr.js';

/** A clock the test moves by hand: `t.ms` is now. */
const fakeClock = (start = Date.parse('2026-05-01T12:00:00Z')) => {
  const t = { ms: start, now: () => t.ms, advance: (s: number) => void (t.ms += s * 1000) };
  return t;
};
const id = (s: string) => s as StageId;
const start = (s: string): ExecEvent => ({ type: 'stage-start', id: id(s), plugin: 'train', key: 'k' as CacheKey, cores: 1 });
const progressOf = (s: string, update: ProgressUpdate): ExecEvent => ({ type: 'stage-progress', id: id(s), update });
const report = (s: string, status: StageReport['status']): StageReport => ({ id: id(s), stage: s, plugin: 'train', key: null, status, seconds: 1, outputs: {} });
const epochs = (current: number, total: number, meanSeconds?: number, upTo?: true): ProgressUpdate => ({
  epochs: { current, total, finished: current - 1, ...(meanSeconds === undefined ? {} : { meanSeconds }), ...(upTo ? { upTo } : {}) },
  metrics: { loss: 0.42137, acc: 0.9125 },
  rate: { perSecond: 5120.4, unit: 'img' },
});

test('the ETA is mean epoch time × epochs left, shown once an epoch has ended, and counts down through the epoch under way', () => {
  const clock = fakeClock();
  const p = new RunProgress(clock.now);
  p.observe({ type: 'run-start', pipeline: 'p.yaml', total: 3, jobs: 1 });
  p.observe(start('train'));
  p.observe(progressOf('train', epochs(1, 10)));
  clock.advance(5);
  assert.equal(p.etaMs(id('train')), undefined, 'no epoch measured yet');
  assert.equal(p.line(id('train')), 'epoch 1/10 · loss 0.4214 · acc 0.9125 · 5,120 img/s · 5s');

  clock.advance(5); // the first epoch took 10 s: 9 left
  p.observe(progressOf('train', epochs(2, 10, 10)));
  assert.equal(p.etaMs(id('train')), 90_000);
  clock.advance(4);
  p.observe(progressOf('train', epochs(2, 10, 10))); // a step's report within the same epoch moves nothing
  assert.equal(p.etaMs(id('train')), 86_000);
  assert.equal(p.line(id('train')), 'epoch 2/10 · loss 0.4214 · acc 0.9125 · 5,120 img/s · 14s, ETA 1m26s');
  clock.advance(30); // the epoch runs long: the ETA stays at the 8 epochs after it
  assert.equal(p.etaMs(id('train')), 80_000);
  clock.advance(1);
  p.observe(progressOf('train', epochs(3, 10, 20))); // epoch 2 ended; the mean is now 20 s
  assert.equal(p.etaMs(id('train')), 160_000);
  assert.equal(p.elapsedMs(id('train')), 45_000);
});

test('training that stops at a target says "epoch 12 (up to 150)" and an ETA that is a bound', () => {
  const clock = fakeClock();
  const p = new RunProgress(clock.now);
  p.observe(start('train'));
  clock.advance(66);
  p.observe(progressOf('train', epochs(12, 150, 5.5, true)));
  assert.equal(p.line(id('train')), 'epoch 12 (up to 150) · loss 0.4214 · acc 0.9125 · 5,120 img/s · 1m06s, ETA ≤ 12m45s');
  assert.equal(clockText(2 * 3600_000 + 61_000), '2h01m');
});

test('done/total counts every instance that settled, cached ones included', () => {
  const p = new RunProgress(fakeClock().now);
  p.observe({ type: 'run-start', pipeline: 'p.yaml', total: 4, jobs: 2 });
  p.observe({ type: 'stage-end', report: report('a', 'cached') });
  p.observe({ type: 'stage-end', report: report('b', 'cached') });
  p.observe(start('c'));
  assert.equal(p.doneOfTotal(), '2/4');
  p.observe({ type: 'stage-end', report: report('c', 'ran') });
  assert.equal(p.doneOfTotal(), '3/4');
});

test('a stage with nothing under way is queued (waiting), one with an instance running is not', () => {
  const clock = fakeClock();
  const p = new RunProgress(clock.now);
  const g: StageGroup = { name: 'train', total: 2, ended: [], running: new Set(), waitingFor: new Map(), where: new Map() };
  const queued = groupView(g, p);
  assert.equal(queued.queued, true);
  assert.equal(queued.title, 'train  0/2  (0 ran, 0 cached, 2 queued)');
  assert.equal(queued.output, '');

  p.observe(start('train[p=0]'));
  g.running.add(id('train[p=0]'));
  clock.advance(3);
  p.observe(progressOf('train[p=0]', { message: 'reading the data' }));
  const running = groupView(g, p);
  assert.equal(running.queued, false);
  assert.equal(running.title, 'train  0/2  (0 ran, 0 cached, 1 running, 1 queued)');
  assert.equal(running.output, 'train[p=0]: reading the data · 3s');

  // One finished, the next not started yet: waiting again, not spinning.
  g.running.delete(id('train[p=0]'));
  g.ended.push(report('train[p=0]', 'ran'));
  assert.equal(groupView(g, p).queued, true);
  g.ended.push(report('train[p=0.5]', 'cached'));
  assert.equal(groupView(g, p).queued, false, 'done, not queued');
});

test('without a terminal: a timestamp on every line, one per stage event, progress at most every interval, logs only when verbose', () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const observe = plainRenderer((l) => lines.push(l), { now: clock.now, progressIntervalMs: 10_000 });
  observe({ type: 'run-start', pipeline: 'p.yaml', total: 2, jobs: 1 });
  observe({ type: 'stage-end', report: report('data', 'cached') });
  observe(start('train'));
  // A report every half second for 25 s, an epoch every 5 s: two progress lines, not 50, nor one per epoch.
  for (let step = 1; step <= 50; step++) {
    clock.advance(0.5);
    observe(progressOf('train', epochs(Math.floor(step / 10) + 1, 150, 5, true)));
    if (step % 10 === 0) observe({ type: 'stage-log', id: id('train'), message: `epoch ${step / 10}: loss 0.4` });
  }
  observe({ type: 'stage-end', report: report('train', 'ran') });
  observe({ type: 'run-end', stages: [report('data', 'cached'), report('train', 'ran')], seconds: 25 });
  assert.deepEqual(lines, [
    '2026-05-01T12:00:00Z rethink: p.yaml: 2 stages, 1 core\n',
    '2026-05-01T12:00:00Z   cached  data  [1/2]\n',
    '2026-05-01T12:00:00Z   start   train\n',
    '2026-05-01T12:00:10Z   …       train: epoch 3 (up to 150) · loss 0.4214 · acc 0.9125 · 5,120 img/s · 10s, ETA ≤ 12m20s\n',
    '2026-05-01T12:00:20Z   …       train: epoch 5 (up to 150) · loss 0.4214 · acc 0.9125 · 5,120 img/s · 20s, ETA ≤ 12m10s\n',
    '2026-05-01T12:00:25Z   ran     train (1.0s)  [2/2]\n',
    '2026-05-01T12:00:25Z done: 1 ran, 1 cached in 25.00s\n',
  ]);

  const verbose: string[] = [];
  const loud = plainRenderer((l) => verbose.push(l), { now: clock.now, verbose: true });
  loud({ type: 'stage-log', id: id('train'), message: 'epoch 1: loss 0.4' });
  assert.deepEqual(verbose, ['2026-05-01T12:00:25Z   log     train: epoch 1: loss 0.4\n']);
});
