// `rethink gc [pipeline…] [--keep-days N] [--dry-run] [--json]`: frees the local cache of results no
// longer current. Without pipelines it keeps the last result of every stage of every pipeline run
// with this cache (what `status` compares against); with pipelines, only their current results.
// Objects go when no kept run record names them, checkpoints of attempts left for a week, and what
// killed runs left in tmp/ and leases/, and the progress reports of stages no longer running (a killed
// run's after the grace period, a failed stage's after a week). gc deletes only in a directory marked
// as a rethink cache.
//
// `rethink gc --remote URL pipeline…` frees the shared remote instead, keeping the named pipelines'
// current results and whatever was uploaded within the grace period. Only the flag points gc at a
// remote, never RETHINK_REMOTE, and it needs the pipelines: no machine knows what the others use.
// A directory remote's tmp/ is swept of uploads nobody has written to for an hour.
import { jsonDocument } from '../../util/json-document.js';
import type { Command } from '../io.js';
import { intFlag, parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openLocalStore, refuseUnlessCache } from '../workspace.js';
import { explain } from '../../exec/explain.js';
import { asCacheKey, type CacheKey } from '../../util/brand.js';
import type { CliIO } from '../io.js';
import type { LocalStore } from '../../store/local.js';
import { openRemote, RemoteError } from '../../store/remote.js';
import { remoteTimeouts } from '../../store/remote-timeouts.js';
import { collectRemoteGarbage, type RemoteGcReport } from '../../store/remote-gc.js';
import type { GcCounts } from '../../store/types.js';
import { sweepProgressFiles } from '../../store/progress-files.js';
import { UserError } from '../../util/user-error.js';

/** Anything written this recently stays: a concurrent run publishes objects a moment before its record. */
const GRACE_MS = 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** An interrupted training's checkpoints wait this long for the attempt that resumes them. */
const CHECKPOINT_GRACE_MS = 7 * DAY_MS;

export const gc: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('gc', argv, {
    'cache-dir': pipelineFlags['cache-dir'],
    'dry-run': { type: 'boolean', short: 'n', help: 'say what would be deleted and how much it frees; delete nothing' },
    'keep-days': { type: 'string', value: 'N', help: 'also keep whatever was written in the last N days (default: the last hour)' },
    remote: { type: 'string', value: 'URL', help: 'collect garbage on this remote instead, keeping what the given pipelines need' },
    json: pipelineFlags.json,
  });
  const keepDays = intFlag('keep-days', values['keep-days'], 0) ?? 0;
  const store = openLocalStore(io, values['cache-dir']);
  const dryRun = values['dry-run'] === true;
  const graceMs = Math.max(GRACE_MS, keepDays * DAY_MS);
  if (values.remote !== undefined) return remoteGc(io, store, values.remote, positionals, { dryRun, graceMs, json: values.json === true });
  await refuseUnlessCache(store);
  let roots: Set<CacheKey>;
  if (positionals.length === 0) roots = await store.allRefKeys();
  else {
    roots = new Set();
    for (const pipeline of positionals) {
      const ws = await loadWorkspace(io, pipeline);
      for (const s of await explain(ws.plan, store)) if (s.status === 'up-to-date') roots.add(s.key!);
    }
  }
  const leases = dryRun ? 0 : await store.leases.sweep();
  const tmp = dryRun ? 0 : await store.sweepTmp();
  const checkpointGraceMs = Math.max(CHECKPOINT_GRACE_MS, graceMs);
  const report = await store.collectGarbage(roots, { dryRun, graceMs, checkpointGraceMs });
  const progress = await sweepProgressFiles(store.location, {
    now: Date.now(),
    graceMs,
    failedGraceMs: checkpointGraceMs,
    running: async (key) => (await store.leases.holderOf(asCacheKey(key))) !== undefined,
    dryRun,
  });
  if (values.json) {
    io.stdout(jsonDocument({ cache: store.location, dryRun, ...report, deletedLeases: leases, deletedTmp: tmp, deletedProgress: progress }));
    return 0;
  }
  const checkpoints = report.deletedCheckpoints > 0 ? `, and ${report.deletedCheckpoints} checkpoints of attempts unfinished for a week` : '';
  const quarantined = report.deletedQuarantined > 0 ? `, and ${report.deletedQuarantined} corrupt object${report.deletedQuarantined === 1 ? '' : 's'} quarantined over a week ago` : '';
  const stale = leases > 0 ? `, and ${leases} leases that killed processes left` : '';
  const leftovers = tmp > 0 ? `, and ${tmp} temporary file${tmp === 1 ? '' : 's'} of killed runs` : '';
  const reports = progress > 0 ? `, and ${progress} progress report${progress === 1 ? '' : 's'} of stages no longer running` : '';
  io.stdout(`${await gcLine(store.location, report, dryRun)}${checkpoints}${quarantined}${stale}${leftovers}${reports}\n`);
  return 0;
};

