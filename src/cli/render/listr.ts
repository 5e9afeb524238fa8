// The terminal view: one listr2 task per pipeline stage (a sweep is one line with counts), and
// under it one line per running instance with its own progress (epoch, loss…).
import type { ExecEvent, Observer, StageReport } from '../../exec/events.js';
import type { Plan } from '../../plan/plan.js';
import { statusCounts } from './plain.js';

interface Group {
  readonly name: string;
  readonly total: number;
  readonly ended: StageReport[];
  readonly running: Map<string, string>;
  /** Where running instances run, when elsewhere (`n2 (slurm 1234)`). */
  readonly where: Map<string, string>;
  update?: () => void;
  resolve?: () => void;
  reject?: (e: Error) => void;
}

/** Starts listr2 and returns an observer feeding it, plus a promise that settles when it is done. */
export async function listrRenderer(plan: Plan, ids: readonly string[]): Promise<{ observe: Observer; finished: Promise<void> }> {
  const { Listr } = await import('listr2');
  const groups = new Map<string, Group>();
  const selected = new Set(ids);
  for (const id of plan.order) {
    if (!selected.has(id)) continue;
    const stage = plan.instances.get(id)!.stage;
    const g = groups.get(stage) ?? { name: stage, total: 0, ended: [], running: new Map(), where: new Map() };
    groups.set(stage, { ...g, total: g.total + 1 });
  }
  const list = new Listr(
    [...groups.values()].map((g) => ({
      title: g.name,
      // outputBar 1 keeps only the latest output, which is the whole block of running instances.
      rendererOptions: { outputBar: 1, persistentOutput: false },
      task: (_: unknown, task: { title: string; output: string }) =>
        new Promise<void>((resolve, reject) => {
          g.update = () => {
            task.title = groupTitle(g);
            task.output = [...g.running].map(([id, msg]) => `${id}${g.where.has(id) ? ` on ${g.where.get(id)}` : ''}${msg ? `: ${msg}` : ''}`).join('\n');
          };
          g.resolve = resolve;
          g.reject = reject;
          g.update();
          settleIfDone(g);
        }),
    })),
    // No signal listeners of its own: listr2's exits 127 on Ctrl-C at once, leaving leases and the
    // report behind; the run command handles signals (cli/interrupt.ts).
    { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseSubtasks: false, collapseErrors: false } },
  );
  const finished = list.run().then(() => undefined);
  const observe: Observer = (e: ExecEvent) => {
    const g = 'id' in e ? groups.get(plan.instances.get(e.id)?.stage ?? '') : e.type === 'stage-end' ? groups.get(plan.instances.get(e.report.id)?.stage ?? '') : undefined;
    switch (e.type) {
      case 'stage-start':
        g?.running.set(e.id, '');
        break;
      case 'stage-placed':
        g?.where.set(e.id, e.where);
        break;
      case 'stage-waiting':
        g?.running.set(e.id, `${WAITING}another process is computing it, ${e.holder}`);
        break;
      case 'stage-progress':
        if (g && e.update.message) g.running.set(e.id, e.update.message);
        break;
      case 'stage-end':
        if (g) {
          g.running.delete(e.report.id);
          g.where.delete(e.report.id);
          // A stage settled again (its cached output was corrupt and it recomputed): its last report counts.
          const again = g.ended.findIndex((r) => r.id === e.report.id);
          if (again >= 0) g.ended.splice(again, 1);
          g.ended.push(e.report);
          settleIfDone(g);
        }
        break;
      default:
        return;
    }
    g?.update?.();
  };
  return { observe, finished };
}

/** How a running line starts while its instance waits for another process's result. */
const WAITING = 'waiting: ';

function groupTitle(g: Group): string {
  const parts = statusCounts(g.ended);
  const waiting = [...g.running.values()].filter((m) => m.startsWith(WAITING)).length;
  if (g.running.size > waiting) parts.push(`${g.running.size - waiting} running`);
  if (waiting > 0) parts.push(`${waiting} waiting for another process`);
  return `${g.name}  ${g.ended.length}/${g.total}  (${parts.join(', ')})`;
}

function settleIfDone(g: Group): void {
  if (g.ended.length < g.total || !g.resolve) return;
  const failed = g.ended.filter((r) => r.status === 'failed');
  if (failed.length > 0) g.reject?.(new Error(`${groupTitle(g)}\n${failed.map((f) => `${f.id}: ${f.reason ?? 'failed'}`).join('\n')}`));
  else g.resolve();
}
