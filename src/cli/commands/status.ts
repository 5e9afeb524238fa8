// `rethink status [pipeline] [--json]`: what is up to date, what will run, and why.
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore } from '../workspace.js';
import { explain } from '../../exec/explain.js';

export const status: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('status', argv, pipelineFlags);
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  const states = await explain(ws.plan, openStore(io, values['cache-dir']));
  if (values.json) {
    io.stdout(`${JSON.stringify({ pipeline: ws.file.source.file, stages: states }, null, 1)}\n`);
    return 0;
  }
  const width = Math.min(60, Math.max(...states.map((s) => s.id.length)));
  for (const s of states) {
    const label = s.status === 'up-to-date' ? 'up to date' : 'will run  ';
    io.stdout(`${`${label}  ${s.id.padEnd(width)}${s.reasons.length ? `  ${s.reasons.join('; ')}` : ''}`.trimEnd()}\n`);
  }
  const stale = states.filter((s) => s.status === 'will-run').length;
  io.stdout(`${states.length - stale} up to date, ${stale} will run\n`);
  return 0;
};
