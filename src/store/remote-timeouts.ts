// How long a call to an S3 remote may take, from the environment: the settings' names, their parsing,
// and the words a timed-out call's message uses to name what ran out and which setting changes it.
// A directory remote has no such settings: it is a filesystem (possibly NFS), whose hangs the kernel's
// mount options govern, and a read there cannot be cancelled from Node anyway.
import { UserError } from '../util/user-error.js';
import { DEFAULT_S3_TIMEOUTS, type S3Timeouts } from '../util/s3.js';
import { parseDuration, showDuration } from '../util/duration.js';

/** Each timeout's environment variable, by the S3Timeouts field it sets. */
export const REMOTE_TIMEOUT_ENV = {
  connectMs: 'RETHINK_REMOTE_CONNECT_TIMEOUT',
  idleMs: 'RETHINK_REMOTE_IDLE_TIMEOUT',
  callMs: 'RETHINK_REMOTE_TIMEOUT',
} as const satisfies Record<keyof S3Timeouts, string>;

/** The defaults, with whatever the environment overrides; a malformed value is a user error. */
export function remoteTimeouts(env: NodeJS.ProcessEnv): S3Timeouts {
  const out: Record<keyof S3Timeouts, number> = { ...DEFAULT_S3_TIMEOUTS };
  for (const [field, variable] of Object.entries(REMOTE_TIMEOUT_ENV) as [keyof S3Timeouts, string][]) {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    const ms = parseDuration(raw) ?? NaN;
    if (!(ms >= 1) || !Number.isSafeInteger(Math.round(ms))) {
      throw UserError.of('E_BAD_TIMEOUT', `${variable}="${raw}" is not a duration`, `seconds, or "500ms", "30s", "2m", "1h" (at least 1ms; default ${showDuration(DEFAULT_S3_TIMEOUTS[field])})`);
    }
    out[field] = Math.round(ms);
  }
  return out;
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
  return `${what} (${REMOTE_TIMEOUT_ENV[which]})`;
}
