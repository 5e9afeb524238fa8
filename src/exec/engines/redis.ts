// The Redis behind `--queue`: its URL parsed into ioredis options (`redis://`, `rediss://` for TLS, a
// password and a database), shown without the password, and a first contact bounded in time, so that
// a Redis that is down, elsewhere or guarded by another password is a user error (exit 2) in seconds
// rather than ioredis's endless reconnecting.
import { Redis } from 'ioredis';
import { UserError } from '../../util/user-error.js';

export interface RedisTarget {
  /** The URL as the user may see it: the password replaced by `***`. */
  readonly shown: string;
  /** For every connection to it (BullMQ's, the cancel channel's); BullMQ needs maxRetriesPerRequest null. */
  readonly options: RedisSettings;
}

/** What ioredis and BullMQ are given for every connection (a subset of both their options types). */
export interface RedisSettings {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: { readonly servername: string };
  readonly maxRetriesPerRequest: null;
  readonly connectTimeout: number;
  readonly retryStrategy: (times: number) => number | null;
}

/** How long the first contact may take before it is an error (connect, TLS, AUTH, PING). */
export const REDIS_CONNECT_DEADLINE_MS = 5_000;

const URL_HINT = 'a queue URL is redis://[:password@]host[:port][/db] or rediss://… for TLS, e.g. redis://127.0.0.1:6379/0';

/** `source` names where the URL came from (`--queue`, `RETHINK_QUEUE`) in the error. */
export function redisTarget(url: string, source: string): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw UserError.of('E_BAD_QUEUE', `${source} "${url}" is not a URL`, URL_HINT);
  }
  const tls = parsed.protocol === 'rediss:';
  if (!tls && parsed.protocol !== 'redis:') throw UserError.of('E_BAD_QUEUE', `${source} "${url}": the scheme must be redis: or rediss:, not ${parsed.protocol}`, URL_HINT);
  const db = parsed.pathname === '' || parsed.pathname === '/' ? 0 : Number(parsed.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0) throw UserError.of('E_BAD_QUEUE', `${source} "${url}": the database must be a number (/0), not ${parsed.pathname.slice(1)}`, URL_HINT);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const shownUrl = new URL(parsed.href);
  if (password !== undefined) shownUrl.password = '***';
  return {
    shown: shownUrl.href,
    options: {
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port === '' ? 6379 : Number(parsed.port),
      db,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tls ? { tls: { servername: parsed.hostname } } : {}),
      maxRetriesPerRequest: null,
      connectTimeout: REDIS_CONNECT_DEADLINE_MS,
      // Past the first contact, a Redis that restarts is waited for: a short blip must not fail a run.
      retryStrategy: (times: number) => Math.min(times * 200, 2_000),
    },
  };
}

/** Connects, authenticates and PINGs once; a user error naming the URL and what to check if that fails. */
export async function probeRedis(target: RedisTarget, deadlineMs = REDIS_CONNECT_DEADLINE_MS): Promise<void> {
  const client = new Redis({ ...target.options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let last: Error | undefined;
  client.on('error', (e: Error) => (last = e));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs / 1000} s`)), deadlineMs);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), deadline]);
  } catch (e) {
    throw unreachable(target, last ?? (e as Error), e as Error);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

function unreachable(target: RedisTarget, cause: Error, outer: Error): UserError {
  const why = [cause.message, outer.message].find((m) => /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(m));
  if (why !== undefined) {
    const given = target.options.password === undefined ? 'the URL gives none' : 'the URL gives one';
    return UserError.of('E_QUEUE_AUTH', `the queue's Redis at ${target.shown} refused the password: ${why}`, `${given}: put the server's requirepass in the URL, redis://:PASSWORD@host:port/db`);
  }
  const { host, port } = target.options;
  return UserError.of(
    'E_QUEUE_UNREACHABLE',
    `cannot reach the queue's Redis at ${target.shown}: ${cause.message}`,
    `is redis-server running on ${host}:${port}, and listening on an address this machine can reach (its bind, protected-mode, a firewall)? for TLS use rediss://`,
  );
}
