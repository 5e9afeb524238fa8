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

/** The package's root folder; works from src/ (tsx) and from dist/src/ (compiled). */
export function packageRoot(): string {
  for (const rel of ['../../', '../../../']) {
    const url = new URL(rel, import.meta.url);
    try {
      if ((JSON.parse(readFileSync(new URL('package.json', url), 'utf8')) as { name?: string }).name === 'rethink') return fileURLToPath(url);
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
      if (pkg.name === 'rethink') return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}
