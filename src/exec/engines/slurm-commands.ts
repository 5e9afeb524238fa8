// Running Slurm's client commands (sbatch, squeue, scontrol, scancel, sacct) with the coordinator's
// environment (SLURM_CONF, and everything a job inherits through sbatch's default --export=ALL).
// A command that is not installed is a user error: `--executor slurm` runs where Slurm's clients are.
import { execFile } from 'node:child_process';
import { UserError } from '../../util/user-error.js';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one Slurm command to completion; rejects only when it cannot start at all. */
export type SlurmCommand = (command: string, args: readonly string[]) => Promise<CommandResult>;

/** How long one Slurm command may take before it counts as failed (a controller that does not answer). */
const COMMAND_TIMEOUT_MS = 60_000;

export function slurmCommand(env: Readonly<Record<string, string | undefined>>): SlurmCommand {
  const childEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  return (command, args) =>
    new Promise((resolve, reject) => {
      execFile(command, args, { env: childEnv, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        // A number: its exit status; a string: it did not start (ENOENT: not installed); null: a signal (our timeout).
        const code: unknown = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') return reject(missing(command));
        if (typeof code === 'string') return reject(error);
        resolve({ code: error === null ? 0 : typeof code === 'number' ? code : 124, stdout, stderr });
      });
    });
}

/** The user error for a Slurm command that is not on PATH. */
export function missing(command: string): UserError {
  return UserError.of(
    'E_SLURM_MISSING',
    `--executor slurm needs ${command} on PATH, and it is not there`,
    "run rethink on a machine with Slurm's client commands (a cluster's login node), or install them (Debian/Ubuntu: apt-get install slurm-client; a cluster's own Slurm module: module load slurm)",
  );
}

/** The first line of a command's complaint, for messages. */
export function complaint(result: CommandResult): string {
  return (result.stderr.trim() || result.stdout.trim() || `exit ${result.code}`).split('\n').join('; ');
}
