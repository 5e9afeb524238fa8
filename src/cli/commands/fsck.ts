// `rethink fsck [--remote URL] [--dry-run] [--json]`: hashes every object in the local cache (and,
// with --remote, every object on that remote, streamed and kept nowhere) against its name, and
// checks that every run record's objects are there. Bad local objects go to the cache's quarantine/
// (their stages compute them again on the next run); bad remote objects are deleted with the records
// naming them, so the next machine that computes them uploads them again. Exit 0 when all is well,
// 1 when something was found (or the remote could not be read), 2 for bad flags.
import { jsonDocument } from '../../util/json-document.js';
import type { CliIO, Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { openLocalStore, refuseUnlessCache } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { fsckLocal, fsckRemote, type FsckProblem, type FsckReport } from '../../store/fsck.js';
import { openRemote, RemoteError } from '../../store/remote.js';
import { remoteTimeouts } from '../../store/remote-timeouts.js';

export const fsck: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('fsck', argv, {
    'cache-dir': pipelineFlags['cache-dir'],
    remote: { type: 'string', value: 'URL', help: 'also check this remote: download each object (streamed, kept nowhere) and hash it' },
    'dry-run': { type: 'boolean', short: 'n', help: 'report what is wrong; quarantine and delete nothing' },
    json: pipelineFlags.json,
  });
  if (positionals.length > 0) {
    throw UserError.of('E_BAD_FLAG', `rethink fsck takes no pipeline, got: ${positionals.join(' ')}`, 'it checks the whole store: rethink fsck [--cache-dir DIR] [--remote URL] [--dry-run] [--json]');
  }
  const dryRun = values['dry-run'] === true;
  const store = openLocalStore(io, values['cache-dir']);
  // It moves bad objects to quarantine/: only in a directory rethink marked as its cache.
  await refuseUnlessCache(store);
  // Opened first: a bad --remote is a user error before anything is hashed or moved.
  const remote = values.remote === undefined ? undefined : await openRemote(values.remote, io.cwd, '--remote', { timeouts: remoteTimeouts(io.env) });
  const local = await fsckLocal(store, { dryRun });
  let remoteReport: FsckReport | undefined;
  let remoteError: string | undefined;
  if (remote) {
    try {
      remoteReport = await fsckRemote(remote, { dryRun });
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      remoteError = e.message;
    }
  }
  const ok = local.problems.length === 0 && (remoteReport?.problems.length ?? 0) === 0 && remoteError === undefined;
  if (values.json) {
    const doc = { dryRun, ok, local, ...(remoteReport ? { remote: remoteReport } : {}), ...(remoteError === undefined ? {} : { remoteError }) };
    io.stdout(jsonDocument(doc));
  } else {
    await print(io, local, dryRun, 'local');
    if (remoteReport) await print(io, remoteReport, dryRun, 'remote');
    if (remoteError !== undefined) io.stdout(`fsck ${remote!.url} FAILED, deleted nothing there: ${remoteError}\n`);
  }
  return ok ? 0 : 1;
};

async function print(io: CliIO, r: FsckReport, dryRun: boolean, side: 'local' | 'remote'): Promise<void> {
  const { megabytes } = await import('../render/plain.js');
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const found = r.problems.length === 0 ? 'all good' : n(r.problems.length, 'problem');
  io.stdout(`fsck ${r.where}: ${n(r.objects, 'object')} (${megabytes(r.bytes)}), ${n(r.runs, 'result')}: ${found}\n`);
  for (const p of r.problems) io.stdout(`  ${problemLine(p)}\n`);
  const corrupt = r.problems.filter((p) => p.kind === 'corrupt').length;
  if (corrupt === 0 && r.badRuns === 0) return;
  if (side === 'local') {
    io.stdout(dryRun ? `dry run: nothing moved; without --dry-run, fsck quarantines ${n(corrupt, 'object')}\n` : `quarantined ${n(corrupt, 'object')}: the next run computes ${corrupt === 1 ? 'it' : 'them'} again\n`);
  } else {
    const what = `${n(corrupt, 'corrupt object')} and the ${n(r.badRuns, 'result')} naming a bad or missing object`;
    io.stdout(dryRun ? `dry run: nothing deleted; without --dry-run, fsck deletes ${what} from the remote\n` : `deleted ${what} from the remote: the next machine that computes them uploads them again\n`);
  }
}

function problemLine(p: FsckProblem): string {
  if (p.kind === 'missing') return `missing  ${p.hash}: ${p.record!.stage} (output ${p.record!.output}, key ${p.record!.key.slice(0, 12)}) names it; ${p.reason}`;
  return `corrupt  ${p.hash}: ${p.reason}${p.quarantined ? `; moved to ${p.quarantined}` : ''}`;
}
