// Where rethink keeps machine-level caches (compiled validators, tuned WebGPU tiles): the XDG base
// directory for caches, never inside node_modules or the installed package, which may be read-only,
// shared by several projects, or wiped by every install.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ENV, type EnvSource } from './env.js';

/** `$XDG_CACHE_HOME/rethink`, else `~/.cache/rethink` (a relative XDG_CACHE_HOME is ignored, as the spec says). */
export function userCacheDir(env: EnvSource = process.env): string {
  const xdg = ENV.xdgCacheHome.read(env);
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'rethink');
}