async function remoteGc(io: CliIO, local: LocalStore, url: string, pipelines: readonly string[], o: { dryRun: boolean; graceMs: number; json: boolean }): Promise<number> {
  if (pipelines.length === 0) {
    throw UserError.of(
      'E_BAD_FLAG',
      'rethink gc --remote needs the pipelines whose results to keep',
      'other machines sharing the remote keep their own refs, so gc cannot tell what they still use: name every pipeline that matters, e.g. rethink gc --remote s3://lab/rethink pipelines/*.yaml --dry-run',
    );
  }
  const remote = await openRemote(url, io.cwd, '--remote', { timeouts: remoteTimeouts(io.env) });
  const { TieredStore } = await import('../../store/tiered.js');
  const tiered = new TieredStore(local, remote, { readOnly: true });
  const roots = new Set<CacheKey>();
  for (const pipeline of pipelines) {
    const ws = await loadWorkspace(io, pipeline);
    for (const s of await explain(ws.plan, tiered)) if (s.status === 'up-to-date') roots.add(s.key!);
  }
  // Roots read from a remote that failed would be too few: delete nothing then.
  if (tiered.error) return remoteFailed(io, remote.url, tiered.error);
  let report: RemoteGcReport;
  try {
    report = await collectRemoteGarbage(remote, roots, { dryRun: o.dryRun, graceMs: o.graceMs, checkpointGraceMs: Math.max(CHECKPOINT_GRACE_MS, o.graceMs) });
  } catch (e) {
    if (e instanceof RemoteError) return remoteFailed(io, remote.url, e.message);
    throw e;
  }
  const tmp = o.dryRun ? 0 : ((await remote.sweepTmp?.()) ?? 0);
  if (o.json) {
    io.stdout(jsonDocument({ remote: remote.url, dryRun: o.dryRun, ...report, deletedTmp: tmp }));
    return 0;
  }
  const leftovers = tmp > 0 ? `, and ${tmp} temporary file${tmp === 1 ? '' : 's'} of interrupted uploads` : '';
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const jobs =
    report.deletedCheckpoints + report.deletedJobs > 0
      ? `, and ${plural(report.deletedJobs, 'job folder')} and ${plural(report.deletedCheckpoints, 'checkpoint folder')} of jobs finished or abandoned a week ago`
      : '';
  io.stdout(`${await gcLine(remote.url, report, o.dryRun)}${jobs}${leftovers}\n`);
  return 0;
}

function remoteFailed(io: CliIO, url: string, why: string): number {
  io.stderr(`gc ${url} FAILED: ${why}\n`);
  return 1;
}

async function gcLine(where: string, r: GcCounts, dryRun: boolean): Promise<string> {
  const { megabytes: mb } = await import('../render/plain.js');
  return (
    `gc ${where}: keeping ${r.keptRuns} results and ${r.keptObjects} objects (${mb(r.keptBytes)}); ` +
    `${dryRun ? 'would delete' : 'deleted'} ${r.deletedRuns} results and ${r.deletedObjects} objects (${mb(r.deletedBytes)})`
  );
}
