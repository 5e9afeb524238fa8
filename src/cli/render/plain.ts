// Plain lines for logs and CI (stderr is not a terminal): an ISO timestamp on every line, one line
// per stage event (start, placed, waiting, done, cached, failed), and for a running stage a progress
// line at most every `progressIntervalMs`, never one per epoch. Stage logs only when verbose.
import type { ExecEvent, Observer, StageReport } from '../../exec/events.js';
import type { RemoteReport } from '../../store/tiered.js';
import { RunProgress, type Clock } from './progress.js';

export interface PlainOptions {
  readonly now?: Clock;
  /** A running stage's progress line at most this often (default 10 s). */
  readonly progressIntervalMs?: number;
  /** Stream the stages' log lines (`--verbose`). */
  readonly verbose?: boolean;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 10_000;

export function plainRenderer(write: (line: string) => void, options: PlainOptions = {}): Observer {
  const { now = Date.now, progressIntervalMs = DEFAULT_PROGRESS_INTERVAL_MS, verbose = false } = options;
  const progress = new RunProgress(now);
  /** When each running stage last printed a line: its start, then its progress lines. */
  const lastLine = new Map<string, number>();
  const line = (text: string) => write(`${timestamp(now())} ${text}\n`);
  return (e: ExecEvent) => {
    progress.observe(e);
    switch (e.type) {
      case 'run-start': {
        const width = e.executor === undefined ? `${e.jobs} core${e.jobs === 1 ? '' : 's'}` : `${e.jobs} job${e.jobs === 1 ? '' : 's'} at once on ${e.executor}`;
        line(`rethink: ${e.pipeline}: ${e.total} stage${e.total === 1 ? '' : 's'}, ${width}`);
        break;
      }
      case 'stage-start':
        lastLine.set(e.id, now());
        line(`  start   ${e.id}`);
        break;
      case 'stage-placed':
        line(`  placed  ${e.id} on ${e.where}`);
        break;
      case 'stage-waiting':
        line(`  waiting ${e.id}: another process is computing it, ${e.holder}`);
        break;
      case 'stage-progress': {
        const t = now();
        const last = lastLine.get(e.id);
        if (last === undefined) lastLine.set(e.id, t); // progress from a stage whose start this process did not see
        if (last === undefined || t - last < progressIntervalMs) break;
        lastLine.set(e.id, t);
        line(`  …       ${e.id}: ${progress.line(e.id)}`);
        break;
      }
      case 'stage-log':
        if (verbose) line(`  log     ${e.id}: ${e.message}`);
        break;
      case 'warning':
        line(`warning: ${e.message}`);
        break;
      case 'stage-end':
        lastLine.delete(e.report.id);
        line(`${stageLine(e.report)}  [${progress.doneOfTotal()}]`);
        break;
      case 'run-end':
        line(summaryLine(e.stages, e.seconds));
        break;
    }
  };
}

/** `2026-05-01T12:00:00Z`: UTC to the second, sortable, and what log tools parse. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
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
