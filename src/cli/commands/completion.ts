// `rethink completion bash|zsh|fish`: prints a completion script for that shell (commands, flags,
// stage names); `rethink completion stages [pipeline]`: the stage names the scripts offer.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import type { CliIO, Command } from '../io.js';
import { parseFlags } from '../args.js';
import { UserError } from '../../util/user-error.js';
import { resolvePipeline } from '../workspace.js';
import { completionSpec, type CommandEntryLike } from '../completion/spec.js';
import { bashScript } from '../completion/bash.js';
import { zshScript } from '../completion/zsh.js';
import { fishScript } from '../completion/fish.js';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** The command, given the command table it completes (cli.ts's). */
export function completion(commands: Readonly<Record<string, CommandEntryLike>>): Command {
  return async (argv, io) => {
    const { positionals } = parseFlags('completion', argv, {});
    const [what, pipeline, ...extra] = positionals;
    if (what === 'stages' && extra.length === 0) {
      io.stdout((await stageNames(io, pipeline)).map((s) => `${s}\n`).join(''));
      return 0;
    }
    if (what !== undefined && what in SHELLS && pipeline === undefined) {
      io.stdout(SHELLS[what as keyof typeof SHELLS](await completionSpec(commands)));
      return 0;
    }
    throw UserError.of(
      'E_BAD_FLAG',
      what === undefined ? 'rethink completion: which shell?' : `rethink completion: "${positionals.join(' ')}" is not a shell`,
      'rethink completion bash|zsh|fish prints the script, e.g. in ~/.bashrc: source <(rethink completion bash)',
    );
  };
}

/**
 * The stage names of a pipeline, from its YAML alone (no plugin is imported: completion must be
 * quick and run nobody's code). Nothing when the file is missing or does not parse.
 */
async function stageNames(io: CliIO, pipeline: string | undefined): Promise<string[]> {
  try {
    const path = resolvePipeline(io, pipeline);
    const doc: unknown = parse(await readFile(isAbsolute(path) ? path : resolve(io.cwd, path), 'utf8'));
    const stages = (doc as { stages?: unknown } | null)?.stages;
    return stages !== null && typeof stages === 'object' && !Array.isArray(stages) ? Object.keys(stages) : [];
  } catch {
    return [];
  }
}
