// What the live displays say about a run, kept from its events and a clock: each running stage's
// elapsed time, its ETA from measured epoch times, its throughput and figures; the run's done/total.
// The terminal view (listr.ts) and the plain lines (plain.ts) both read it; tests drive it with a fake clock.
import type { ExecEvent } from '../../exec/events.js';
import type { ProgressUpdate } from '../../plugin/types.js';
import type { StageId } from '../../util/brand.js';

/** Milliseconds since the epoch, now: `Date.now` or a test's fake. */
export type Clock = () => number;

interface Running {
  readonly startedAt: number;
  readonly update?: ProgressUpdate;
  /** When the display saw the count of finished epochs change: the ETA counts down from there. */
  readonly epochEndedAt?: number;
}

export class RunProgress {
  /** Instances in the run, cached ones included; known at `run-start`. */
  private total = 0;
  private readonly ended = new Set<StageId>();
  private readonly running = new Map<StageId, Running>();
  private startedAt: number;

  constructor(private readonly now: Clock) {
    this.startedAt = now();
  }

  observe(e: ExecEvent): void {
    switch (e.type) {
      case 'run-start':
        this.total = e.total;
        this.startedAt = this.now();
        break;
      case 'stage-start':
        this.running.set(e.id, { startedAt: this.now() });
        break;
      case 'stage-progress': {
        const was = this.running.get(e.id) ?? { startedAt: this.now() };
        const finished = e.update.epochs?.finished;
        const epochEnded = finished !== undefined && finished > 0 && finished !== was.update?.epochs?.finished;
        this.running.set(e.id, { ...was, update: e.update, ...(epochEnded ? { epochEndedAt: this.now() } : {}) });
        break;
      }
      case 'stage-end':
        this.running.delete(e.report.id);
        this.ended.add(e.report.id);
        break;
      default:
        break;
    }
  }

  /** `3/12`: instances settled (ran, cached, failed or skipped) of all in the run. */
  doneOfTotal(): string {
    return `${this.ended.size}/${this.total}`;
  }

  /** Milliseconds since the run started. */
  runElapsedMs(): number {
    return this.now() - this.startedAt;
  }

  isRunning(id: StageId): boolean {
    return this.running.has(id);
  }

  /** Milliseconds since the instance started; undefined when it is not running. */
  elapsedMs(id: StageId): number | undefined {
    const r = this.running.get(id);
    return r === undefined ? undefined : this.now() - r.startedAt;
  }

  /**
   * Milliseconds until the instance ends: mean epoch time × epochs left, counting down through the
   * epoch under way (but never below the whole epochs still after it). Undefined before the first
   * epoch ends, or for work that does not count epochs.
   */
  etaMs(id: StageId): number | undefined {
    const r = this.running.get(id);
    const epochs = r?.update?.epochs;
    if (r === undefined || epochs?.meanSeconds === undefined || epochs.finished === 0) return undefined;
    const mean = epochs.meanSeconds * 1000;
    const left = Math.max(0, epochs.total - epochs.finished);
    if (left === 0) return 0;
    const since = this.now() - (r.epochEndedAt ?? this.now());
    return Math.max(mean * (left - 1), mean * left - since);
  }

  /**
   * The instance's progress in one line: `epoch 12 (up to 150) · loss 0.4213 · acc 0.912 · 5,120 img/s ·
   * 1m02s, ETA ≤ 3m10s`. Without epochs, the stage's own message. Empty for an unknown instance.
   */
  line(id: StageId): string {
    const r = this.running.get(id);
    if (r === undefined) return '';
    const u = r.update;
    const parts: string[] = [];
    if (u?.epochs !== undefined) parts.push(epochText(u.epochs.current, u.epochs.total, u.epochs.upTo === true));
    else if (u?.message) parts.push(u.message);
    for (const [name, value] of Object.entries(u?.metrics ?? {})) parts.push(`${name} ${figure(value)}`);
    if (u?.rate !== undefined) parts.push(`${Math.round(u.rate.perSecond).toLocaleString('en-US')} ${u.rate.unit}/s`);
    const eta = this.etaMs(id);
    const bound = u?.epochs?.upTo === true ? '≤ ' : '';
    parts.push(`${clockText(this.now() - r.startedAt)}${eta === undefined ? '' : `, ETA ${bound}${clockText(eta)}`}`);
    return parts.join(' · ');
  }
}

/** `epoch 12/150`, or `epoch 12 (up to 150)` when the work may stop at a target before the last. */
export function epochText(current: number, total: number, upTo: boolean): string {
  return upTo ? `epoch ${current} (up to ${total})` : `epoch ${current}/${total}`;
}

/** `45s`, `3m05s`, `1h02m`: elapsed and remaining times, as a clock reads them. */
export function clockText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Four significant digits: accuracies and losses read as 0.9123, 1.234, 12.35. */
const figure = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(4));
