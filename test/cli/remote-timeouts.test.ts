// A remote that accepts connections and never answers, or stalls midway: every call ends at its
// deadline and the command goes on with the local cache; Ctrl-C ends a command stuck on the remote.
// The servers are raw sockets on loopback; the deadlines are configured small, and each test's own
// timeout is only a guard against the hang it proves gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { startCli, until, type CliExit } from '../support/cli-process.js';

const FILES = { 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP };
const GUARD = { timeout: 60_000 };

/** A TCP server on loopback that accepts every connection, reads what comes, and never answers. */
async function silentServer(): Promise<{ endpoint: string; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Points this process's AWS SDK at `endpoint` (what a user sets for MinIO) until the returned undo. */
function awsAt(endpoint: string, extra: Record<string, string> = {}): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', ...extra });
  return () => {
    process.env = saved;
  };
}

test('a remote that never answers: run and status end at the configured timeouts, on the local cache, and say which', GUARD, async () => {
  const hung = await silentServer();
  const undo = awsAt(hung.endpoint, { AWS_MAX_ATTEMPTS: '2' });
  try {
    const idle = await project(FILES, { RETHINK_REMOTE_IDLE_TIMEOUT: '100ms' });
    const r = await idle.run('p.yaml', '--remote', 's3://team/x');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.doc.stages.every((s) => s.status === 'ran'), JSON.stringify(r.doc.stages));
    assert.match(
      r.doc.remote!.error!,
      new RegExp(`^GET s3://team/x/runs/[0-9a-f]{2}/[0-9a-f]{62}\\.json failed: nothing sent or received for the 100ms idle timeout \\(RETHINK_REMOTE_IDLE_TIMEOUT\\) at ${hung.endpoint} \\(2 attempts\\)$`),
    );

    // The deadline for a whole call ends it even where the idle timeout (30 s by default) has not.
    const deadline = await project(FILES, { RETHINK_REMOTE_TIMEOUT: '0.3s' });
    const st = await deadline.cli('status', 'p.yaml', '--remote', 's3://team/x');
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /0 up to date, 8 will run/);
    assert.match(
      st.stderr,
      new RegExp(`^remote FAILED, status shows the local cache alone: (GET|HEAD) s3://team/x/\\S+ failed: no answer within the 300ms deadline for one call, retries included \\(RETHINK_REMOTE_TIMEOUT\\) at ${hung.endpoint}$`, 'm'),
    );
    assert.ok(hung.connections() > 0, 'the calls reached the server');
  } finally {
    undo();
    await hung.close();
  }
});

test('a malformed timeout is a user error that names the variable and the valid forms', async () => {
  const p = await project(FILES, { RETHINK_REMOTE_TIMEOUT: 'soon' });
  const r = await p.cli('status', 'p.yaml', '--remote', 's3://team/x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E_BAD_ENV\]: RETHINK_REMOTE_TIMEOUT=soon: expected seconds, or a duration such as 500ms, 30s, 2m, 1h/);
  assert.match(r.stderr, /default \(2m\)/);
});

/** `rethink ARGV…` with `env`, settling with how it exited. */
function start(dir: string, env: Record<string, string>, ...argv: string[]): Promise<CliExit> & { child: ChildProcess } {
  const { child, done } = startCli(dir, argv, env);
  return Object.assign(done, { child });
}

test('Ctrl-C ends a run or a status stuck on a remote that never answers', GUARD, async () => {
  const hung = await silentServer();
  try {
    const p = await project(FILES);
    const env = { AWS_ENDPOINT_URL_S3: hung.endpoint, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', RETHINK_REMOTE_TIMEOUT: '1h', RETHINK_REMOTE_IDLE_TIMEOUT: '1h' };
    const stuck = async (command: string) => {
      const before = hung.connections();
      const proc = start(p.dir, env, command, 'p.yaml', '--remote', 's3://team/x');
      await until(`${command} to call the remote`, () => hung.connections() > before);
      proc.child.kill('SIGINT');
      return proc;
    };
    // run handles SIGINT (it stops its stages and releases their leases): the remote calls in flight
    // end with it, and run exits 130 as shells report an interrupted command.
    const run = await stuck('run');
    assert.equal(run.code, 130, run.stderr);
    assert.doesNotMatch(run.stderr, /remote FAILED/, 'an interruption is not the remote’s failure');
    // status holds nothing to release and leaves SIGINT to Node, which ends it at once.
    const status = await stuck('status');
    assert.equal(status.signal, 'SIGINT', status.stderr);
  } finally {
    await hung.close();
  }
});

test('Ctrl-C during the uploads that end a run exits 130, and no run record reaches the remote', GUARD, async () => {
  // Every key is missing (so the run computes all and uploads), and no upload is ever answered.
  const puts: string[] = [];
  const http = createHttpServer((req, res) => {
    req.resume();
    if (req.method === 'PUT') puts.push(req.url!);
    else res.writeHead(404, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>none</Message></Error>');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const p = await project(FILES);
    const { port } = http.address() as { port: number };
    const env = { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', RETHINK_REMOTE_TIMEOUT: '1h', RETHINK_REMOTE_IDLE_TIMEOUT: '1h' };
    const proc = start(p.dir, env, 'run', 'p.yaml', '--remote', 's3://team/x');
    await until('the run to upload', () => puts.length > 0);
    proc.child.kill('SIGINT');
    const { code, stderr } = await proc;
    assert.equal(code, 130, stderr);
    assert.ok(puts.every((u) => u.startsWith('/team/x/objects/')), `objects go first, a record only after them: ${puts.join(', ')}`);
  } finally {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
});
