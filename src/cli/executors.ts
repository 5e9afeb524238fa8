// `--executor NAME` (or RETHINK_EXECUTOR): where `rethink run` runs its stages. `local` in its own
// process (the default); `subprocess` each in a child `rethink exec` that a timeout or Ctrl-C can
// always stop. Issue 15 adds `slurm` and `queue` behind the same Runner interface.
import { UserError } from '../config/diagnostic.js';
import { InProcessRunner, type Runner } from '../exec/runner.js';
import type { Plan } from '../plan/plan.js';
import type { LocalStore } from '../store/local.js';
import type { TieredStore } from '../store/tiered.js';
import { localOf } from './workspace.js';
import type { FlagSpec } from './args.js';

export const EXECUTOR_ENV = 'RETHINK_EXECUTOR';
export const EXECUTORS = ['local', 'subprocess'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export const executorFlag = {
  type: 'string',
  value: 'NAME',
  help: `where stages run: local (in this process, the default) or subprocess (each in a child \`rethink exec\`: a stage that blocks or crashes cannot stop the run) (or ${EXECUTOR_ENV})`,
} as const satisfies FlagSpec;

/** The flag's value, else the environment's, else `local`; anything else is a user error naming its source. */
export function executorName(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): ExecutorName {
  const fromEnv = env[EXECUTOR_ENV];
  const [value, source] = flag !== undefined ? [flag, '--executor'] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, EXECUTOR_ENV] : ['local', ''];
  if ((EXECUTORS as readonly string[]).includes(value)) return value as ExecutorName;
  throw UserError.of('E_BAD_FLAG', `${source} "${value}" is not an executor`, `executors: ${EXECUTORS.join(', ')}`);
}

export async function runnerFor(name: ExecutorName, plan: Plan, store: LocalStore | TieredStore): Promise<Runner> {
  switch (name) {
    case 'local':
      return new InProcessRunner(store);
    case 'subprocess': {
      const { SubprocessRunner } = await import('../exec/subprocess.js');
      return new SubprocessRunner({ plan, store, cacheDir: localOf(store).location });
    }
  }
}
