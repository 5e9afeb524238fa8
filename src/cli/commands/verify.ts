// `rethink verify [pipeline] [--only GLOB]… [--sample N] [--backend NAME] [--json]`: recomputes
// up-to-date stages from their recorded inputs and says whether each reproduces its cached result
// byte for byte, and if not, what moved. The cache is left exactly as it was.
import { jsonDocument } from '../../util/json-document.js';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Command } from '../io.js';
import { backendChoice, backendFlag, intFlag, onlyFlag, parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, localOf, openStore } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { Interrupt } from '../interrupt.js';
import { explain } from '../../exec/explain.js';
import { scratchDirs, verifyInstance, type Verification } from '../../exec/verify.js';
import { selectInstances } from '../../plan/select.js';
import type { RunRecord } from '../../store/types.js';
import type { StageId } from '../../util/brand.js';

export const verify: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('verify', argv, {
    ...pipelineFlags,
    only: onlyFlag,
    sample: { type: 'string', value: 'N', help: 'recompute N of the selected results (those with the lowest keys), not all' },
    backend: backendFlag,
  });
  if (positionals.length > 1) throw UserError.of('E_BAD_FLAG', `rethink verify takes one pipeline, got ${positionals.length}: ${positionals.join(' ')}`);
  const backend = await backendChoice(values.backend, io.env);
  const sample = intFlag('sample', values.sample, 1);
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  const file = ws.file.source.file;
  const store = await openStore(io, values);
  const states = await explain(ws.plan, store);
  const selected = values.only ? selectInstances(ws.plan, values.only) : new Set(ws.plan.order);
  const chosen = states.filter((s) => selected.has(s.id));
  const ready = chosen.filter((s) => s.status === 'up-to-date');
  const notReady = chosen.filter((s) => s.status !== 'up-to-date');
  if (ready.length === 0) {
    throw UserError.of('E_NOTHING_TO_VERIFY', `nothing to verify in ${file}: ${notReady.length === 1 ? 'the stage is' : `all ${notReady.length} stages are`} not up to date`, `run first: rethink run ${file}`);
  }
  // A sample is the N lowest keys: spread over the sweep, and the same N every time for one config.
  const picked = sample !== undefined && sample < ready.length ? new Set([...ready].sort((a, b) => (a.key! < b.key! ? -1 : 1)).slice(0, sample).map((s) => s.id)) : new Set(ready.map((s) => s.id));
  const records = new Map<StageId, RunRecord>(); // the picked stages' and their upstream stages'
  for (const s of states) {
    if (s.status !== 'up-to-date') continue;
    const record = await store.readRun(s.key!);
    if (record) records.set(s.id, record);
  }

  const interrupt = new Interrupt((line) => io.stderr(`${line}\n`));
  const say = (line: string) => {
    if (!values.json) io.stderr(`${line}\n`);
  };
  // --quiet: what did not reproduce, and the summary.
  const chatter = (line: string) => {
    if (values.quiet !== true) say(line);
  };
  const skipped = ready.length - picked.size;
  chatter(
    `verify ${file}: recomputing ${picked.size} up-to-date stage${picked.size === 1 ? '' : 's'}` +
      `${skipped > 0 ? ` (a sample; ${skipped} more not recomputed)` : ''}${notReady.length > 0 ? `; ${notReady.length} not up to date, not verified` : ''}`,
  );
  const scratchDir = scratchDirs(localOf(store), {
    onFallback: (reason, tempRoot) => io.stderr(`rethink verify: ${reason}; recomputing in ${tempRoot} instead (the cache is only read)\n`),
  });
  const t0 = performance.now();
  const results: Verification[] = [];
  try {
    for (const id of ws.plan.order) {
      if (!picked.has(id) || interrupt.signal.aborted) continue;
      let lastProgress = 0;
      const v = await verifyInstance(ws.plan, store, ws.plan.instances.get(id)!, records.get(id)!, (u) => records.get(u)!.outputs, {
        scratchDir,
        cores: availableParallelism(),
        ...(backend === undefined ? {} : { backend }),
        signal: interrupt.signal,
        onProgress: (u) => {
          if (!u.message || Date.now() - lastProgress < 1000) return;
          lastProgress = Date.now();
          chatter(`  …           ${id}: ${u.message}`);
        },
      });
      results.push(v);
      for (const line of verificationLines(v)) (v.status === 'reproduced' ? chatter : say)(line);
    }
  } finally {
    interrupt.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (values.json) {
    const notVerified = notReady.map((s) => ({ id: s.id, reasons: s.reasons }));
    io.stdout(jsonDocument({ pipeline: file, stages: results, notVerified, seconds: Math.round(seconds * 1000) / 1000 }));
  } else {
    const n = (status: Verification['status']) => results.filter((r) => r.status === status).length;
    const parts = [`${n('reproduced')} reproduced`, `${n('differs')} differ${n('differs') === 1 ? 's' : ''}`];
    if (n('failed') > 0) parts.push(`${n('failed')} failed`);
    say(`done: ${parts.join(', ')} in ${seconds.toFixed(2)}s`);
  }
  if (interrupt.exitCode !== undefined) return interrupt.exitCode;
  return results.every((r) => r.status === 'reproduced') ? 0 : 1;
};

export function verificationLines(v: Verification): string[] {
  const label = v.status === 'reproduced' ? 'reproduced' : v.status === 'differs' ? 'DIFFERS' : 'FAILED';
  const lines = [`  ${label.padEnd(11)} ${v.id} (${v.seconds.toFixed(1)}s; recorded ${v.recordedSeconds.toFixed(1)}s)${v.reason ? `: ${v.reason}` : ''}`];
  for (const d of v.differences) for (const detail of d.details) lines.push(`      ${d.output}: ${detail}`);
  if (v.backends) {
    lines.push(`      recorded on ${v.backends.recorded}, recomputed on ${v.backends.recomputed}: only one backend promises the same bytes (--backend ${v.backends.recorded})`);
  }
  return lines;
}
