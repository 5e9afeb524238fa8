// `node dist/test/support/queue-worker.js OPTIONS_JSON`: a queue worker process as `rethink worker`
// runs it (serveUntilStopped: signals, graceful stop), but whose slots fork the stand-in child
// (serve-stand-in.ts) rather than `rethink exec --serve`.
import { fileURLToPath } from 'node:url';
import { serveUntilStopped } from '../../src/cli/commands/worker.js';
import { redisTarget } from '../../src/exec/engines/redis.js';
import { WORKER_TIMING } from '../../src/worker/worker.js';

export interface TestWorkerOptions {
  readonly url: string;
  readonly name: string;
  readonly dir: string;
  readonly remoteUrl: string;
  readonly tags?: readonly string[];
  readonly concurrency?: number;
  readonly lockMs?: number;
  readonly stalledMs?: number;
}

export const TEST_WORKER = fileURLToPath(import.meta.url);
const STAND_IN = fileURLToPath(new URL('./serve-stand-in.js', import.meta.url));

// Only when started with its options: `npm test` also loads this file, as it loads every module under dist/test/.
if (process.argv[1] === TEST_WORKER && process.argv[2] !== undefined) {
  const o = JSON.parse(process.argv[2]!) as TestWorkerOptions;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const code = await serveUntilStopped(
    {
      queue: redisTarget(o.url, '--queue'),
      remoteUrl: o.remoteUrl,
      name: o.name,
      tags: o.tags ?? [],
      concurrency: o.concurrency ?? 1,
      timing: { ...WORKER_TIMING, graceMs: 2_000, ...(o.lockMs === undefined ? {} : { lockMs: o.lockMs }), ...(o.stalledMs === undefined ? {} : { stalledMs: o.stalledMs }) },
      child: { module: STAND_IN, args: [o.dir] },
      log,
    },
    log,
  );
  process.exit(code);
}
