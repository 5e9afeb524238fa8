// How this installation starts itself in another process: the CLI entry (dist/src/cli/main.js, or
// src/cli/main.ts under tsx) and the Node flags a child should inherit. One place for the
// subprocess executor, the worker's warm children and the jobs distributed engines start.
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL(`../cli/main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** This process's Node flags, less a debugger's port and the test runner's: those are this process's own. */
export function childExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(inspect|test)/.test(a));
}
