// `rethink ui`'s HTTP server on node:http (a dozen GET routes need no framework): the token check off
// loopback, the API routes, the live event stream, and the built app for everything else. Every
// response carries nosniff; the app's pages a strict CSP. Errors are ApiError JSON; a bug is logged
// here and answered with a generic 500, never with its stack.
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LiveEvent } from '../../ui/api.js';
import { HttpError, apiError } from './http-error.js';
import type { LiveMonitor } from './live.js';
import { attachment, type Reply } from './reply.js';
import { answer } from './routes.js';
import { COMMON_HEADERS, CONTENT_SECURITY_POLICY, hostAllowed, requestToken, tokenCookie, tokenMatches } from './security.js';
import type { StaticFiles } from './static-files.js';
import type { UiData } from './ui-data.js';

export interface UiServerOptions {
  readonly data: UiData;
  readonly app: StaticFiles;
  readonly live?: LiveMonitor;
  /** Required on every request when set (the server listens beyond loopback). */
  readonly token?: string;
  /** Where unexpected errors are reported (the terminal), with their stack. */
  readonly log: (message: string) => void;
}

export function createUiServer(options: UiServerOptions): Server {
  return createServer((req, res) => {
    const api = (req.url ?? '/').startsWith('/api');
    handle(req, res, options).catch((e: unknown) => failed(res, e, api, options.log));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: UiServerOptions): Promise<void> {
  for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://rethink.invalid');
  } catch {
    throw new HttpError(400, 'E_BAD_REQUEST', 'a malformed request URL');
  }
  if (options.token !== undefined) {
    if (!tokenMatches(requestToken(req, url), options.token)) {
      throw new HttpError(401, 'E_TOKEN', 'this server needs its access token: open the URL it printed at start (…?token=…), or send Authorization: Bearer TOKEN');
    }
    if (url.searchParams.has('token')) res.setHeader('Set-Cookie', tokenCookie(options.token));
  } else if (!hostAllowed(req.headers.host)) {
    throw new HttpError(403, 'E_HOST', `this server answers requests to localhost only, not to "${req.headers.host ?? ''}" (rethink ui --host H serves other names, with a token)`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    throw new HttpError(405, 'E_METHOD', `${req.method ?? '?'}: this server only reads (GET)`);
  }
  const path = url.pathname;
  if (path === '/api/live') return events(req, res, options);
  if (path === '/api' || path.startsWith('/api/')) {
    const reply = await answer(path, { data: options.data, live: options.live, query: url.searchParams });
    if (reply === undefined) throw new HttpError(404, 'E_NOT_FOUND', `no API route ${path} (routes: see src/ui/api.ts)`);
    return send(req, res, reply);
  }
  const file = await options.app.get(path);
  res.writeHead(200, {
    'Content-Type': file.contentType,
    'Content-Length': file.body.length,
    'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...(file.contentType.startsWith('text/html') ? { 'Content-Security-Policy': CONTENT_SECURITY_POLICY } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const head = req.method === 'HEAD';
  switch (reply.kind) {
    case 'json': {
      const body = JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(head ? undefined : body);
      return;
    }
    case 'bytes': {
      res.writeHead(200, {
        'Content-Type': reply.contentType,
        'Content-Length': Buffer.byteLength(reply.body),
        'Cache-Control': 'no-store',
        ...(reply.filename === undefined ? {} : { 'Content-Disposition': attachment(reply.filename) }),
      });
      res.end(head ? undefined : reply.body);
      return;
    }
    case 'file': {
      res.writeHead(200, {
        'Content-Type': reply.contentType,
        'Content-Length': reply.bytes,
        'Content-Disposition': attachment(reply.filename),
        // Objects are named by their content: a key's output never changes.
        'Cache-Control': 'private, max-age=31536000, immutable',
      });
      if (head) {
        res.end();
        return;
      }
      const stream = createReadStream(reply.path);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
      return;
    }
  }
}

/** /api/live: server-sent events, one LiveEvent per `data:` line, a comment every 15 s to keep proxies open. */
function events(req: IncomingMessage, res: ServerResponse, options: UiServerOptions): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  const write = (e: LiveEvent) => res.write(`data: ${JSON.stringify(e)}\n\n`);
  write({ type: 'hello', at: new Date().toISOString() });
  const unsubscribe = options.live?.subscribe(write) ?? (() => {});
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  keepAlive.unref();
  req.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
}

function failed(res: ServerResponse, e: unknown, api: boolean, log: (message: string) => void): void {
  let status = 500;
  let body = apiError('E_INTERNAL', 'internal error: the server logged it on its terminal');
  if (e instanceof HttpError) {
    status = e.status;
    body = apiError(e.code, e.message);
  } else log(`rethink ui: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A page for the browser's address bar (the app not built, a missing token), JSON for the API.
  const text = api ? JSON.stringify(body) : errorPage(status, body.error.message);
  const type = api ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8';
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...(api ? {} : { 'Content-Security-Policy': "default-src 'none'" }) });
  res.end(text);
}

function errorPage(status: number, message: string): string {
  const escaped = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>\n<meta charset="utf-8"><title>rethink ui: ${status}</title>\n<h1>rethink ui: ${status}</h1>\n<p>${escaped}</p>\n`;
}
