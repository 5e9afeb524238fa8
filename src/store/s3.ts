// The shared cache in an S3 bucket (or any S3-compatible server). The SDK is imported at the first
// remote call, which is a local miss: a no-op rerun with a remote configured never loads it.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { describeS3Error, isS3NotFound, s3Client } from '../util/s3.js';
import { RemoteError, type Remote, type RemoteEntry } from './remote.js';

export class S3Remote implements Remote {
  readonly url: string;
  private client: Promise<S3Client> | undefined;
  private sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    /** Keys per LIST page (S3's default is its maximum, 1,000); small in tests, to cross pages. */
    private readonly pageSize?: number,
    /** Files larger than this go up in parts (a single PUT stops at 5 GB); small in tests. */
    private readonly multipartBytes = 64 << 20,
  ) {
    this.url = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  }

  private key(path: string): string {
    return this.prefix ? `${this.prefix}/${path}` : path;
  }

  private async send<T>(what: string, path: string, call: (client: S3Client, key: string, sdk: typeof import('@aws-sdk/client-s3')) => Promise<T>): Promise<T | undefined> {
    this.client ??= s3Client();
    this.sdk ??= import('@aws-sdk/client-s3');
    try {
      return await call(await this.client, this.key(path), await this.sdk);
    } catch (e) {
      if (isS3NotFound(e)) return undefined;
      throw new RemoteError(`${what} ${this.url}/${path} failed: ${describeS3Error(e)}`, { cause: e });
    }
  }

  async get(path: string): Promise<Readable | undefined> {
    return this.send('GET', path, async (client, Key, { GetObjectCommand }) => {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!(out.Body instanceof Readable)) throw new Error('the response has no readable body');
      return out.Body;
    });
  }

  async getText(path: string): Promise<string | undefined> {
    return this.send('GET', path, async (client, Key, { GetObjectCommand }) => {
      const out = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!out.Body) throw new Error('the response has no body');
      return out.Body.transformToString('utf8');
    });
  }

  async has(path: string): Promise<boolean> {
    const found = await this.send('HEAD', path, (client, Key, { HeadObjectCommand }) => client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })));
    return found !== undefined;
  }

  async putFile(path: string, file: string, size: number): Promise<void> {
    if (size <= this.multipartBytes) {
      await this.put(path, () => createReadStream(file, { highWaterMark: 1 << 20 }), size);
      return;
    }
    // lib-storage's Upload: parts of at least 5 MiB (S3's minimum), at most 10,000 of them, four in
    // flight; a failed upload is aborted, so no parts are left behind to be billed.
    const partSize = Math.max(5 << 20, Math.ceil(size / 10_000));
    const done = await this.send('PUT', path, async (client, Key) => {
      const { Upload } = await import('@aws-sdk/lib-storage');
      const body = createReadStream(file, { highWaterMark: 1 << 20 });
      await new Upload({ client, params: { Bucket: this.bucket, Key, Body: body, ContentType: 'application/octet-stream' }, partSize, queueSize: 4, leavePartsOnError: false }).done();
      return true;
    });
    if (!done) throw new RemoteError(`PUT ${this.url}/${path} failed: HTTP 404 (does the bucket exist?)`);
  }

  async putText(path: string, text: string): Promise<void> {
    const body = Buffer.from(text, 'utf8');
    await this.put(path, () => body, body.byteLength, 'application/json');
  }

  async *list(folder: string): AsyncIterable<RemoteEntry> {
    // ListObjects (v1) paged by marker, the last key of the previous page: every S3-compatible server
    // has it, and v2's continuation tokens are opaque server state that some servers get wrong (the
    // test server's need DES, which OpenSSL 3 no longer ships).
    const prefix = `${this.key(folder)}/`;
    let marker: string | undefined;
    for (;;) {
      const page = await this.send('LIST', `${folder}/`, (client, _, { ListObjectsCommand }) =>
        client.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix: prefix, ...(this.pageSize ? { MaxKeys: this.pageSize } : {}), ...(marker ? { Marker: marker } : {}) })),
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
      const out = await this.send('DELETE', batch[0]!, (client, _, { DeleteObjectsCommand }) =>
        client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((p) => ({ Key: this.key(p) })), Quiet: true } })),
      );
      const failed = out?.Errors ?? [];
      if (failed.length > 0) throw new RemoteError(`DELETE ${this.url}: ${failed.length} of ${batch.length} deletions failed, the first: ${failed[0]!.Key} (${failed[0]!.Code})`);
    }
  }

  private async put(path: string, body: () => Readable | Buffer, size: number, contentType = 'application/octet-stream'): Promise<void> {
    const done = await this.send('PUT', path, async (client, Key, { PutObjectCommand }) => {
      await client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body(), ContentLength: size, ContentType: contentType }));
      return true;
    });
    // A 404 on PUT means the bucket itself is missing (isS3NotFound excludes NoSuchBucket, but some
    // servers answer NotFound): say so instead of pretending the upload happened.
    if (!done) throw new RemoteError(`PUT ${this.url}/${path} failed: HTTP 404 (does the bucket exist?)`);
  }
}
