// `rethink doctor`'s report: the checks put together, what to fix (each with the exact step), whether
// a run can work here (the exit code), and the report as text or as its --json document.
import type { BackendCheck, BackendReport } from './backends.js';
import { nativeFix } from './backends.js';
import type { CacheCheck, ExecutorCheck, NodeCheck, RemoteCheck } from './checks.js';

export interface Fix {
  /** error: a run needs it (exit 1); warning: a run works, slower or with less. */
  readonly severity: 'error' | 'warning';
  readonly problem: string;
  readonly fix: string;
}

export interface DoctorReport {
  readonly format: 1;
  readonly ok: boolean;
  readonly rethink: { readonly package: string; readonly version: string; readonly root: string };
  readonly node: NodeCheck;
  readonly backend: { readonly request: string; readonly default: string | null };
  readonly backends: readonly BackendCheck[];
  readonly cache: CacheCheck;
  readonly remote: RemoteCheck | null;
  readonly executor: ExecutorCheck;
  readonly fixes: readonly Fix[];
}

export interface Checks {
  readonly rethink: DoctorReport['rethink'];
  readonly node: NodeCheck;
  readonly backends: BackendReport;
  readonly cache: CacheCheck;
  readonly remote: RemoteCheck | undefined;
  readonly executor: ExecutorCheck;
}

/** Backends auto takes before native: with one of them, a native backend that fails costs nothing. */
const FASTER_THAN_NATIVE: ReadonlySet<string> = new Set(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);

export function buildReport(c: Checks): DoctorReport {
  const fixes = whatToFix(c);
  return {
    format: 1,
    ok: fixes.every((f) => f.severity !== 'error'),
    rethink: c.rethink,
    node: c.node,
    backend: { request: c.backends.request, default: c.backends.default ?? null },
    backends: c.backends.backends,
    cache: c.cache,
    remote: c.remote ?? null,
    executor: c.executor,
    fixes,
  };
}

function whatToFix(c: Checks): Fix[] {
  const fixes: Fix[] = [];
  const b = c.backends;
  if (b.default === undefined) {
    fixes.push({
      severity: 'error',
      problem: `RETHINK_BACKEND=${b.request} starts no backend: ${b.defaultError ?? 'unknown reason'}`,
      fix: 'install what it needs (above), or unset RETHINK_BACKEND to let rethink pick the fastest that loads',
    });
  }
  const native = b.backends.find((x) => x.name === 'native');
  if (b.request === 'auto' && native !== undefined && !native.loads && !FASTER_THAN_NATIVE.has(b.default ?? '')) {
    fixes.push({ severity: 'error', problem: `the native backend does not load, so runs train on ${b.default ?? 'nothing'}, several times slower`, fix: nativeFix(native) });
  }
  const node = Number(c.node.version.split('.')[0]);
  if (node < 20) fixes.push({ severity: 'error', problem: `Node ${c.node.version} is older than rethink supports`, fix: 'use Node 20 or newer' });
  if (!c.cache.writable) {
    fixes.push({
      severity: 'error',
      problem: `the cache ${c.cache.dir} ${c.cache.exists ? 'cannot be written' : 'cannot be created'}`,
      fix: 'fix its permissions, or name a writable directory with --cache-dir or RETHINK_CACHE_DIR',
    });
  }
  if (c.remote !== undefined && !c.remote.reachable) {
    fixes.push({
      severity: 'error',
      problem: `the remote ${c.remote.url} (${c.remote.source}) cannot be reached: ${c.remote.error ?? 'unknown reason'}`,
      fix: 'check the URL, that the server is up and reachable from here, and its credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3 for a non-AWS server)',
    });
  }
  const e = c.executor;
  if ((e.name === 'slurm' || e.name === 'queue') && c.remote === undefined) {
    fixes.push({ severity: 'error', problem: `RETHINK_EXECUTOR=${e.name} runs jobs on other machines, and no shared remote is set`, fix: 'set RETHINK_REMOTE (s3://bucket/prefix, or a directory every machine mounts)' });
  }
  if (e.name === 'queue' && e.queue === undefined) {
    fixes.push({ severity: 'error', problem: 'RETHINK_EXECUTOR=queue and no queue is set', fix: 'set RETHINK_QUEUE=redis://host:6379/0' });
  }
  return fixes;
}

/** The report for a person: one block per concern, then what to fix. */
export function renderReport(r: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`${r.rethink.package} ${r.rethink.version} in ${r.rethink.root.replace(/[\\/]$/, '')}`);
  lines.push(`node     ${r.node.version} on ${r.node.platform}, ${r.node.cores} cores`);
  lines.push(`backends ${r.backend.request === 'auto' ? 'auto' : `RETHINK_BACKEND=${r.backend.request}`} takes ${r.backend.default ?? 'none'}`);
  const width = Math.max(...r.backends.map((b) => b.name.length));
  for (const b of r.backends) lines.push(`  ${b.name.padEnd(width)}  ${b.loads ? `loads: ${describe(b)}` : `no: ${b.reason ?? 'unknown'}`}`);
  const c = r.cache;
  lines.push(
    `cache    ${c.dir} (${c.source === 'default' ? './cache' : c.source}): ${c.exists ? `${formatBytes(c.bytes)} in ${c.files} files` : 'not created yet'}, ${c.writable ? 'writable' : 'NOT writable'}`,
  );
  lines.push(
    r.remote === null
      ? 'remote   none (--remote URL or RETHINK_REMOTE)'
      : `remote   ${r.remote.url} (${r.remote.source}): ${r.remote.reachable ? 'reachable' : `NOT reachable: ${r.remote.error ?? ''}`}${r.remote.readOnly ? ', read-only' : ', read and written'}`,
  );
  const e = r.executor;
  lines.push(`executor ${e.name}${e.source === 'default' ? '' : ` (${e.source})`}${e.queue ? `, queue ${e.queue}` : ''}${e.slurmArgs ? `, sbatch ${e.slurmArgs}` : ''}`);
  if (r.fixes.length === 0) lines.push('nothing to fix');
  else {
    lines.push('what to fix:');
    for (const f of r.fixes) lines.push(`  ${f.severity}: ${f.problem}\n    fix: ${f.fix}`);
  }
  return `${lines.join('\n')}\n`;
}

function describe(b: BackendCheck): string {
  const versions = Object.entries(b.versions ?? {})
    .filter(([k]) => k !== 'node')
    .map(([k, v]) => `${k} ${v}`);
  const adapter = b.adapter && b.name === 'webgpu' ? [`adapter ${[b.adapter['vendor'], b.adapter['device'] || b.adapter['architecture']].filter(Boolean).join(' ')}${b.adapter['isSoftware'] === 'true' ? ' (software: auto passes it over)' : ''}`] : [];
  return [...versions, `${b.threads ?? 1} thread${b.threads === 1 ? '' : 's'}`, ...adapter].join(', ');
}

function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
