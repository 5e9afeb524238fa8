// The S3 remote against servers that misbehave on purpose (an HTTP server on loopback answering by
// hand): a body that stalls midway is cut by the idle timeout, a failed or unanswered attempt is
// retried with the SDK's standard strategy, and an interruption ends calls and multipart uploads. Timeouts are configured small; each test's own timeout is
// only a guard against the hang it proves gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';
import { S3Remote } from '../../src/store/s3.js';
import { RemoteError } from '../../src/store/remote.js';

const GUARD = { timeout: 60_000 };
const SHORT = { connectMs: 1_000, idleMs: 150, callMs: 30_000 };

/** An HTTP server whose nth request (from 1) `answer` handles; it records each request's method and path. */
async function server(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const requests: string[] = [];
  const http = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    answer(requests.length, req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as { port: number };
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
  delete process.env['AWS_MAX_ATTEMPTS']; // the SDK's default: 3
  return {
    requests,
    close: async () => {
      process.env = saved;
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

const ok = (res: ServerResponse, body: string) => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);

test('a download that stalls midway is cut by the idle timeout, with a message that names it', GUARD, async () => {
  const s = await server((_, __, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
    res.write(Buffer.alloc(10)); // then nothing, the connection open
  });
  try {
    const remote = new S3Remote('team', 'x', { timeouts: SHORT });
    const body = await remote.get('objects/ab/cdef');
    assert.ok(body, 'the headers came, so the call succeeded');
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of body) received += (chunk as Buffer).byteLength;
      })(),
      (e: unknown) => {
        assert.ok(e instanceof RemoteError, String(e));
        assert.match(e.message, /^GET s3:\/\/team\/x\/objects\/ab\/cdef failed midway: nothing sent or received for the 150ms idle timeout \(RETHINK_REMOTE_IDLE_TIMEOUT\) at http:\/\/127\.0\.0\.1:\d+$/);
        return true;
      },
    );
    assert.equal(received, 10);
    assert.equal(s.requests.length, 1, 'a body is not retried: the caller reads again if it wants');
  } finally {
    await s.close();
  }
});

test('a call the server fails with 503, or does not answer, is tried again, and succeeds', GUARD, async () => {
  const busy = await server((n, _, res) => {
    if (n === 1) res.writeHead(503, { 'content-type': 'application/xml' }).end('<Error><Code>SlowDown</Code><Message>busy</Message></Error>');
    else ok(res, 'hello');
  });
  try {
    assert.equal(await new S3Remote('team', 'x', { timeouts: SHORT }).getText('runs/ab/cd.json'), 'hello');
    assert.deepEqual(busy.requests, ['GET /team/x/runs/ab/cd.json?x-id=GetObject', 'GET /team/x/runs/ab/cd.json?x-id=GetObject']);
  } finally {
    await busy.close();
  }

  // The first attempt hangs: the idle timeout ends it, and the second is answered.
  const hung = await server((n, _, res) => {
    if (n > 1) ok(res, 'hello');
  });
  try {
    assert.equal(await new S3Remote('team', 'x', { timeouts: SHORT }).getText('runs/ab/cd.json'), 'hello');
    assert.equal(hung.requests.length, 2);
  } finally {
    await hung.close();
  }
});

test('every attempt hangs: the call fails after the SDK’s attempts, saying how many', GUARD, async () => {
  const hung = await server(() => {});
  try {
    await assert.rejects(new S3Remote('team', 'x', { timeouts: SHORT }).has('objects/ab/cd'), /^RemoteError: HEAD s3:\/\/team\/x\/objects\/ab\/cd failed: nothing sent or received for the 150ms idle timeout \(RETHINK_REMOTE_IDLE_TIMEOUT\) at http:\/\/127\.0\.0\.1:\d+ \(3 attempts\)$/);
    assert.equal(hung.requests.length, 3);
  } finally {
    await hung.close();
  }
});

test('an aborted command signal ends a call in flight, and no new call starts', GUARD, async () => {
  const hung = await server(() => {});
  try {
    const abort = new AbortController();
    const remote = new S3Remote('team', 'x', { timeouts: { ...SHORT, idleMs: 3_600_000 }, signal: abort.signal });
    const pending = remote.getText('runs/ab/cd.json');
    while (hung.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    abort.abort(new Error('interrupted'));
    await assert.rejects(pending, /^RemoteError: GET s3:\/\/team\/x\/runs\/ab\/cd\.json failed: interrupted$/);
    await assert.rejects(remote.has('objects/ab/cd'), /interrupted/);
    assert.equal(hung.requests.length, 1);
  } finally {
    await hung.close();
  }
});

test('an interrupted multipart upload is aborted on the server: no parts are left, no object appears', GUARD, async () => {
  const s = await server((_, req, res) => {
    if (req.method === 'POST' && req.url!.includes('uploads')) {
      res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>team</Bucket><Key>x/objects/ab/big</Key><UploadId>U1</UploadId></InitiateMultipartUploadResult>');
    } else if (req.method === 'DELETE') res.writeHead(204).end();
    // the parts: never answered
  });
  try {
    const dir = await tempDir('rethink-multipart-abort-');
    const file = join(dir, 'big');
    await writeFile(file, new Uint8Array(12 << 20));
    const abort = new AbortController();
    const remote = new S3Remote('team', 'x', { timeouts: { ...SHORT, idleMs: 3_600_000 }, multipartBytes: 1 << 20, signal: abort.signal });
    const pending = remote.putFile('objects/ab/big', file, 12 << 20);
    while (!s.requests.some((r) => r.startsWith('PUT '))) await new Promise((r) => setTimeout(r, 10));
    abort.abort(new Error('interrupted'));
    await assert.rejects(pending, /^RemoteError: PUT s3:\/\/team\/x\/objects\/ab\/big failed: interrupted$/);
    assert.ok(s.requests.includes('DELETE /team/x/objects/ab/big?uploadId=U1&x-id=AbortMultipartUpload'), s.requests.join('\n'));
    assert.ok(!s.requests.some((r) => r.startsWith('POST ') && r.includes('uploadId=')), 'never completed');
  } finally {
    await s.close();
  }
});
