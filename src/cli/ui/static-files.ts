// The built browser app (dist/ui/, made by `npm run build`): its files by path, and index.html for
// every other path, which the app routes itself. Nothing outside dist/ui is ever served: paths with
// `..`, encoded slashes or backslashes are refused, and symlinks that lead out are not followed.
import { lstat, readFile, realpath } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { HttpError } from './http-error.js';

/** The types the built app is made of (Vite's output); anything else is served as bytes. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** Vite's hashed assets never change under their name. */
  readonly immutable: boolean;
}

export class StaticFiles {
  constructor(readonly root: string) {}

  /** The file for a URL path, or index.html for the app's own routes. */
  async get(pathname: string): Promise<StaticFile> {
    const index = join(this.root, 'index.html');
    if (!(await isFile(index))) {
      throw new HttpError(500, 'E_NO_APP', `the browser app is not built (${index} is missing): run \`npm run build\` in the rethink package`);
    }
    const file = await this.resolve(pathname);
    if (file === undefined) return { body: await readFile(index), contentType: TYPES['.html']!, immutable: false };
    return { body: await readFile(file), contentType: TYPES[extname(file)] ?? 'application/octet-stream', immutable: file.includes(`${sep}assets${sep}`) };
  }

  private async resolve(pathname: string): Promise<string | undefined> {
    const segments = pathname.split('/').filter(Boolean);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return undefined;
    }
    if (decoded.length === 0 || decoded.some((s) => s === '..' || s === '.' || /[/\\\0]/.test(s))) return undefined;
    const path = join(this.root, ...decoded);
    if (!(await isFile(path))) return undefined;
    const [real, root] = await Promise.all([realpath(path), realpath(this.root)]);
    return real.startsWith(root + sep) ? real : undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isFile() === true;
}
