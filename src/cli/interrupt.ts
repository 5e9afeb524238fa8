// Ctrl-C (SIGINT), SIGTERM and SIGHUP stop a command the same way. The first one aborts its signal:
// running stages are stopped and left behind (nothing they wrote is kept), leases are released, the
// report is printed, and the command exits with 128 + the signal's number (130, 143, 129), as shells
// report a process that signal ended. A second one, while the first is being handled, exits at once
// with the first one's code, even if stopping hangs: nothing unpublished is ever read, and the leases
// still held name a process that no longer runs, which the next run takes over at once
// (store/leases.ts).

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

type StopSignal = keyof typeof EXIT_CODES;

const STOP_SIGNALS = Object.keys(EXIT_CODES) as readonly StopSignal[];

export class Interrupt {
  private readonly controller = new AbortController();
  private first: StopSignal | undefined;
  private readonly handlers = new Map<StopSignal, () => void>();

  /** Handles the signals from now until `dispose`; `say` tells the user what a signal did. */
  constructor(private readonly say: (line: string) => void) {
    for (const name of STOP_SIGNALS) {
      const handler = (): void => this.received(name);
      this.handlers.set(name, handler);
      process.on(name, handler);
    }
  }

  /** Aborts at the first signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** 128 + the number of the first signal received; undefined while none was. */
  get exitCode(): number | undefined {
    return this.first === undefined ? undefined : EXIT_CODES[this.first];
  }

  /**
   * Back to Node's default, where a signal ends the process, unless one was received: the command is
   * then stopping until the process ends, and a second signal still exits at once with its code.
   */
  dispose(): void {
    if (this.first !== undefined) return;
    for (const [name, handler] of this.handlers) process.removeListener(name, handler);
    this.handlers.clear();
  }

  private received(name: StopSignal): void {
    if (this.first === undefined) {
      this.first = name;
      this.say(`rethink: ${name}: stopping (a second signal exits at once)`);
      this.controller.abort(new Error(`interrupted by ${name}`));
      return;
    }
    this.say(`rethink: ${name} again: exiting now; the next run takes over this process's leases`);
    process.exit(EXIT_CODES[this.first]);
  }
}
