// A stand-in for `rethink exec --serve` in the worker's tests: it speaks the same IPC protocol (ready;
// job, cancel; progress, log, result) and does what the job's params say instead of running a
// plugin: sleep (cancellable), spin (blocks its event loop), fail, fail as a user error or a refusal,
// or exit mid-job. Each start is appended to `<dir>/starts-<key>` as `worker attempt pid`.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobMessage } from '../../src/exec/job-messages.js';
import type { ToChild } from '../../src/worker/child.js';

export interface StandInParams {
  readonly sleep_ms?: number;
  readonly spin_ms?: number;
  readonly fail?: boolean;
  readonly user_error?: boolean;
  readonly refuse?: boolean;
  readonly exit?: number;
}

const dir = process.argv[2]!;
let cancel: (() => void) | undefined;
const send = (m: JobMessage | { type: 'ready' }): void => void process.send!(m);

// Only as a forked child: `npm test` also loads this file, as it loads every module under dist/test/.
if (process.send !== undefined) {
  process.on('message', (m: ToChild) => {
    if (m.type === 'cancel') return cancel?.();
    void run(m);
  });
  // The worker died (kill -9): so does its stage, as `rethink exec --serve` stops on disconnect.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

async function run(job: ToChild & { type: 'job' }): Promise<void> {
  const p = job.spec.params as StandInParams;
  appendFileSync(join(dir, `starts-${job.spec.key}`), `${job.ranOn.worker} ${job.ranOn.attempt} ${process.pid}\n`);
  send({ type: 'progress', update: { message: 'started', done: 0, total: 1 } });
  if (p.spin_ms !== undefined) {
    const end = Date.now() + p.spin_ms;
    while (Date.now() < end);
  }
  if (p.sleep_ms !== undefined) {
    const stopped = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), p.sleep_ms);
      cancel = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    cancel = undefined;
    if (stopped) return send({ type: 'result', ok: false, error: { name: 'Error', message: 'stopped' } });
  }
  if (p.exit !== undefined) process.exit(p.exit);
  if (p.user_error) return send({ type: 'result', ok: false, error: { name: 'Error', message: 'checksum mismatch', userError: true } });
  if (p.refuse) return send({ type: 'result', ok: false, error: { name: 'UserError', message: 'plugin code hash differs', refused: true } as never });
  if (p.fail) return send({ type: 'result', ok: false, error: { name: 'Error', message: `boom in ${job.spec.stage.id}` } });
  send({ type: 'progress', update: { message: 'done', done: 1, total: 1 } });
  send({ type: 'result', ok: true, outputs: {}, provenance: {} });
}
