// `rethink ui [pipeline…] [--port N] [--host H] [--remote URL] [--cache-dir D] [--open]`: a local web
// app over the cache: the pipelines' DAGs with each instance's state, sweep tables, learning curves,
// runs, comparisons and live progress. Read-only. Loopback by default; any other --host needs the
// token printed at start. Without pipelines: the project's pipelines/*.yaml (or the quick-start).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIO, Command } from '../io.js';
import { intFlag, parseFlags, pipelineFlags } from '../args.js';
import { resolvePipeline } from '../workspace.js';
import { UserError } from '../../util/user-error.js';

export const ui: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('ui', argv, {
    port: { type: 'string', value: 'N', help: 'the port to listen on (default: a free one)' },
    host: { type: 'string', value: 'HOST', help: 'the address to listen on (default 127.0.0.1); any other needs the token printed at start' },
    open: { type: 'boolean', help: 'open the page in the system browser' },
    set: pipelineFlags.set,
    'cache-dir': pipelineFlags['cache-dir'],
    remote: { ...pipelineFlags.remote, help: 'also show results on this shared cache (read only): s3://bucket/prefix or a directory (or RETHINK_REMOTE)' },
  });
  const port = intFlag('port', values.port, 0);
  if (port !== undefined && port > 65535) throw UserError.of('E_BAD_FLAG', `--port must be at most 65535, got ${port}`, 'leave --port out for a free port');
  const { startUi } = await import('../ui/start.js');
  const running = await startUi(io, {
    pipelines: positionals.length > 0 ? positionals : projectPipelines(io),
    cacheDir: values['cache-dir'],
    remote: values.remote,
    host: values.host,
    port,
    sets: values.set ?? [],
  });
  const pipelines = running.data.sources.map((s) => s.display).join(', ');
  io.stderr(`rethink ui: ${pipelines} over ${running.data.local.location}${running.data.remote ? ` and ${running.data.remote}` : ''}\n`);
  if (running.token !== undefined) io.stderr(`listening beyond this machine: every request needs the token in this URL (or Authorization: Bearer ${running.token})\n`);
  io.stdout(`${running.url}\n`);
  if (values.open) openBrowser(running.url, io);
  await stopSignal();
  await running.close();
  return 0;
};

/** The project's pipelines/*.yaml (and .yml), as `rethink status` would be asked about them; else the quick-start. */
function projectPipelines(io: CliIO): string[] {
  const names = (() => {
    try {
      return readdirSync(join(io.cwd, 'pipelines')).filter((n) => /\.ya?ml$/.test(n)).sort();
    } catch {
      return [];
    }
  })();
  return names.length > 0 ? names.map((n) => join('pipelines', n)) : [resolvePipeline(io, undefined)];
}

/** The platform's opener: the browser the user chose. */
function openBrowser(url: string, io: CliIO): void {
  const [command, ...args] = process.platform === 'darwin' ? ['open'] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""'] : ['xdg-open'];
  const child = spawn(command!, [...args, url], { stdio: 'ignore', detached: true });
  child.on('error', () => io.stderr(`rethink ui: no browser opener found (${command}): open ${url} yourself\n`));
  child.unref();
}

/** Until Ctrl-C (or SIGTERM, SIGHUP): the server stops then, which is the normal way to end it. */
function stopSignal(): Promise<void> {
  return new Promise((done) => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const stop = () => {
      for (const s of signals) process.off(s, stop);
      done();
    };
    for (const s of signals) process.on(s, stop);
  });
}
