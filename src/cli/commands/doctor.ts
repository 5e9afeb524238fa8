// `rethink doctor [--json]`: whether rethink can run here, and what to fix if not — each backend
// (loads or why not, versions, threads, GPU adapter), Node and the platform, the cache, the remote and
// the executor settings. Starts the backends as a training stage would; trains nothing. Exit 0 when a
// run would work at full speed, 1 when something it needs is broken (the report says what to do).
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { PACKAGE_NAME, packageRoot, rethinkVersion } from '../../exec/environment.js';
import { checkBackends } from '../doctor/backends.js';
import { checkCache, checkExecutor, checkNode, checkRemote } from '../doctor/checks.js';
import { buildReport, renderReport } from '../doctor/report.js';

export const doctor: Command = async (argv, io) => {
  const { values } = parseFlags('doctor', argv, {
    'cache-dir': pipelineFlags['cache-dir'],
    remote: pipelineFlags.remote,
    'remote-read-only': pipelineFlags['remote-read-only'],
    json: pipelineFlags.json,
  });
  const report = buildReport({
    rethink: { package: PACKAGE_NAME, version: rethinkVersion(), root: packageRoot() },
    node: checkNode(),
    backends: await checkBackends(io.env),
    cache: await checkCache(io, values['cache-dir']),
    remote: await checkRemote(io, values),
    executor: checkExecutor(io.env),
  });
  io.stdout(values.json ? `${JSON.stringify(report, null, 1)}\n` : renderReport(report));
  return report.ok ? 0 : 1;
};
