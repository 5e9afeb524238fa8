// Flag parsing on node:util's parseArgs; a bad flag is a user error (exit 2) that names valid ones.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../config/diagnostic.js';
import { closest } from '../util/closest.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(command: string, argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('. To specify')[0]!;
    const flag = /'(--?[^' ]+)'/.exec(msg)?.[1];
    const names = Object.keys(options).map((o) => `--${o}`);
    const guess = flag ? closest(flag, names) : undefined;
    throw UserError.of('E_BAD_FLAG', `rethink ${command}: ${msg}`, `${guess ? `did you mean ${guess}? ` : ''}flags: ${names.join(', ')}`);
  }
}

export function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw UserError.of('E_BAD_FLAG', `--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** Shared by commands that load a pipeline. */
export const pipelineFlags = {
  set: { type: 'string', multiple: true },
  'cache-dir': { type: 'string' },
  remote: { type: 'string' },
  'remote-read-only': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/**
 * `--backend NAME`: stages whose `backend` param is null (the default) read RETHINK_BACKEND. The
 * backend is recorded in each run record's provenance, not in the key, so results are shared
 * across backends.
 */
export async function applyBackendFlag(name: string | undefined): Promise<void> {
  if (name === undefined) return;
  const { backendNames, describeBackends } = await import('../backends/select.js');
  if (!(backendNames as readonly string[]).includes(name)) throw UserError.of('E_BAD_FLAG', `--backend "${name}" is not a backend`, `backends:\n${describeBackends()}`);
  process.env.RETHINK_BACKEND = name;
}
