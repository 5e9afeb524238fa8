// Facts about where a stage ran, recorded in every run record.
import { arch, cpus, platform, release } from 'node:os';
import { readFileSync } from 'node:fs';
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

/** The package version; works from src/ (tsx) and from dist/src/ (compiled). */
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
