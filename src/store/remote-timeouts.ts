// How long a call to an S3 remote may take, from the environment: the settings' names, their parsing,
// and the words a timed-out call's message uses to name what ran out and which setting changes it.
// A directory remote has no such settings: it is a filesystem (possibly NFS), whose hangs the kernel's
// mount options govern, and a read there cannot be cancelled from Node anyway.
import type { S3Timeouts } from '../util/s3.js';
import { showDuration } from '../util/duration.js';
import { ENV, type EnvSource, type EnvVariable } from '../util/env.js';

/** Each timeout's environment variable, by the S3Timeouts field it sets. */
const REMOTE_TIMEOUT_ENV = {
  connectMs: ENV.remoteConnectTimeout,
  idleMs: ENV.remoteIdleTimeout,
  callMs: ENV.remoteTimeout,
} as const satisfies Record<keyof S3Timeouts, EnvVariable<number>>;

/** The defaults (util/env.ts declares them), with whatever the environment overrides; a malformed value is a user error. */
export function remoteTimeouts(env: EnvSource): S3Timeouts {
  return { connectMs: ENV.remoteConnectTimeout.read(env), idleMs: ENV.remoteIdleTimeout.read(env), callMs: ENV.remoteTimeout.read(env) };
}


/** What ran out, after how long, and the setting that changes it: "no answer within the 30s idle timeout (RETHINK_REMOTE_IDLE_TIMEOUT)". */
export function timeoutText(which: keyof S3Timeouts, timeouts: S3Timeouts): string {
  const ms = showDuration(timeouts[which]);
  const what =
    which === 'connectMs'
      ? `no connection within the ${ms} connect timeout`
      : which === 'idleMs'
        ? `nothing sent or received for the ${ms} idle timeout`
        : `no answer within the ${ms} deadline for one call, retries included`;
  return `${what} (${REMOTE_TIMEOUT_ENV[which].name})`;
}
