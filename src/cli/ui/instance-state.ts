// One instance's state as the UI shows it: `rethink status`'s up to date / will run, refined by what
// the live view knows (running now, failed while the server watched) and by whether it ever ran.
import type { InstanceState, LiveProgress } from '../../ui/api.js';
import type { StageState } from '../../exec/explain.js';

/** What the live monitor knows about keys being computed now (see live.ts). */
export interface LiveView {
  progressOf(key: string): LiveProgress | undefined;
  isRunning(key: string): boolean;
  hasFailed(key: string): boolean;
}

export function instanceState(s: StageState, everRan: boolean, live: LiveView | undefined): InstanceState {
  if (s.status === 'up-to-date') return 'up-to-date';
  if (s.runningIn !== undefined || (s.key !== null && live?.isRunning(s.key) === true)) return 'running';
  if (s.key !== null && live?.hasFailed(s.key) === true) return 'failed';
  return everRan ? 'stale' : 'never-run';
}
