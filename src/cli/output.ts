// How much a command says and whether in color, from the output flags every command takes
// (--quiet, --verbose, --no-color) and the conventions of NO_COLOR (no-color.org) and FORCE_COLOR.
import type { CliIO } from './io.js';
import { ENV } from '../util/env.js';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface OutputMode {
  readonly verbosity: Verbosity;
  readonly color: boolean;
}

/** Parsed flags that hold the output flags (parseFlags adds them to every command's). */
interface OutputValues {
  readonly quiet?: boolean | undefined;
  readonly verbose?: boolean | undefined;
  readonly 'no-color'?: boolean | undefined;
}

export function outputMode(values: OutputValues, io: Pick<CliIO, 'env' | 'isTTY'>): OutputMode {
  const verbosity: Verbosity = values.quiet === true ? 'quiet' : values.verbose === true ? 'verbose' : 'normal';
  return { verbosity, color: useColor(values['no-color'] === true, io) };
}

/**
 * The flag wins, then NO_COLOR (any non-empty value), then FORCE_COLOR (any value but 0 or false,
 * as chalk and colorette read it), then whether stderr, where progress is drawn, is a terminal.
 */
export function useColor(noColorFlag: boolean, io: Pick<CliIO, 'env' | 'isTTY'>): boolean {
  if (noColorFlag) return false;
  if ((ENV.noColor.read(io.env) ?? '') !== '') return false;
  const force = ENV.forceColor.read(io.env);
  if (force !== undefined) return force !== '0' && force !== 'false';
  return io.isTTY;
}
