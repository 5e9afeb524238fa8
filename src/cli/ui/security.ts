// What keeps `rethink ui` from reading or showing more than it should: who may ask (a token off
// loopback), which names may reach the file system (keys, output names), and the headers every
// response carries (no MIME sniffing, a strict Content-Security-Policy for the app).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { badRequest } from './http-error.js';

/** Whether binding to `host` exposes the server to this machine only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** A fresh access token: 128 random bits, URL-safe. */
export const newToken = (): string => randomBytes(16).toString('base64url');

/** The cookie that carries the token once a page was opened with `?token=`: its scripts, styles and API calls need it too. */
export const TOKEN_COOKIE = 'rethink_ui_token';

/** The token a request carries: `Authorization: Bearer T`, `?token=T`, or the cookie set by the first. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  const bearer = auth !== undefined && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
  const cookie = (req.headers.cookie ?? '').split(';').map((c) => c.trim()).find((c) => c.startsWith(`${TOKEN_COOKIE}=`))?.slice(TOKEN_COOKIE.length + 1);
  return bearer ?? url.searchParams.get('token') ?? cookie ?? undefined;
}

/** Set on a request that brought the token in its URL. */
export const tokenCookie = (token: string): string => `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;

/**
 * Without a token (on loopback), only requests addressed to a loopback name are answered: a page
 * elsewhere that rebinds its own DNS name to 127.0.0.1 would otherwise read the API from the
 * user's browser. The Host header names what the browser thinks it talks to.
 */
export function hostAllowed(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const name = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : hostHeader.replace(/:\d+$/, '');
  return isLoopback(name);
}

/**
 * Compares in constant time. Both sides are hashed first so that their lengths, which
 * `timingSafeEqual` requires to be equal, leak nothing either.
 */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const CACHE_KEY = /^[0-9a-f]{64}$/;

/** A run's cache key from a URL: exactly 64 lowercase hex digits, or a 400 (never a path). */
export function parseKey(raw: string): string {
  if (!CACHE_KEY.test(raw)) throw badRequest(`"${raw.slice(0, 80)}" is not a cache key: keys are 64 hexadecimal digits (rethink runs --json lists them)`);
  return raw;
}

/** The app's scripts, styles, images and requests: its own origin only (charts draw to canvas/SVG inline). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Vega writes style attributes on the elements it draws.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every response. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
