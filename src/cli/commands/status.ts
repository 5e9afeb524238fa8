// `rethink status [pipeline] [--remote URL] [--json]`: what is up to date (locally or on the shared remote),
// what will run, and why.
import { jsonDocument } from '../../util/json-document.js';
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore } from '../workspace.js';
import { explain } from '../../exec/explain.js';
import { untrustedLine } from '../render/plain.js';
import { resourcesOf } from '../../plan/resources.js';

export const status: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('status', argv, pipelineFlags);
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  const store = await openStore(io, values);
  const states = await explain(ws.plan, store);
  const remoteError = 'error' in store ? store.error : undefined;
  if (remoteError) io.stderr(`remote FAILED, status shows the local cache alone: ${remoteError}\n`);
  const untrusted = 'passedOver' in store ? store.passedOver : undefined;
  if (untrusted) io.stderr(`remote: ${untrustedLine(untrusted)}\n`);
  if (values.json) {
    // Beside each stage's state, what it needs where it runs: what a cluster run of the rest will ask for.
    const stages = states.map((s) => {
      const inst = ws.plan.instances.get(s.id)!;
      return { ...s, resources: inst.resources ?? resourcesOf(inst.plugin), placement: inst.placement ?? 'any' };
    });
    io.stdout(jsonDocument({ pipeline: ws.file.source.file, stages, ...(remoteError ? { remoteError } : {}) }));
    return 0;
  }
  const width = Math.min(60, Math.max(...states.map((s) => s.id.length)));
  for (const s of states) {
    const label = s.status === 'up-to-date' ? 'up to date' : 'will run  ';
    const why = s.remote ? ['on the remote'] : s.runningIn ? [...s.reasons, `running now in ${s.runningIn}`] : s.reasons;
    io.stdout(`${`${label}  ${s.id.padEnd(width)}${why.length ? `  ${why.join('; ')}` : ''}`.trimEnd()}\n`);
  }
  const stale = states.filter((s) => s.status === 'will-run').length;
  const remote = states.filter((s) => s.remote).length;
  const elsewhere = states.filter((s) => s.runningIn).length;
  io.stdout(`${states.length - stale} up to date${remote > 0 ? ` (${remote} on the remote)` : ''}, ${stale} will run${elsewhere > 0 ? ` (${elsewhere} running now in another process)` : ''}\n`);
  return 0;
};
