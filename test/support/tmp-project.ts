// Builds a temp project directory from a plain object and runs the CLI in it, in-process.
import { tempDir } from './temp.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/cli.js';

export interface Project {
  readonly dir: string;
  write(files: Readonly<Record<string, string>>): Promise<void>;
  /** Runs `rethink …`; stdout/stderr are captured; stderr is plain lines (not a TTY). */
  cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `rethink run --json …`: the parsed document and a status per stage id. */
  run(...argv: string[]): Promise<{ code: number; doc: RunDoc; status: Record<string, string>; stderr: string }>;
}

export interface RunDoc {
  pipeline: string;
  stages: { id: string; plugin: string; key: string | null; status: string; seconds: number; outputs: Record<string, string>; reason?: string; remote?: true; attempts?: number }[];
  seconds: number;
  remote?: {
    url: string;
    readOnly: boolean;
    pulled: { records: number; objects: number; bytes: number };
    pushed: { records: number; objects: number; bytes: number };
    error?: string;
    untrusted?: { records: number; first: string };
  };
}

/** `env` adds to what the CLI sees (RETHINK_CACHE_DIR is the project's own cache/). */
export async function project(files: Readonly<Record<string, string>>, env: Readonly<Record<string, string>> = {}): Promise<Project> {
  const dir = await tempDir('rethink-test-');
  const write = async (fs: Readonly<Record<string, string>>) => {
    for (const [name, text] of Object.entries(fs)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  };
  await write(files);
  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      isTTY: false,
      cwd: dir,
      env: { RETHINK_CACHE_DIR: join(dir, 'cache'), ...env },
    });
    return { code, stdout, stderr };
  };
  return {
    dir,
    write,
    cli,
    async run(...argv) {
      const r = await cli('run', '--json', ...argv);
      let doc: RunDoc;
      try {
        doc = JSON.parse(r.stdout) as RunDoc;
      } catch {
        throw new Error(`run did not print JSON (code ${r.code}):\n${r.stdout}\n${r.stderr}`);
      }
      return { code: r.code, doc, status: Object.fromEntries(doc.stages.map((s) => [s.id, s.status])), stderr: r.stderr };
    },
  };
}

/** A sweep of the test plugin: download → corrupt (per p) → train (per p × seed) → aggregate (fan-in). */
export const SWEEP = `# a sweep: download → corrupt (per p) → train (per p × seed) → aggregate (fan-in)
seed: 1
vars:
  base: 10
stages:
  download:
    uses: ./plugins.mjs
    with: { value: "\${vars.base}" }
  corrupt:
    uses: ./plugins.mjs
    matrix: { p: [0, 0.5] }
    with: { value: "\${matrix.p}" }
    inputs: { x: download }
  train:
    uses: ./plugins.mjs
    matrix: { p: [0, 0.5], seed: [1, 2] }
    seed: "\${matrix.seed}"
    with: { value: 1 }
    inputs: { x: corrupt }
  aggregate:
    uses: ./plugins.mjs
    with: { value: 0 }
    inputs: { x: "train[*]" }
`;

/** Test plugins, written into each project as plugins.mjs. */
export const TEST_PLUGINS = `
const active = globalThis.__rethinkActive ??= { now: 0, max: 0, latches: new Map() };
export const stats = active;

/** Sums its params.value with the values of its inputs; optionally fails or waits for a peer. */
export const plugin = {
  name: 'emit', version: '1', description: 'emit a number',
  params: {
    type: 'object',
    properties: {
      value: { type: 'number' },
      ignored: { type: 'number', default: 0 },
      fail: { type: 'boolean', default: false },
      user_error: { type: 'boolean', default: false },
      meet: { type: 'string' },
      spin: { type: 'integer', default: 0 },
    },
    required: ['value'], additionalProperties: false,
  },
  inputs: { x: { many: true, optional: true } },
  outputs: { out: { kind: 'json' } },
  async run(ctx) {
    active.now++; active.max = Math.max(active.max, active.now);
    try {
      let sum = ctx.params.value;
      for (const a of ctx.inputs.x ?? []) sum += (await a.readJson()).value;
      if (ctx.params.meet) {
        // Two stages with the same meet name wait for each other: only completes if they overlap.
        const l = active.latches.get(ctx.params.meet) ?? (() => { let open; const p = new Promise((r) => (open = r)); const o = { n: 0, p, open }; active.latches.set(ctx.params.meet, o); return o; })();
        if (++l.n === 2) l.open();
        await l.p;
      }
      for (let i = 0; i < ctx.params.spin; i++) await new Promise((r) => setImmediate(r));
      await ctx.writeJson('out', { value: sum });
      if (ctx.params.fail) throw new Error('boom in ' + ctx.stage.id);
      if (ctx.params.user_error) throw Object.assign(new Error('checksum mismatch for https://example.org/x: expected 0abc, got 0def'), { userError: true });
    } finally { active.now--; }
  },
};

export const heavy = { ...plugin, name: 'heavy', cores: 'all' };
`;

export const HEAVY_PLUGIN = `export { heavy as plugin } from './plugins.mjs';\n`;

/** The compiled CLI entry (dist/src/cli/main.js), found from either test/ or dist/test/. */
export function compiledBin(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/test/') ? here.slice(0, here.indexOf('/dist/test/')) : here.slice(0, here.indexOf('/test/'));
  return join(root, 'dist', 'src', 'cli', 'main.js');
}
