// The contract between `rethink ui`'s server (src/cli/ui/) and its browser app (web/): every JSON
// document the server answers, by route. Types only, so the browser bundle imports it for free.
// Every document carries `format: 1`; errors are `ApiError` with an HTTP status, never a stack trace.
//
// Routes (all GET; `:key` is a run's cache key, 64 hex digits; names are URL-encoded):
//   /api/overview                         → Overview
//   /api/pipelines/:pipeline              → PipelineDag        (pipeline = its id from Overview)
//   /api/pipelines/:pipeline/sweep/:stage → Sweep              (?over=seed&stats=mean,sd&output=metrics&metrics=a.b,c)
//   /api/pipelines/:pipeline/sweep/:stage.csv → text/csv of the same table
//   /api/runs/:key                        → RunDetail
//   /api/runs/:key/curves                 → Curves
//   /api/runs/:key/outputs/:name          → the artifact's bytes (Content-Type, Content-Disposition)
//   /api/runs/:key/outputs/:name/preview  → TensorPreview
//   /api/runs/:key/outputs/:name/images/:i.png → one dataset image as PNG (i < preview.images.length)
//   /api/compare?keys=K1,K2[,…]           → Comparison
//   /api/curves?keys=K1,K2[,…]            → Curves[] in the order asked
//   /api/report/:pipeline                 → Report
//   /api/live                             → text/event-stream of LiveEvent (one JSON per `data:` line)
// Everything else under /api/ is 404 ApiError; other paths serve the built app (index.html for routes
// the app owns: /, /pipelines/…, /runs/…, /compare?…). With --host other than loopback every request
// needs `?token=T` or `Authorization: Bearer T` (401 otherwise); a `?token=` request sets an HttpOnly
// cookie, so the page's own requests (assets, fetch, EventSource) need not repeat it. On loopback, a
// request whose Host is not a loopback name is refused (403 E_HOST).

export const UI_API_FORMAT = 1 as const;

export interface ApiError {
  readonly format: 1;
  readonly error: { readonly code: string; readonly message: string };
}

export type InstanceState = 'up-to-date' | 'stale' | 'running' | 'failed' | 'never-run';

export interface Overview {
  readonly format: 1;
  readonly cacheDir: string;
  readonly remote: string | null;
  readonly pipelines: readonly { readonly id: string; readonly file: string; readonly name: string; readonly stages: number; readonly instances: number }[];
  /** Instances per state over all pipelines. */
  readonly counts: Readonly<Record<InstanceState, number>>;
}

export interface DagNode {
  /** The instance id as `rethink status` prints it (e.g. `train[model=mlp_1x512,seed=0]`). */
  readonly id: string;
  readonly stage: string;
  readonly plugin: string;
  readonly matrix: Readonly<Record<string, Cell>>;
  /** Null while an upstream instance is not up to date (the key hashes its outputs). */
  readonly key: string | null;
  readonly state: InstanceState;
  /** Why it would run, as `rethink status` says it (stale and never-run only). */
  readonly reason?: string;
  /** Live progress while running. */
  readonly progress?: LiveProgress;
}

export interface PipelineDag {
  readonly format: 1;
  readonly id: string;
  readonly file: string;
  readonly nodes: readonly DagNode[];
  /** Instance-level edges: from an upstream instance id to the instance that reads it. */
  readonly edges: readonly { readonly from: string; readonly to: string; readonly input: string }[];
}

export type Cell = string | number | boolean | null;

export interface Sweep {
  readonly format: 1;
  readonly stage: string;
  readonly output: string;
  /** Matrix axes first, then the output's scalar fields (dotted paths). */
  readonly axes: readonly string[];
  readonly columns: readonly string[];
  /** One per instance (or per combination of the other axes with ?over=). `key` is null for a summary row. */
  readonly rows: readonly { readonly id: string; readonly key: string | null; readonly cells: Readonly<Record<string, Cell>> }[];
  /** Every scalar field of the output that varies between rows; `?metrics=a,b` picks the columns among them. */
  readonly fields: readonly string[];
  /** Instances of the stage with no up-to-date result, left out of the rows. */
  readonly missing: readonly { readonly id: string; readonly reason: string }[];
}

