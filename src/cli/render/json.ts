// `--json`: stdout carries one JSON document and nothing else.
import type { StageReport } from '../../exec/events.js';
import type { RemoteReport } from '../../store/tiered.js';

export interface RunDocument {
  readonly pipeline: string;
  readonly stages: readonly {
    readonly id: string;
    readonly plugin: string;
    readonly key: string | null;
    readonly status: StageReport['status'];
    readonly seconds: number;
    readonly outputs: Readonly<Record<string, string>>;
    readonly reason?: string;
    /** A cache hit found on the shared remote. */
    readonly remote?: true;
    /** Attempts, when it took more than one. */
    readonly attempts?: number;
    /** Where it ran, when on another machine (`n2 (slurm 1234)`). */
    readonly where?: string;
  }[];
  readonly seconds: number;
  /** What the shared remote did, when one is configured. */
  readonly remote?: RemoteReport;
}

export function runDocument(pipeline: string, stages: readonly StageReport[], seconds: number, remote?: RemoteReport): RunDocument {
  return {
    pipeline,
    stages: stages.map((s) => ({
      id: s.id,
      plugin: s.plugin,
      key: s.key,
      status: s.status,
      seconds: round(s.seconds),
      outputs: s.outputs,
      ...(s.reason === undefined ? {} : { reason: s.reason }),
      ...(s.remote ? { remote: true as const } : {}),
      ...(s.attempts ? { attempts: s.attempts } : {}),
      ...(s.where === undefined ? {} : { where: s.where }),
    })),
    seconds: round(seconds),
    ...(remote ? { remote } : {}),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
