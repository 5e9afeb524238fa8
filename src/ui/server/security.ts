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

/** The token a request carries: `Authorization: Bearer T` or `?token=T`. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  const bearer = auth !== undefined && /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '').trim() : undefined;
  return bearer ?? url.searchParams.get('token') ?? undefined;
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
