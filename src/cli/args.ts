// Flag parsing on node:util's parseArgs; a bad flag is a user error (exit 2) that names valid ones.
// Every flag carries its own line of help, so `rethink COMMAND --help` lists exactly what it takes.
import { parseArgs } from 'node:util';
import { UserError } from '../util/user-error.js';
import { closest } from '../util/closest.js';
import { ENV, type EnvSource } from '../util/env.js';

/** A flag: parseArgs's settings, plus its help (parseArgs ignores the extra fields). */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** What the flag does, for `--help`. */
  readonly help: string;
  /** The value's placeholder in `--help` (string flags): `--jobs N`. */
  readonly value?: string;
}
export type Flags = Readonly<Record<string, FlagSpec>>;

/** `--help` or `-h` among a command's arguments: the command prints its help instead of running. */
export class HelpRequest extends Error {
  override readonly name = 'HelpRequest';
  constructor(
    readonly command: string,
    readonly flags: Flags,
  ) {
    super(`help for rethink ${command}`);
  }
}

/** How much a command says, and in color or not: every command takes these (see output.ts). */
export const outputFlags = {
  quiet: { type: 'boolean', short: 'q', help: 'say only errors, warnings and the final summary' },
  verbose: { type: 'boolean', help: "say more: stream the stages' log lines" },
  'no-color': { type: 'boolean', help: 'no colors (as NO_COLOR=1 does; FORCE_COLOR=1 forces them)' },
} as const satisfies Flags;

/** Parses a command's flags, the output flags every command takes included; `--help` throws a HelpRequest. */
export function parseFlags<O extends Flags>(command: string, argv: readonly string[], own: O) {
  const options = { ...own, ...outputFlags };
  const end = argv.indexOf('--');
  if ((end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h')) throw new HelpRequest(command, options);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('. To specify')[0]!;
    const flag = /'(--?[^' ]+)'/.exec(msg)?.[1];
    const names = Object.keys(options).map((o) => `--${o}`);
    const guess = flag ? closest(flag, names) : undefined;
    throw UserError.of('E_BAD_FLAG', `rethink ${command}: ${msg}`, `${guess ? `did you mean ${guess}? ` : ''}flags: ${names.join(', ')}`);
  }
  // (parseArgs's inferred type for a generic table is too loose to name the two.)
  const { quiet, verbose } = parsed.values as Readonly<Record<string, unknown>>;
  if (quiet === true && verbose === true) {
    throw UserError.of('E_BAD_FLAG', `rethink ${command}: --quiet and --verbose contradict each other`, 'give one of them: --quiet says only errors, warnings and the summary; --verbose adds the stages\' logs');
  }
  return parsed;
}

/** The flags as aligned help lines: `  -j, --jobs N  how many cores …`, with `(repeatable)` where they are. */
export function flagHelp(flags: Flags): string {
  const heads = Object.entries(flags).map(([name, f]) => `${f.short ? `-${f.short}, ` : '    '}--${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`);
  const width = Math.max(0, ...heads.map((h) => h.length));
  return Object.values(flags)
    .map((f, i) => `  ${heads[i]!.padEnd(width)}  ${f.help}${f.multiple ? ' (repeatable)' : ''}`)
    .join('\n');
}

export function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw UserError.of('E_BAD_FLAG', `--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** Shared by commands that load a pipeline. */
export const pipelineFlags = {
  set: { type: 'string', multiple: true, value: 'PATH=YAML', help: 'override a param, var, seed or matrix axis: vars.epochs=5, train.with.lr=0.05, seed=3' },
  'cache-dir': { type: 'string', value: 'DIR', help: 'the local cache (default ./cache, or RETHINK_CACHE_DIR)' },
  remote: { type: 'string', value: 'URL', help: 'a shared cache behind the local one: s3://bucket/prefix or a directory (or RETHINK_REMOTE; timeouts: rethink --help)' },
  'remote-read-only': { type: 'boolean', help: 'take results from the remote, never upload' },
  json: { type: 'boolean', help: 'one JSON document on stdout, versioned by its "format" field (1)' },
} as const satisfies Flags;

/** `--only GLOB`: shared by the commands that select instances. */
export const onlyFlag = { type: 'string', multiple: true, value: 'GLOB', help: "instances by id, stage name or glob ('train[p=0.2,*')" } as const satisfies FlagSpec;

/** `--backend NAME`: shared by run and verify. */
export const backendFlag = { type: 'string', value: 'NAME', help: 'the tfjs backend for stages that leave it open: auto, native, wasm, cpu, webgpu, tfjs-node, tfjs-node-gpu (default: RETHINK_BACKEND, else auto)' } as const satisfies FlagSpec;

/**
 * The backend for stages whose `backend` param is null (the default): `--backend NAME`, else
 * RETHINK_BACKEND, else none (each stage starts the first that works: auto). It travels as a value,
 * through the executor's options and job specs, to each stage's `ctx.backend`. The backend is
 * recorded in each run record's provenance, not in the key, so results are shared across backends.
 */
export async function backendChoice(flag: string | undefined, env: EnvSource): Promise<string | undefined> {
  const fromEnv = ENV.backend.read(env)?.trim().toLowerCase();
  const [name, source] = flag !== undefined ? [flag, '--backend'] : [fromEnv === '' ? undefined : fromEnv, ENV.backend.name];
  if (name === undefined) return undefined;
  const { backendNames, describeBackends } = await import('../backends/select.js');
  if (!(backendNames as readonly string[]).includes(name)) {
    throw UserError.of(flag !== undefined ? 'E_BAD_FLAG' : 'E_BAD_ENV', `${source} "${name}" is not a backend`, `backends:\n${describeBackends()}`);
  }
  return name;
}
