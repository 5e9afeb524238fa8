// One way to make an S3 client, for data sources (`s3://` URLs) and the shared cache alike. The SDK is
// imported only here, lazily: planning and no-op reruns never load it.
import type { S3Client } from '@aws-sdk/client-s3';
import { errorText } from './error-text.js';

/** The endpoint of an S3-compatible server (MinIO, Ceph, R2, a test server), when one is named. */
export function customEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
}

/**
 * How long one S3 call may take. The first two are per attempt (the SDK's NodeHttpHandler enforces
 * them); `callMs` bounds a whole call, retries and backoff included, and is the caller's to enforce
 * with an abort signal (S3Remote does). A transfer is never cut for being big, only for stalling.
 */
export interface S3Timeouts {
  /** Until the TCP (and TLS) connection is up. */
  readonly connectMs: number;
  /** With no byte sent or received on the socket: a server that never answers, a stalled body. */
  readonly idleMs: number;
  /** One call, every attempt and the waits between them, until the response's headers. */
  readonly callMs: number;
}

/** For a team bucket: a healthy server connects in milliseconds and answers small calls in one or two seconds. */
export const DEFAULT_S3_TIMEOUTS: S3Timeouts = { connectMs: 5_000, idleMs: 30_000, callMs: 120_000 };

/** Attempts per call come from the SDK's standard retry strategy (AWS_MAX_ATTEMPTS, default 3), with backoff. */
export async function s3Client(env: NodeJS.ProcessEnv = process.env, timeouts: S3Timeouts = DEFAULT_S3_TIMEOUTS): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const custom = customEndpoint(env);
  const hasRegion = env['AWS_REGION'] !== undefined || env['AWS_DEFAULT_REGION'] !== undefined;
  return new S3Client({
    // S3-compatible servers want path-style URLs, and many have no notion of a region.
    ...(custom ? { forcePathStyle: true, ...(hasRegion ? {} : { region: 'us-east-1' }) } : {}),
    // Only the checksums S3 requires: the newer defaults (aws-chunked CRC32 trailers) are not
    // understood by every S3-compatible server, and every object we read is verified by its SHA-256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK's defaults wait forever on a server that accepts a connection and never answers.
    // The options object makes the SDK build its own NodeHttpHandler with them.
    requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
  });
}

/** What a failed S3 call says: "HTTP 403 (AccessDenied)" or the network error's message. */
export function describeS3Error(e: unknown): string {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = e instanceof Error ? e.name : 'error';
  return status !== undefined ? `HTTP ${status} (${name})` : errorText(e);
}

export function isS3NotFound(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = e instanceof Error ? e.name : '';
  return status === 404 && name !== 'NoSuchBucket';
}
