// The terminal view: a first line for the run (done/total, elapsed), then one listr2 task per
// pipeline stage (a sweep is one line with counts), and under it one line per running instance with
// its progress, elapsed time and ETA (progress.ts). Stages still queued show as waiting, not spinning.
import type { ListrTaskState } from 'listr2';
import type { ExecEvent, Observer, StageReport } from '../../exec/events.js';
import type { Plan } from '../../plan/plan.js';
import type { StageId } from '../../util/brand.js';
import { statusCounts } from './plain.js';
import { clockText, RunProgress, type Clock } from './progress.js';

export interface ListrRendererOptions {
  /** Colors in the icons (off with --no-color or NO_COLOR). */
  readonly color: boolean;
  readonly now?: Clock;
}

/** What this view uses of listr2's task wrapper (the same in listr2 9 and 11). */
interface Task {
  title: string;
  output: string;
  readonly task: { readonly state: ListrTaskState; state$: ListrTaskState; hasFinalized(): boolean };
}

interface Group {
  readonly name: string;
  readonly total: number;
  readonly ended: StageReport[];
  readonly running: Set<StageId>;
  /** Instances waiting for another process's result, with who computes it. */
  readonly waitingFor: Map<StageId, string>;
  /** Where running instances run, when elsewhere (`n2 (slurm 1234)`). */
  readonly where: Map<StageId, string>;
  task?: Task;
  resolve?: () => void;
  reject?: (e: Error) => void;
}

/** How often titles are redrawn so that elapsed times and ETAs move between events. */
const TICK_MS = 1000;

/** Starts listr2 and returns an observer feeding it, plus a promise that settles when it is done. */
export async function listrRenderer(plan: Plan, ids: readonly string[], options: ListrRendererOptions): Promise<{ observe: Observer; finished: Promise<void> }> {
  const { Listr, ListrTaskState, ListrDefaultRendererLogLevels } = await import('listr2');
  const progress = new RunProgress(options.now ?? Date.now);
  const groups = new Map<string, Group>();
  const selected = new Set(ids);
  for (const id of plan.order) {
    if (!selected.has(id)) continue;
    const stage = plan.instances.get(id)!.stage;
    const g = groups.get(stage) ?? { name: stage, total: 0, ended: [], running: new Set(), waitingFor: new Map(), where: new Map() };
    groups.set(stage, { ...g, total: g.total + 1 });
  }
  let pipeline = plan.display;
  let header: Task | undefined;
  let endRun: (() => void) | undefined;

  const update = (g: Group) => {
    if (!g.task) return;
    const view = groupView(g, progress);
    g.task.title = view.title;
    g.task.output = view.output;
    // listr2 draws a task in its waiting state dimmed, without a spinner.
    const state = view.queued ? ListrTaskState.WAITING : ListrTaskState.STARTED;
    if (g.task.task.state !== state && !g.task.task.hasFinalized()) g.task.task.state$ = state;
  };
  const updateHeader = () => {
    if (header) header.title = `${pipeline}  ${progress.doneOfTotal()} done · ${clockText(progress.runElapsedMs())}`;
  };

  // Without color, every icon is drawn as is (listr2 otherwise reads NO_COLOR and FORCE_COLOR itself).
  const plainIcons = Object.fromEntries(Object.values(ListrDefaultRendererLogLevels).map((level) => [level, (text: string) => text]));
  const list = new Listr(
    [
      {
        title: pipeline,
        task: (_: unknown, task: Task) =>
          new Promise<void>((resolve) => {
            header = task;
            endRun = resolve;
            updateHeader();
          }),
      },
      ...[...groups.values()].map((g) => ({
        title: g.name,
        // outputBar 1 keeps only the latest output, which is the whole block of running instances.
        rendererOptions: { outputBar: 1, persistentOutput: false },
        task: (_: unknown, task: Task) =>
          new Promise<void>((resolve, reject) => {
            g.task = task;
            g.resolve = resolve;
            g.reject = reject;
            update(g);
            settleIfDone(g);
          }),
      })),
    ],
    // No signal listeners of its own: listr2's exits 127 on Ctrl-C at once, leaving leases and the
    // report behind; the run command handles signals (cli/interrupt.ts).
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { collapseSubtasks: false, collapseErrors: false, ...(options.color ? {} : { color: plainIcons }) },
    },
  );
  const tick = setInterval(() => {
    updateHeader();
    for (const g of groups.values()) if (g.running.size > 0) update(g);
  }, TICK_MS);
  tick.unref();
  const finished = list.run().then(
    () => clearInterval(tick),
    (e: unknown) => {
      clearInterval(tick);
      throw e;
    },
  );

  const observe: Observer = (e: ExecEvent) => {
    progress.observe(e);
    const id = 'id' in e ? e.id : e.type === 'stage-end' ? e.report.id : undefined;
    const g = id === undefined ? undefined : groups.get(plan.instances.get(id)?.stage ?? '');
    switch (e.type) {
      case 'run-start':
        pipeline = e.pipeline;
        break;
      case 'stage-start':
        g?.running.add(e.id);
        g?.waitingFor.delete(e.id);
        break;
      case 'stage-placed':
        g?.where.set(e.id, e.where);
        break;
      case 'stage-waiting':
        g?.running.delete(e.id);
        g?.waitingFor.set(e.id, e.holder);
        break;
      case 'stage-end':
        if (g) {
          g.running.delete(e.report.id);
          g.waitingFor.delete(e.report.id);
          g.where.delete(e.report.id);
          // A stage settled again (its cached output was corrupt and it recomputed): its last report counts.
          const again = g.ended.findIndex((r) => r.id === e.report.id);
          if (again >= 0) g.ended.splice(again, 1);
          g.ended.push(e.report);
          settleIfDone(g);
        }
        break;
      case 'run-end':
        // Whatever did not run (a stop, a failure upstream) settles with the run.
        for (const group of groups.values()) settleIfDone(group, true);
        updateHeader();
        endRun?.();
        return;
      default:
        break;
    }
    if (g) update(g);
    updateHeader();
  };
  return { observe, finished };
}

