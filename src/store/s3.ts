// The shared cache in an S3 bucket (or any S3-compatible server). The SDK is imported at the first
// remote call, which is a local miss: a no-op rerun with a remote configured never loads it. Every
// call has a deadline (connect, idle, and one for the whole call, retries included; see
// remote-timeouts.ts) and stops when the command's signal aborts (Ctrl-C).
import { createReadStream } from 'node:fs';
import { addAbortSignal, Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { customEndpoint, DEFAULT_S3_TIMEOUTS, describeS3Error, isS3NotFound, s3Client, type S3Timeouts } from '../util/s3.js';
import { callSignal, type CallSignal } from '../util/call-signal.js';
import { timeoutText } from './remote-timeouts.js';
import { RemoteError, type Remote, type RemoteEntry } from './remote.js';

type Sdk = typeof import('@aws-sdk/client-s3');

export interface S3RemoteOptions {
  /** Keys per LIST page (S3's default is its maximum, 1,000); small in tests, to cross pages. */
  readonly pageSize?: number;
  /** Files larger than this go up in parts (a single PUT stops at 5 GB); small in tests. */
  readonly multipartBytes?: number;
  readonly timeouts?: S3Timeouts;
  /** The command's: when it aborts, calls in flight are abandoned and no new one starts. */
  readonly signal?: AbortSignal;
}

export class S3Remote implements Remote {
  readonly url: string;
  private client: Promise<S3Client> | undefined;
  private sdk: Promise<Sdk> | undefined;
  private readonly timeouts: S3Timeouts;
  private readonly multipartBytes: number;

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly options: S3RemoteOptions = {},
  ) {
    this.url = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    this.timeouts = options.timeouts ?? DEFAULT_S3_TIMEOUTS;
    this.multipartBytes = options.multipartBytes ?? 64 << 20;
  }

  private key(path: string): string {
    return this.prefix ? `${this.prefix}/${path}` : path;
  }

  /**
   * One call, under the deadline for a whole call unless it is a transfer (`deadline: false`: an
   * object's bytes, which the idle timeout bounds instead). "No such key" is undefined; any other
   * failure a RemoteError that says which call failed and why.
   */
  private async send<T>(
    what: string,
    path: string,
    call: (client: S3Client, key: string, sdk: Sdk, abortSignal: AbortSignal) => Promise<T>,
    deadline = true,
  ): Promise<T | undefined> {
    const signal = callSignal(this.options.signal, deadline ? this.timeouts.callMs : undefined);
    try {
      if (signal.signal.aborted) throw signal.signal.reason;
      this.client ??= s3Client(process.env, this.timeouts);
      this.sdk ??= import('@aws-sdk/client-s3');
      return await call(await this.client, this.key(path), await this.sdk, signal.signal);
    } catch (e) {
      if (isS3NotFound(e)) return undefined;
      throw new RemoteError(`${what} ${this.url}/${path} failed: ${this.why(e, signal)}`, { cause: e });
    } finally {
      signal.dispose();
    }
  }

  /** Why a call failed: interrupted, which timeout ran out (and where to change it), or what the server said. */
  private why(e: unknown, signal?: CallSignal): string {
    if (this.options.signal?.aborted) return 'interrupted';
    const attempts = (e as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    const tries = attempts !== undefined && attempts > 1 ? ` (${attempts} attempts)` : '';
    const at = ` at ${customEndpoint() ?? 'AWS S3'}`;
    if (signal?.expired) return `${timeoutText('callMs', this.timeouts)}${at}`;
    if (e instanceof Error && e.name === 'TimeoutError') {
      // The SDK's handler words its two timeouts differently; nothing else tells them apart.
      const which = /establish a connection/i.test(e.message) ? 'connectMs' : 'idleMs';
      return `${timeoutText(which, this.timeouts)}${at}${tries}`;
    }
    return `${describeS3Error(e)}${tries}`;
  }

  async get(path: string): Promise<Readable | undefined> {
    // The deadline covers the call until the response's headers; the body, however big, streams on
    // for as long as bytes keep coming (the idle timeout) and the command is not interrupted.
    const body = await this.send('GET', path, async (client, Key, { GetObjectCommand }, abortSignal) => {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key }), { abortSignal });
      if (!(out.Body instanceof Readable)) throw new Error('the response has no readable body');
      return out.Body;
    });
    if (!body) return undefined;
    if (this.options.signal) addAbortSignal(this.options.signal, body);
    return Readable.from(this.receive(path, body), { objectMode: false });
  }

  /** A body's bytes; a stall or an interruption midway is a RemoteError that says so, like any other failure. */
  private async *receive(path: string, body: Readable): AsyncIterable<Buffer> {
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } catch (e) {
      throw new RemoteError(`GET ${this.url}/${path} failed midway: ${this.why(e)}`, { cause: e });
    }
  }

  async getText(path: string): Promise<string | undefined> {
    return this.send('GET', path, async (client, Key, { GetObjectCommand }, abortSignal) => {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key }), { abortSignal });
      if (!out.Body) throw new Error('the response has no body');
      return out.Body.transformToString('utf8');
    });
  }

  async has(path: string): Promise<boolean> {
    const found = await this.send('HEAD', path, (client, Key, { HeadObjectCommand }, abortSignal) => client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }));
    return found !== undefined;
  }

  async putFile(path: string, file: string, size: number): Promise<void> {
    if (size <= this.multipartBytes) {
      await this.put(path, () => createReadStream(file, { highWaterMark: 1 << 20 }), size, 'application/octet-stream', false);
      return;
    }
    // lib-storage's Upload: parts of at least 5 MiB (S3's minimum), at most 10,000 of them, four in
    // flight; a failed upload is aborted, so no parts are left behind to be billed. A transfer: no
    // deadline but the idle timeout on each part.
    const partSize = Math.max(5 << 20, Math.ceil(size / 10_000));
    const done = await this.send(
      'PUT',
      path,
      async (client, Key, { AbortMultipartUploadCommand }, abortSignal) => {
        const { Upload } = await import('@aws-sdk/lib-storage');
        const body = createReadStream(file, { highWaterMark: 1 << 20 });
        const upload = new Upload({ client, params: { Bucket: this.bucket, Key, Body: body, ContentType: 'application/octet-stream' }, partSize, queueSize: 4, leavePartsOnError: false });
        const stop = () => void upload.abort();
        abortSignal.addEventListener('abort', stop, { once: true });
        try {
          await upload.done();
        } catch (e) {
          // Interrupted: Upload gives up at once but aborts the multipart upload only once its parts
          // in flight are done, which the command may not wait for. Abort it now (without the
          // command's signal, which has fired, but bounded): the key never names a partial object
          // either way, since nothing completed the upload.
          if (abortSignal.aborted && upload.uploadId !== undefined) {
            const cleanup = callSignal(undefined, Math.min(this.timeouts.callMs, 10_000));
            await client
              .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: upload.uploadId }), { abortSignal: cleanup.signal })
              .catch(() => undefined) // S3 lists it under ListMultipartUploads for a lifecycle rule to end
              .finally(() => cleanup.dispose());
          }
          throw e;
        } finally {
          abortSignal.removeEventListener('abort', stop);
        }
        return true;
      },
      false,
    );
    if (!done) throw new RemoteError(`PUT ${this.url}/${path} failed: HTTP 404 (does the bucket exist?)`);
  }

  async putText(path: string, text: string): Promise<void> {
    const body = Buffer.from(text, 'utf8');
    await this.put(path, () => body, body.byteLength, 'application/json', true);
  }

  async *list(folder: string): AsyncIterable<RemoteEntry> {
    // ListObjects (v1) paged by marker, the last key of the previous page: every S3-compatible server
    // has it, and v2's continuation tokens are opaque server state that some servers get wrong (the
    // test server's need DES, which OpenSSL 3 no longer ships).
    const prefix = `${this.key(folder)}/`;
    let marker: string | undefined;
    for (;;) {
      const pageSize = this.options.pageSize;
      const page = await this.send('LIST', `${folder}/`, (client, _, { ListObjectsCommand }, abortSignal) =>
        client.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, ...(pageSize ? { MaxKeys: pageSize } : {}), ...(marker ? { Marker: marker } : {}) }), { abortSignal }),
      );
      if (!page) throw new RemoteError(`LIST ${this.url}/${folder}/ failed: HTTP 404 (does the bucket exist?)`);
      const contents = page.Contents ?? [];
      for (const o of contents) {
        if (o.Key === undefined) continue;
        yield { path: `${folder}/${o.Key.slice(prefix.length)}`, size: o.Size ?? 0, modifiedMs: o.LastModified?.getTime() ?? 0 };
      }
      const last = contents.at(-1)?.Key;
      if (!page.IsTruncated || last === undefined) return;
      marker = last;
    }
  }

  async remove(paths: readonly string[]): Promise<void> {
    // DeleteObjects takes at most 1,000 keys; it reports per-key failures in the response body.
    for (let i = 0; i < paths.length; i += 1000) {
      const batch = paths.slice(i, i + 1000);
      const out = await this.send('DELETE', batch[0]!, (client, _, { DeleteObjectsCommand }, abortSignal) =>
        client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((p) => ({ Key: this.key(p) })), Quiet: true } }), { abortSignal }),
      );
      const failed = out?.Errors ?? [];
      if (failed.length > 0) throw new RemoteError(`DELETE ${this.url}: ${failed.length} of ${batch.length} deletions failed, the first: ${failed[0]!.Key} (${failed[0]!.Code})`);
    }
  }

  /** One PUT: atomic on S3, so an interrupted or timed-out one leaves nothing at the key. */
  private async put(path: string, body: () => Readable | Buffer, size: number, contentType: string, deadline: boolean): Promise<void> {
    const done = await this.send(
      'PUT',
      path,
      async (client, Key, { PutObjectCommand }, abortSignal) => {
        await client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body(), ContentLength: size, ContentType: contentType }), { abortSignal });
        return true;
      },
      deadline,
    );
    // A 404 on PUT means the bucket itself is missing (isS3NotFound excludes NoSuchBucket, but some
    // servers answer NotFound): say so instead of pretending the upload happened.
    if (!done) throw new RemoteError(`PUT ${this.url}/${path} failed: HTTP 404 (does the bucket exist?)`);
  }
}
