import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptsFailed, withAttempts, type AttemptHooks } from '../../src/exec/attempts.js';
import { showDuration } from '../../src/util/duration.js';

/** Hooks whose pauses return at once, recording the waits asked for. */
function hooks(over: Partial<AttemptHooks> = {}): AttemptHooks & { waits: number[]; said: string[] } {
  const waits: number[] = [];
  const said: string[] = [];
  return {
    signal: new AbortController().signal,
    stopping: () => false,
    retrying: (n, e, ms) => void said.push(`${n}: ${(e as Error).message} (${ms})`),
    pause: async (ms) => (waits.push(ms), true),
    waits,
    said,
    ...over,
  };
}

const failing = (times: number, error = (n: number) => new Error(`boom ${n}`)) => {
  let n = 0;
  return async () => {
    n++;
    if (n <= times) throw error(n);
    return n;
  };
};

test('attempts repeat with doubling waits, capped at a minute, until one succeeds', async () => {
  const h = hooks();
  assert.deepEqual(await withAttempts(failing(2), { attempts: 3, delayMs: 1000 }, h), { value: 3, attempts: 3 });
  assert.deepEqual(h.waits, [1000, 2000]);
  assert.deepEqual(h.said, ['1: boom 1 (1000)', '2: boom 2 (2000)']);
  const long = hooks();
  await withAttempts(failing(8), { attempts: 9, delayMs: 1000 }, long);
  assert.deepEqual(long.waits, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
});

test('no more attempts after the last one, a user error, a stopping run or an interrupted pause', async () => {
  const out = async (p: Promise<unknown>) => p.then(() => assert.fail('should fail'), (e: unknown) => e as AttemptsFailed);
  const last = await out(withAttempts(failing(5), { attempts: 2, delayMs: 1 }, hooks()));
  assert.deepEqual([last.attempts, (last.error as Error).message], [2, 'boom 2']);
  const user = await out(withAttempts(failing(5, () => Object.assign(new Error('bad checksum'), { userError: true })), { attempts: 4, delayMs: 1 }, hooks()));
  assert.equal(user.attempts, 1);
  const stopping = await out(withAttempts(failing(5), { attempts: 4, delayMs: 1 }, hooks({ stopping: () => true })));
  assert.equal(stopping.attempts, 1);
  const interrupted = await out(withAttempts(failing(5), { attempts: 4, delayMs: 1 }, hooks({ pause: async () => false })));
  assert.equal(interrupted.attempts, 1);
});

test('an attempt past its timeout is aborted through its signal and fails as timed out', async () => {
  const hang = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  const r = await withAttempts(hang, { attempts: 2, delayMs: 1, timeoutMs: 20 }, hooks()).then(
    () => assert.fail('should time out'),
    (e: unknown) => e as AttemptsFailed,
  );
  assert.deepEqual([r.attempts, (r.error as Error).message], [2, 'timed out after 20ms']);
  assert.deepEqual([showDuration(250), showDuration(1500), showDuration(90_000), showDuration(1_800_000), showDuration(7_200_000)], ['250ms', '1.5s', '90s', '30m', '2h']);
});

test('attempts leave no listener on the run’s signal behind', async () => {
  const run = new AbortController();
  const added: string[] = [];
  const removed: string[] = [];
  const add = run.signal.addEventListener.bind(run.signal);
  run.signal.addEventListener = ((type: string, fn: () => void, opts?: { signal?: AbortSignal }) => {
    added.push(type);
    opts?.signal?.addEventListener('abort', () => removed.push(type));
    add(type, fn, opts);
  }) as typeof run.signal.addEventListener;
  for (let i = 0; i < 20; i++) await withAttempts(async (s) => s.aborted, { attempts: 1, delayMs: 1, timeoutMs: 1000 }, hooks({ signal: run.signal }));
  assert.equal(added.length, 20);
  assert.equal(removed.length, 20);
});
