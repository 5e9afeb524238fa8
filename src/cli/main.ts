#!/usr/bin/env node
// The `rethink` executable.
import { main } from './cli.js';
import { processIO } from './io.js';

// `rethink dag | head`: a closed pipe ends the command quietly, as with any Unix tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2), processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`rethink: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
