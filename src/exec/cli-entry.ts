// How this installation starts itself in another process: the CLI entry and the Node flags a child
// should inherit. One place for the subprocess executor, the worker's warm children and the jobs
// distributed engines start. The entry is the one this process runs from: the bundled CLI
// (dist/src/bin/rethink.js, what `npx rethink` runs; scripts/build-cli.mjs) starts the bundled CLI,
// tsc's modules (dist/src/cli/main.js, as the tests import them) start theirs, and
// src/cli/main.ts under tsx starts itself.
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = cliEntry(import.meta.url);

/** The CLI entry beside the module at `here`: a bundle's chunk (…/bin/*.js), a compiled module or a source file. */
export function cliEntry(here: string): string {
  if (here.endsWith('.ts')) return fileURLToPath(new URL('../cli/main.ts', here));
  if (/\/bin\/[^/]+\.js$/.test(here)) return fileURLToPath(new URL('./rethink.js', here));
  return fileURLToPath(new URL('../cli/main.js', here));
}

/** This process's Node flags, less a debugger's port and the test runner's: those are this process's own. */
export function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(inspect|test)/.test(a));
}
