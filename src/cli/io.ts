// The CLI's view of the outside world, injectable so tests can run commands in-process.
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const processIO = (): CliIO => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: process.stderr.isTTY === true,
  cwd: process.cwd(),
  env: process.env,
});

export type Command = (argv: readonly string[], io: CliIO) => Promise<number>;

/** While a command's stdout is one JSON document: what plugins `console.log` goes to stderr. Returns the undo. */
export function consoleToStderr(): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  return () => Object.assign(console, saved);
}