/** The instances of one pipeline stage, as the view keeps them. */
export type StageGroup = Pick<Group, 'name' | 'total' | 'ended' | 'running' | 'waitingFor' | 'where'>;

/**
 * What a stage's task shows: its title with counts, a line per instance under way (progress,
 * elapsed, ETA; or whom it waits for), and whether it is queued: nothing of it under way or finished
 * yet, shown waiting rather than spinning.
 */
export function groupView(g: StageGroup, progress: RunProgress): { readonly title: string; readonly output: string; readonly queued: boolean } {
  const output = [...g.running, ...g.waitingFor.keys()]
    .map((id) => `${id}${g.where.has(id) ? ` on ${g.where.get(id)}` : ''}: ${g.waitingFor.has(id) ? `waiting: another process is computing it, ${g.waitingFor.get(id)}` : progress.line(id)}`)
    .join('\n');
  const queued = g.running.size === 0 && g.waitingFor.size === 0 && g.ended.length < g.total;
  return { title: groupTitle(g), output, queued };
}

function groupTitle(g: StageGroup): string {
  const parts = statusCounts(g.ended);
  if (g.running.size > 0) parts.push(`${g.running.size} running`);
  if (g.waitingFor.size > 0) parts.push(`${g.waitingFor.size} waiting for another process`);
  const queued = g.total - g.ended.length - g.running.size - g.waitingFor.size;
  if (queued > 0) parts.push(`${queued} queued`);
  return `${g.name}  ${g.ended.length}/${g.total}  (${parts.join(', ')})`;
}

function settleIfDone(g: Group, runEnded = false): void {
  if ((!runEnded && g.ended.length < g.total) || !g.resolve) return;
  const failed = g.ended.filter((r) => r.status === 'failed');
  if (failed.length > 0) g.reject?.(new Error(`${groupTitle(g)}\n${failed.map((f) => `${f.id}: ${f.reason ?? 'failed'}`).join('\n')}`));
  else g.resolve();
}
