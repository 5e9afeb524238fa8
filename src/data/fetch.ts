// Brings a dataset file from a URL (https/http, s3://, file:// or a local path) into a scratch
// folder atomically: bytes go to a `.part` file while md5/sha256 are computed, and only a complete,
// verified download is renamed to its final name.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DataError } from './errors.js';
import { errorText } from '../util/error-text.js';

export interface Source {
  readonly stream: Readable;
  /** Bytes the server announced, when it did; used to tell a cut-off transfer from a bad file. */
  readonly length?: number;
}

export interface Downloaded {
  readonly path: string;
  readonly url: string;
  readonly bytes: number;
  readonly md5: string;
  readonly sha256: string;
}

export interface DownloadOptions {
  /** Expected md5 (hex); `null` skips verification (the actual md5 is still reported). */
  readonly md5: string | null;
  /** File name inside `dir`; defaults to the URL's last path segment. */
  readonly name?: string;
  readonly signal?: AbortSignal;
}

let partCounter = 0;

export async function download(url: string, dir: string, options: DownloadOptions): Promise<Downloaded> {
  const name = options.name ?? (basename(new URL(url, 'file:///').pathname) || 'download');
  const final = join(dir, name);
  const part = join(dir, `.${name}.${process.pid}.${++partCounter}.part`);
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  try {
    const source = await openSource(url, options.signal);
    const stream = source.stream;
    await pipeline(
      stream,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          md5.update(chunk);
          sha256.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(part),
      options.signal ? { signal: options.signal } : {},
    ).catch((e: unknown) => {
      if (e instanceof DataError || options.signal?.aborted) throw e;
      if (source.length !== undefined && bytes < source.length) {
        throw new DataError('truncated', `download of ${url} is truncated: got ${bytes} of ${source.length} bytes (${errorText(e)})`, { cause: e });
      }
      throw new DataError('download_failed', `reading ${url} failed after ${bytes} bytes: ${errorText(e)}`, { cause: e });
    });
    if (source.length !== undefined && bytes !== source.length) {
      throw new DataError('truncated', `download of ${url} is truncated: got ${bytes} of ${source.length} bytes`);
    }
    const actual = md5.digest('hex');
    checkMd5(url, options.md5, actual);
    await rename(part, final);
    return { path: final, url, bytes, md5: actual, sha256: sha256.digest('hex') };
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
}

export function checkMd5(url: string, expected: string | null, actual: string): void {
  if (expected !== null && expected.toLowerCase() !== actual) {
    throw new DataError(
      'checksum_mismatch',
      `checksum mismatch for ${url}: expected md5 ${expected.toLowerCase()}, got ${actual} ` +
        '(a corrupted or different file; fix the url or its md5 param)',
    );
  }
}

/** Opens a byte stream for any supported URL form. */
export async function openSource(url: string, signal?: AbortSignal): Promise<Source> {
  if (/^https?:\/\//i.test(url)) return openHttp(url, signal);
  if (/^s3:\/\//i.test(url)) return openS3(url, signal);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:\/\//i.test(url)) {
    throw new DataError('bad_params', `unsupported URL scheme in ${url} (use https://, http://, s3://, file:// or a path)`);
  }
  const path = /^file:\/\//i.test(url) ? fileURLToPath(url) : resolve(url);
  const info = await stat(path).catch((e: unknown) => {
    throw new DataError('missing_file', `cannot read ${path}: ${errorText(e)}`, { cause: e });
  });
  if (!info.isFile()) throw new DataError('missing_file', `${path} is not a file`);
  return { stream: createReadStream(path), length: info.size };
}

async function openHttp(url: string, signal?: AbortSignal): Promise<Source> {
  let response: Response;
  try {
    // identity: the md5 is of the file's bytes, so ask servers not to re-encode them in transit.
    const init: RequestInit = { redirect: 'follow', headers: { 'accept-encoding': 'identity' } };
    response = await fetch(url, signal ? { ...init, signal } : init);
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new DataError('download_failed', `GET ${url} failed: ${errorText(e)}`, { cause: e });
  }
  if (!response.ok || response.body === null) {
    throw new DataError('download_failed', `GET ${url} failed: HTTP ${response.status} ${response.statusText}`);
  }
  const header = response.headers.get('content-length');
  // A gzip transfer-encoding would make content-length describe the compressed body; fetch only
  // decodes content-encoding, so the length is meaningful only when no encoding was applied.
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const stream = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  return header !== null && !encoded ? { stream, length: Number(header) } : { stream };
}

async function openS3(url: string, signal?: AbortSignal): Promise<Source> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/i.exec(url);
  if (!match) throw new DataError('bad_params', `malformed S3 URL ${url} (expected s3://bucket/key)`);
  const [, bucket, key] = match as unknown as [string, string, string];
  const [{ GetObjectCommand }, { s3Client, describeS3Error }] = await Promise.all([import('@aws-sdk/client-s3'), import('../util/s3.js')]);
  const client = await s3Client();
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
    if (!(out.Body instanceof Readable)) throw new Error('S3 response has no readable body');
    return out.ContentLength !== undefined ? { stream: out.Body, length: out.ContentLength } : { stream: out.Body };
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new DataError('download_failed', `GET ${url} failed: ${describeS3Error(e)}`, { cause: e });
  }
}
