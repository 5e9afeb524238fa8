// A real S3-protocol server on loopback (s3rver: GET, PUT, HEAD, list, multipart, the XML errors),
// for the shared-cache tests. It keeps buckets in a temp directory; the SDK reaches it through the
// same environment variables a user sets for MinIO or any S3-compatible store.
import { tempDir } from './temp.js';
import { rm } from 'node:fs/promises';
import S3rver from 's3rver';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/util/s3.js';

export interface S3Server {
  readonly endpoint: string;
  /** Every request the server received, as `METHOD /path?query`. */
  readonly requests: string[];
  /** Every key in the bucket, sorted. */
  keys(bucket: string): Promise<string[]>;
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Starts the server with the buckets given, and points the AWS SDK of this process at it. */
export async function s3Server(buckets: readonly string[]): Promise<S3Server> {
  const dir = await tempDir('rethink-s3-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  const requests: string[] = [];
  (server as unknown as { httpServer: import('node:http').Server }).httpServer.on('request', (req) => requests.push(`${req.method} ${req.url}`));
  const endpoint = `http://127.0.0.1:${port}`;
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_MAX_ATTEMPTS: '1',
  });
  let client: S3Client | undefined;
  const sdk = async () => (client ??= await s3Client());
  return {
    endpoint,
    requests,
    async keys(bucket) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await (await sdk()).send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
        out.push(...(page.Contents ?? []).map((c) => c.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return out.sort();
    },
    async put(bucket, key, body) {
      await (await sdk()).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async close() {
      client?.destroy();
      await server.close();
      process.env = saved;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