export interface OutputInfo {
  readonly name: string;
  readonly kind: 'tensors' | 'json' | 'file' | 'dir';
  readonly hash: string;
  readonly bytes: number;
  /** Download URL (relative to the server). */
  readonly href: string;
  /** Tensors only: names, dtypes and shapes. */
  readonly tensors?: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly number[] }[];
}

export interface RunDetail {
  readonly format: 1;
  readonly key: string;
  readonly stage: string;
  readonly plugin: string;
  readonly pipeline: string | null;
  readonly instance: string | null;
  readonly params: Readonly<Record<string, unknown>>;
  /** The key record as `rethink show` prints it (what the key hashes). */
  readonly keyRecord: Readonly<Record<string, unknown>>;
  /** The metrics output (or the only JSON output), null if none. */
  readonly metrics: Readonly<Record<string, unknown>> | null;
  /** Backend, versions, machine, worker, commit, started/finished, seconds. */
  readonly provenance: Readonly<Record<string, unknown>>;
  readonly outputs: readonly OutputInfo[];
  readonly log: string | null;
  readonly hasCurves: boolean;
}

export interface CurvePoint {
  readonly epoch: number;
  readonly step?: number;
  readonly loss: number;
  readonly acc: number;
  readonly testLoss?: number;
  readonly testAcc?: number;
  readonly lr?: number;
}

export interface Curves {
  readonly format: 1;
  readonly key: string;
  readonly id: string | null;
  readonly matrix: Readonly<Record<string, Cell>>;
  readonly epochs: readonly CurvePoint[];
  readonly steps: readonly CurvePoint[];
}

export interface TensorPreview {
  readonly format: 1;
  readonly name: string;
  readonly tensors: readonly {
    readonly name: string;
    readonly dtype: string;
    readonly shape: readonly number[];
    readonly min: number;
    readonly max: number;
    readonly mean: number;
    readonly histogram: { readonly edges: readonly number[]; readonly counts: readonly number[] };
  }[];
  /** A dataset (images [N,H,W,C] + labels): the first images' URLs and labels. */
  readonly images: readonly { readonly href: string; readonly label: number | null }[];
}

export interface Comparison {
  readonly format: 1;
  readonly runs: readonly { readonly key: string; readonly id: string | null; readonly stage: string }[];
  /** Key-record and params fields whose values differ, as `rethink diff` names them. */
  readonly params: readonly { readonly path: string; readonly values: readonly unknown[] }[];
  readonly outputs: readonly { readonly name: string; readonly hashes: readonly (string | null)[]; readonly same: boolean }[];
  readonly metrics: readonly { readonly path: string; readonly values: readonly Cell[] }[];
}

export interface Report {
  readonly format: 1;
  readonly pipeline: string;
  /** Vega-Lite specs with their data inlined, as `rethink export report` draws them. */
  readonly figures: readonly { readonly title: string; readonly stage: string; readonly spec: Readonly<Record<string, unknown>> }[];
  readonly provenance: Readonly<Record<string, unknown>>;
}

export interface LiveProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step?: number;
  readonly stepsPerEpoch?: number;
  readonly loss?: number;
  readonly acc?: number;
  /** Seconds left, estimated from measured epoch times; absent until one epoch is done. */
  readonly etaSeconds?: number;
  readonly where?: string;
  readonly updatedAt: string;
}

export type LiveEvent =
  | { readonly type: 'hello'; readonly at: string }
  | { readonly type: 'progress'; readonly key: string; readonly id: string | null; readonly progress: LiveProgress }
  | { readonly type: 'state'; readonly key: string; readonly id: string | null; readonly state: InstanceState };
