// `rethink gc [pipeline…] [--keep-days N] [--dry-run] [--json]`: frees the local cache of results no
// longer current. Without pipelines it keeps the last result of every stage of every pipeline run
// with this cache (what `status` compares against); with pipelines, only their current results.
// Objects go when no kept run record names them, checkpoints of attempts left for a week. A shared
// remote is never touched.
import type { Command } from '../io.js';
import { intFlag, parseFlags } from '../args.js';
import { loadWorkspace, openLocalStore } from '../workspace.js';
import { explain } from '../../exec/explain.js';
import type { CacheKey } from '../../util/brand.js';

/** Anything written this recently stays: a concurrent run publishes objects a moment before its record. */
const GRACE_MS = 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** An interrupted training's checkpoints wait this long for the attempt that resumes them. */
const CHECKPOINT_GRACE_MS = 7 * DAY_MS;

export const gc: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('gc', argv, {
    'cache-dir': { type: 'string' },
    'dry-run': { type: 'boolean', short: 'n' },
    'keep-days': { type: 'string' },
    json: { type: 'boolean' },
  });
  const keepDays = intFlag('keep-days', values['keep-days'], 0) ?? 0;
  const store = openLocalStore(io, values['cache-dir']);
  let roots: Set<CacheKey>;
  if (positionals.length === 0) roots = await store.allRefKeys();
  else {
    roots = new Set();
    for (const pipeline of positionals) {
      const ws = await loadWorkspace(io, pipeline);
      for (const s of await explain(ws.plan, store)) if (s.status === 'up-to-date') roots.add(s.key!);
    }
  }
  const dryRun = values['dry-run'] === true;
  const graceMs = Math.max(GRACE_MS, keepDays * DAY_MS);
  const report = await store.collectGarbage(roots, { dryRun, graceMs, checkpointGraceMs: Math.max(CHECKPOINT_GRACE_MS, graceMs) });
  if (values.json) {
    io.stdout(`${JSON.stringify({ cache: store.location, dryRun, ...report }, null, 1)}\n`);
    return 0;
  }
  const { megabytes: mb } = await import('../render/plain.js');
  io.stdout(
    `gc ${store.location}: keeping ${report.keptRuns} results and ${report.keptObjects} objects (${mb(report.keptBytes)}); ` +
      `${dryRun ? 'would delete' : 'deleted'} ${report.deletedRuns} results and ${report.deletedObjects} objects (${mb(report.deletedBytes)})` +
      `${report.deletedCheckpoints > 0 ? `, and ${report.deletedCheckpoints} checkpoints of attempts unfinished for a week` : ''}\n`,
  );
  return 0;
};
