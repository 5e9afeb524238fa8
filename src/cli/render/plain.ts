// Plain lines for logs and CI (stderr is not a terminal): one line per finished stage, progress
// messages at most once per second per stage.
import type { ExecEvent, Observer, StageReport } from '../../exec/events.js';
import type { RemoteReport } from '../../store/tiered.js';

export function plainRenderer(write: (line: string) => void, now: () => number = Date.now): Observer {
  const lastProgress = new Map<string, number>();
  return (e: ExecEvent) => {
    switch (e.type) {
      case 'run-start': {
        const width = e.executor === undefined ? `${e.jobs} core${e.jobs === 1 ? '' : 's'}` : `${e.jobs} job${e.jobs === 1 ? '' : 's'} at once on ${e.executor}`;
        write(`rethink: ${e.pipeline}: ${e.total} stage${e.total === 1 ? '' : 's'}, ${width}\n`);
        break;
      }
        break;
      case 'stage-start':
        write(`  start   ${e.id}\n`);
        break;
      case 'stage-placed':
        write(`  placed  ${e.id} on ${e.where}\n`);
        break;
      case 'stage-waiting':
        write(`  waiting ${e.id}: another process is computing it, ${e.holder}\n`);
        break;
      case 'stage-progress': {
        const t = now();
        if (t - (lastProgress.get(e.id) ?? 0) < 1000 || !e.update.message) break;
        lastProgress.set(e.id, t);
        write(`  …       ${e.id}: ${e.update.message}\n`);
        break;
      }
      case 'stage-log':
        write(`  log     ${e.id}: ${e.message}\n`);
        break;
      case 'warning':
        write(`warning: ${e.message}\n`);
        break;
      case 'stage-end':
        write(`${stageLine(e.report)}\n`);
        break;
      case 'run-end':
        write(`${summaryLine(e.stages, e.seconds)}\n`);
        break;
    }
  };
}

export function stageLine(r: StageReport): string {
  const label = r.status === 'failed' ? 'FAILED' : r.status;
  const time = r.status === 'ran' || r.status === 'failed' ? ` (${r.seconds.toFixed(1)}s${r.attempts ? `, ${r.attempts} attempts` : ''})` : '';
  const why = r.reason ? `: ${r.reason}` : r.remote ? ' (from the remote)' : '';
  const where = r.where === undefined ? '' : ` on ${r.where}`;
  return `  ${label.padEnd(8)}${label.length >= 8 ? ' ' : ''}${r.id}${where}${time}${why}`;
}

export function summaryLine(stages: readonly StageReport[], seconds: number): string {
  return `done: ${statusCounts(stages).join(', ')} in ${seconds.toFixed(2)}s`;
}

/** "3 ran", "5 cached (2 from the remote)", then failed, skipped and would-run counts where not 0. */
export function statusCounts(stages: readonly StageReport[]): string[] {
  const count = (s: StageReport['status']) => stages.filter((x) => x.status === s).length;
  const remote = stages.filter((x) => x.remote).length;
  const parts = [`${count('ran')} ran`, `${count('cached')} cached${remote > 0 ? ` (${remote} from the remote)` : ''}`];
  if (count('failed') > 0) parts.push(`${count('failed')} failed`);
  if (count('skipped') > 0) parts.push(`${count('skipped')} skipped`);
  if (count('would-run') > 0) parts.push(`${count('would-run')} would run`);
  return parts;
}

/** What the shared remote did during a command, in one line (two when it failed). */
export function remoteLine(r: RemoteReport): string {
  const part = (verb: string, c: RemoteReport['pulled']) =>
    `${verb} ${c.records} result${c.records === 1 ? '' : 's'}, ${c.objects} object${c.objects === 1 ? '' : 's'} (${megabytes(c.bytes)})`;
  const line = `remote ${r.url}: ${part('found', r.pulled)}; ${r.readOnly ? 'read-only, uploaded nothing' : part('uploaded', r.pushed)}`;
  const untrusted = r.untrusted ? `\nremote: ${untrustedLine(r.untrusted)}` : '';
  return r.error ? `${line}${untrusted}\nremote FAILED, went on with the local cache alone: ${r.error}` : `${line}${untrusted}`;
}

/** "passed over 2 results no trusted key signed (the first: runs/…: unsigned)" */
export function untrustedLine(u: NonNullable<RemoteReport['untrusted']>): string {
  return `passed over ${u.records} result${u.records === 1 ? '' : 's'} no trusted key signed (the first: ${u.first})`;
}

export function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Rows of cells in columns padded to their widest cell, two spaces apart; `right[c]` right-aligns column c. */
export function alignedRows(rows: readonly (readonly string[])[], right: readonly boolean[]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `${r.map((v, c) => (right[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd()}\n`).join('');
}
