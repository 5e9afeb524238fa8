// What shell completion offers, read from the CLI itself: the command table, and each command's
// flags from the very table its parser and `--help` use (asked with `--help`), so that nothing here
// is a second list to keep in sync.
import type { Command, CliIO } from '../io.js';
import { HelpRequest, type Flags } from '../args.js';

/** One command as the command table in cli.ts describes it. */
export interface CommandEntryLike {
  /** What follows the name: `STAGE [pipeline]`, `A B [pipeline]`, `[pipeline]`… */
  readonly args: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
  readonly internal?: true;
}

/** What a flag's value is, for completing it: stage names, a path, or free text (nothing offered). */
export type ValueKind = 'stage' | 'path' | 'text';

export interface FlagCompletion {
  readonly name: string;
  readonly short?: string;
  readonly help: string;
  /** Undefined for a boolean flag. */
  readonly value?: ValueKind;
  /** Given more than once (`--set a=1 --set b=2`). */
  readonly multiple?: true;
}

export interface CommandCompletion {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagCompletion[];
  /** Its first arguments are stage names (`show STAGE`, `diff A B`); the others take a pipeline file. */
  readonly stageArgs: number;
}

/** The public commands (not the executors' internal ones) with their flags. */
export async function completionSpec(commands: Readonly<Record<string, CommandEntryLike>>): Promise<readonly CommandCompletion[]> {
  const out: CommandCompletion[] = [];
  for (const [name, entry] of Object.entries(commands)) {
    if (entry.internal) continue;
    const flags = await flagsOf(name, await entry.load());
    out.push({ name, summary: entry.summary, flags: flagList(flags), stageArgs: stageArgs(entry.args) });
  }
  return out;
}

/** A command's flag table: `--help` makes its parser hand the table over before the command does anything. */
async function flagsOf(name: string, command: Command): Promise<Flags> {
  const silent: CliIO = { stdout: () => undefined, stderr: () => undefined, isTTY: false, cwd: process.cwd(), env: {} };
  try {
    await command(['--help'], silent);
  } catch (e) {
    if (e instanceof HelpRequest) return e.flags;
    throw e;
  }
  throw new Error(`rethink ${name} --help did not reach its flag parser`);
}

function flagList(flags: Flags): FlagCompletion[] {
  return Object.entries(flags).map(([name, f]) => ({
    name,
    ...(f.short === undefined ? {} : { short: f.short }),
    help: f.help,
    ...(f.type === 'string' ? { value: valueKind(f.value) } : {}),
    ...(f.multiple === true ? { multiple: true as const } : {}),
  }));
}

/** From the placeholder `--help` shows: `GLOB` selects instances by stage name; `DIR`, `FILE`: a path. */
function valueKind(placeholder: string | undefined): ValueKind {
  if (placeholder === 'GLOB') return 'stage';
  if (placeholder === 'DIR' || placeholder === 'FILE') return 'path';
  return 'text';
}

/** `STAGE [pipeline]` → 1, `A B [pipeline]` → 2 (diff's two stage ids), `[pipeline]` → 0. */
function stageArgs(args: string): number {
  const words = args.split(' ');
  const before = words.findIndex((w) => w.startsWith('['));
  const required = before === -1 ? words.filter(Boolean) : words.slice(0, before);
  return required.filter((w) => w === 'STAGE' || /^[A-Z]$/.test(w)).length;
}
