// The `rethink` executable's process: runs the command its arguments name, and exits with its status
// once the output is written. Imported by main.ts, after Node's compile cache is on.
import { main } from './cli.js';
import { processIO } from './io.js';

/** Whether the process ends on purpose: the command answered, or its output pipe closed. */
let ending = false;

// `rethink dag | head`: a closed pipe ends the command quietly, as with any Unix tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  ending = true;
  process.exit(0);
});

// Node exits with status 0 once nothing is left to wait on, whether or not the command finished: a
// command that never settled must not pass for one that succeeded. (A second Ctrl-C exits on purpose,
// with its own status: see interrupt.ts.)
process.on('exit', (code) => {
  if (ending || code !== 0) return;
  process.stderr.write('rethink: internal error: the command never finished (it waited on a promise that nothing could settle)\n');
  process.exitCode = 1;
});

main(process.argv.slice(2), processIO()).then(
  (code) => exitWhenWritten(code),
  (e: unknown) => {
    process.stderr.write(`rethink: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exitWhenWritten(1);
  },
);

/**
 * The command has answered: exit once its output is written. Work it left behind (a plugin that
 * ignored its stop signal at a timeout or an interrupt and still waits on a timer) must not keep the
 * process alive.
 */
function exitWhenWritten(code: number): void {
  ending = true;
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
