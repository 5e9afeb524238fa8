// `rethink push [pipeline] --remote URL [--only GLOB]…`: uploads the pipeline's up-to-date local results
// that the remote lacks (for results computed before a remote was set up, or with --remote-read-only).
// `rethink pull [pipeline] --remote URL [--only GLOB]…`: downloads every result of the pipeline the
// remote has and the local cache lacks, objects included, so later runs need no network.
import { jsonDocument } from '../../util/json-document.js';
import type { Command, CliIO } from '../io.js';
import { onlyFlag, parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore, type Workspace } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { explain, type StageState } from '../../exec/explain.js';
import { selectInstances } from '../../plan/select.js';
import type { RemoteReport } from '../../store/tiered.js';
import { recordObjects } from '../../store/types.js';
import { untrustedLine } from '../render/plain.js';

const flags = { ...pipelineFlags, only: onlyFlag } as const;

async function open(name: 'push' | 'pull', argv: readonly string[], io: CliIO) {
  const { values, positionals } = parseFlags(name, argv, flags);
  if (positionals.length > 1) throw UserError.of('E_BAD_FLAG', `rethink ${name} takes one pipeline, got ${positionals.length}: ${positionals.join(' ')}`);
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  const store = await openStore(io, values);
  if (!('flush' in store)) {
    throw UserError.of('E_NO_REMOTE', `rethink ${name} needs a remote`, 'pass --remote s3://bucket/prefix (or a shared directory), or set RETHINK_REMOTE');
  }
  if (name === 'push' && values['remote-read-only']) throw UserError.of('E_BAD_FLAG', 'rethink push cannot be --remote-read-only');
  const only = values.only ? selectInstances(ws.plan, values.only) : undefined;
  return { ws, store, json: values.json === true, selected: (s: StageState) => !only || only.has(s.id) };
}

export const push: Command = async (argv, io) => {
  const { ws, store, json, selected } = await open('push', argv, io);
  const states = (await explain(ws.plan, store.local)).filter(selected);
  const local = states.filter((s) => s.status === 'up-to-date');
  const uploaded: string[] = [];
  const present: string[] = [];
  await Promise.all(
    local.map(async (s) => {
      const record = (await store.local.readRun(s.key!))!;
      ((await store.upload(record)) ? uploaded : present).push(s.id);
    }),
  );
  const report = await store.flush();
  const missing = states.filter((s) => s.status === 'will-run').map((s) => s.id);
  return finish(io, ws, json, report, { uploaded: order(ws, uploaded), 'already-on-remote': order(ws, present), 'not-run-locally': missing }, () => [
    `pushed ${uploaded.length} result${uploaded.length === 1 ? '' : 's'} to ${report.url}; ${present.length} already there`,
    ...(missing.length > 0 ? [`${missing.length} not up to date locally (run them first): ${preview(missing)}`] : []),
  ]);
};

export const pull: Command = async (argv, io) => {
  const { ws, store, json, selected } = await open('pull', argv, io);
  const states = (await explain(ws.plan, store)).filter(selected);
  const fromRemote = states.filter((s) => s.remote);
  const failed: string[] = [];
  await Promise.all(
    fromRemote.map(async (s) => {
      const record = (await store.readRun(s.key!))!;
      try {
        await Promise.all(recordObjects(record).map((o) => store.objectPath(o.hash)));
      } catch (e) {
        failed.push(s.id);
        io.stderr(`rethink pull: ${s.id}: ${(e as Error).message}\n`);
      }
    }),
  );
  const report = await store.flush();
  const pulled = fromRemote.map((s) => s.id).filter((id) => !failed.includes(id));
  const local = states.filter((s) => s.status === 'up-to-date' && !s.remote).map((s) => s.id);
  const missing = states.filter((s) => s.status === 'will-run').map((s) => s.id);
  const code = await finish(io, ws, json, report, { pulled, 'already-local': local, 'on-neither': missing, failed: order(ws, failed) }, () => [
    `pulled ${pulled.length} result${pulled.length === 1 ? '' : 's'} from ${report.url}; ${local.length} already local`,
    ...(missing.length > 0 ? [`${missing.length} on neither (they will run): ${preview(missing)}`] : []),
  ]);
  return failed.length > 0 ? 1 : code;
};

function finish(io: CliIO, ws: Workspace, json: boolean, report: RemoteReport, groups: Record<string, string[]>, lines: () => string[]): number {
  if (json) io.stdout(jsonDocument({ pipeline: ws.file.source.file, ...groups, remote: report }));
  else io.stdout(`${lines().join('\n')}\n`);
  if (report.untrusted && !json) io.stderr(`${untrustedLine(report.untrusted)}\n`);
  if (report.error) {
    io.stderr(`remote FAILED: ${report.error}\n`);
    return 1;
  }
  return 0;
}

/** Stage ids in plan order (uploads finish in any order). */
function order(ws: Workspace, ids: readonly string[]): string[] {
  const set = new Set(ids);
  return ws.plan.order.filter((id) => set.has(id));
}

const preview = (ids: readonly string[]) => (ids.length > 6 ? `${ids.slice(0, 6).join(', ')}, …` : ids.join(', '));
