// Facts about where a stage ran, recorded in every run record.
import { arch, cpus, platform, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JsonValue } from '../plugin/types.js';

let cached: Record<string, JsonValue> | undefined;

export function environment(): Record<string, JsonValue> {
  cached ??= {
    rethink: rethinkVersion(),
    node: process.version,
    platform: `${platform()}-${arch()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
  };
  return cached;
}

/** The name rethink is published under on npm (`rethink` itself is taken); its command stays `rethink`. */
export const PACKAGE_NAME = 'rethink-ml';

/** The package's root folder; works from src/ (tsx) and from dist/src/ (compiled). */
export function packageRoot(): string {
  for (const rel of ['../../', '../../../']) {
    const url = new URL(rel, import.meta.url);
    try {
      if ((JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as { name?: string }).name === PACKAGE_NAME) return fileURLToPath(url);
    } catch {
      // try the next candidate
    }
  }
  return process.cwd();
}

/** The package version. */
export function rethinkVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === PACKAGE_NAME) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

/**
 * The git commit the folder is at, and whether tracked files differ from it (`dirty`), for run
 * records: which version of a project computed a result. Undefined outside a repository or without
 * git. The executor asks once per run, and only when a stage runs (no-op runs never ask).
 */
export async function gitState(dir: string): Promise<Record<string, JsonValue> | undefined> {
  // Loaded here, not at the top: a no-op rerun never spawns git, nor pays for child_process.
  const [{ execFile }, { promisify }] = await Promise.all([import('node:child_process'), import('node:util')]);
  const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: dir, timeout: 5000, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }).then((r) => r.stdout.trim());
  try {
    const [commit, changes] = await Promise.all([git('rev-parse', 'HEAD'), git('status', '--porcelain', '--untracked-files=no')]);
    return { commit, dirty: changes !== '' };
  } catch {
    return undefined; // not a repository, no commit yet, or no git
  }
}
