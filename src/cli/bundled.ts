// The pipelines shipped with rethink (pipelines/*.yaml in the package), runnable by name from any
// directory: `rethink run quickstart`, `rethink run figure1`. Their relative paths (schema, anchors)
// resolve inside the package; what they compute goes to the caller's cache like any other run.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../exec/environment.js';

const EXT = '.yaml';

function dir(): string {
  return join(packageRoot(), 'pipelines');
}

const FIRST = 'quickstart';

/** The bundled pipelines' names: the quick-start first, then the rest in order (figure1, figure2, …). */
export function bundledPipelines(): readonly string[] {
  let files: string[];
  try {
    files = readdirSync(dir());
  } catch {
    return [];
  }
  const names = files.filter((f) => f.endsWith(EXT)).map((f) => f.slice(0, -EXT.length));
  return names.sort((a, b) => Number(b === FIRST) - Number(a === FIRST) || a.localeCompare(b));
}

/** The bundled pipeline's file for a bare `name` (`figure1`, not a path or a file name), or undefined. */
export function bundledPipelinePath(name: string): string | undefined {
  if (!bundledPipelines().includes(name)) return undefined;
  const file = join(dir(), `${name}${EXT}`);
  return existsSync(file) ? file : undefined;
}
