// `rethink ui`'s server started in-process over a test project's cache, with a fetch helper.
import { join } from 'node:path';
import type { Project } from './tmp-project.js';
import { startUi, type RunningUi, type UiOptions } from '../../src/cli/ui/start.js';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly bytes: Buffer;
  /** The body parsed as JSON (throws when it is not). */
  json<T = Record<string, unknown>>(): T;
}

export interface TestUi {
  readonly ui: RunningUi;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

export async function uiOver(p: Project, options: Partial<UiOptions> & Pick<UiOptions, 'pipelines'>, output: string[] = []): Promise<TestUi> {
  const io = { stdout: (t: string) => void output.push(t), stderr: (t: string) => void output.push(t), isTTY: false, cwd: p.dir, env: { RETHINK_CACHE_DIR: join(p.dir, 'cache') } };
  const ui = await startUi(io, { live: { pollMs: 200, settleMs: 10 }, ...options });
  const base = `http://127.0.0.1:${ui.port}`;
  return {
    ui,
    async get(path, headers = {}) {
      const res = await fetch(`${base}${path}`, { headers });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      return { status: res.status, headers: res.headers, text, bytes, json: <T>() => JSON.parse(text) as T };
    },
    close: () => ui.close(),
  };
}
