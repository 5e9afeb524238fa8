// `rethink runs [pipeline…] [--limit N] [--json]`: the results in the local cache, newest first: when
// each ran, for how long, on which backend, at which git commit, in how many attempts, and whether it
// is still the current result of its stage (what `status` compares against). Answers "what ran last
// night, and how long did the trainings take" without opening run records one by one.
import { jsonDocument } from '../../util/json-document.js';
import { relative, resolve } from 'node:path';
import type { Command } from '../io.js';
import { intFlag, parseFlags, pipelineFlags } from '../args.js';
import { openLocalStore } from '../workspace.js';
import type { RunRecord } from '../../store/types.js';
import { alignedRows } from '../render/plain.js';

export const runs: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('runs', argv, {
    'cache-dir': pipelineFlags['cache-dir'],
    limit: { type: 'string', value: 'N', help: 'the newest N results only' },
    json: pipelineFlags.json,
  });
  const limit = intFlag('limit', values.limit, 1) ?? 20;
  const store = openLocalStore(io, values['cache-dir']);
  const only = new Set(positionals.map((p) => resolve(io.cwd, p)));
  const current = await store.allRefKeys();
  const records = (await store.allRuns())
    .filter((r) => only.size === 0 || only.has(r.stage.pipeline))
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  const rows = records.slice(0, limit).map((r) => ({
    startedAt: r.startedAt,
    seconds: Math.round(r.seconds * 1000) / 1000,
    stage: r.stage.id,
    pipeline: relative(io.cwd, r.stage.pipeline) || r.stage.pipeline,
    backend: backendOf(r),
    commit: commitOf(r),
    attempts: typeof r.provenance['attempts'] === 'number' ? r.provenance['attempts'] : 1,
    current: current.has(r.key),
    key: r.key,
  }));
  if (values.json) {
    io.stdout(jsonDocument({ cache: store.location, total: records.length, runs: rows }));
    return 0;
  }
  const table = [
    ['started (UTC)', 'seconds', 'stage', 'pipeline', 'backend', 'commit', ''],
    ...rows.map((r) => [r.startedAt.slice(0, 19).replace('T', ' '), r.seconds.toFixed(1), r.stage, r.pipeline, r.backend ?? '–', r.commit ? `${r.commit.commit.slice(0, 8)}${r.commit.dirty ? '+' : ''}` : '–', `${r.current ? '' : 'superseded'}${r.attempts > 1 ? ` ${r.attempts} attempts` : ''}`.trim()]),
  ];
  io.stdout(alignedRows(table, [false, true]));
  if (records.length > rows.length) io.stdout(`(${records.length - rows.length} older; --limit N shows more)\n`);
  return 0;
};

/** The git commit the pipeline's repository was at (`+`: with uncommitted changes), if it was in one. */
function commitOf(r: RunRecord): { commit: string; dirty: boolean } | null {
  const g = r.provenance['git'];
  if (g === null || typeof g !== 'object' || Array.isArray(g)) return null;
  const { commit, dirty } = g as { commit?: unknown; dirty?: unknown };
  return typeof commit === 'string' ? { commit, dirty: dirty === true } : null;
}

function backendOf(r: RunRecord): string | null {
  const b = r.provenance['backend'];
  return b !== null && typeof b === 'object' && !Array.isArray(b) && typeof (b as { name?: unknown }).name === 'string' ? (b as { name: string }).name : null;
}
