// A private redis-server per test file, on a free loopback port, with no persistence; stopped when
// the file's tests end. Without redis-server installed the tests that need it skip with a message,
// unless RETHINK_REQUIRE_SERVICES=1 (CI, after scripts/ci/redis.sh), where that is a failure.
import { after } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const BINARY = 'redis-server';

export interface RedisServer {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:port/0`. */
  readonly url: string;
  /** Stops it (SIGKILL: a Redis that dies); `start` brings it back on the same port, empty. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** Why the queue tests cannot run here, or undefined when they can; throws when CI requires them. */
export function redisMissing(): string | undefined {
  const found = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  if (found.error === undefined && found.status === 0) return undefined;
  const why = `${BINARY} is not installed (apt-get install redis-server, or scripts/ci/redis.sh)`;
  if (process.env['RETHINK_REQUIRE_SERVICES'] === '1') throw new Error(`RETHINK_REQUIRE_SERVICES=1 but ${why}`);
  return why;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const servers = new Set<ChildProcess>();
after(() => {
  for (const s of servers) s.kill('SIGKILL');
});

/** Starts one; `password` sets its requirepass. */
export async function redisServer(options: { readonly password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', ...(options.password === undefined ? [] : ['--requirepass', options.password])];
    const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    servers.add(child);
    proc = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const ready = () => {
        if (/Ready to accept connections/.test(out)) {
          child.stdout!.off('data', ready);
          resolve();
        }
      };
      child.stdout!.on('data', ready);
      child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited with ${code}:\n${out}`)));
    });
  };
  await start();
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}/0`,
    async kill() {
      const child = proc!;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      servers.delete(child);
    },
    start,
  };
}
