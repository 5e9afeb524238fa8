// The `rethink` command: dispatches to lazily imported commands, so `status` and no-op runs never
// load what they do not use (the environment table and the diagnostics' formatter included); maps
// user errors to exit code 2 with file:line:col diagnostics.
import { readFileSync } from 'node:fs';
import type { CliIO, Command } from './io.js';
import { UserError } from '../util/user-error.js';
import { rethinkVersion } from '../exec/environment.js';
import { flagHelp, HelpRequest, outputFlags, pipelineFlags, type Flags } from './args.js';
import { CorruptObjectError } from '../store/object-check.js';
import { checkEnvironment } from '../util/env.js';

interface CommandEntry {
  /** What follows the command's name, before the flags: `STAGE [pipeline]`. */
  readonly args: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
  /** Run by executors and workers rather than by people: listed apart. */
  readonly internal?: true;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  init: { args: '[dir]', summary: 'start a project: a quick-start pipeline, a plugin of its own, a .gitignore for the cache', load: async () => (await import('./commands/init.js')).init },
  run: { args: '[pipeline]', summary: "run a pipeline (default: ./pipelines/quickstart.yaml; a bundled one by name: quickstart, figure1, …), reusing cached results", load: async () => (await import('./commands/run.js')).run },
  status: { args: '[pipeline]', summary: 'say which stages are up to date and why the others will run', load: async () => (await import('./commands/status.js')).status },
  validate: { args: '[pipeline]', summary: 'check a pipeline without running its stages (path plugins are imported: their top-level code runs)', load: async () => (await import('./commands/validate.js')).validate },
  dag: { args: '[pipeline]', summary: 'print the stage graph (--format ascii|mermaid|dot|json)', load: async () => (await import('./commands/dag.js')).dag },
  show: { args: 'STAGE [pipeline]', summary: "show a stage's outputs, key record and provenance", load: async () => (await import('./commands/show.js')).show },
  results: { args: 'STAGE [pipeline]', summary: "a stage's instances as a table, from the cache: matrix values, then the fields that vary", load: async () => (await import('./commands/results.js')).results },
  runs: { args: '[pipeline…]', summary: 'the results in the local cache, newest first: when, how long, which backend, still current or not', load: async () => (await import('./commands/runs.js')).runs },
  diff: { args: 'A B [pipeline]', summary: 'how two results differ: key (params, inputs, code), outputs, provenance; A and B: stage ids or key prefixes', load: async () => (await import('./commands/diff.js')).diff },
  verify: { args: '[pipeline]', summary: 'recompute up-to-date stages; check that they reproduce their cached bytes', load: async () => (await import('./commands/verify.js')).verify },
  export: { args: 'STAGE [pipeline]', summary: "copy a stage's outputs out of the store as named files (--to DIR, default results/); --model: trained models as TensorFlow.js and ONNX", load: async () => (await import('./commands/export.js')).exportCommand },
  predict: { args: 'MODEL IMAGE…', summary: 'what an exported model (rethink export STAGE --model) says about some images: the top classes', load: async () => (await import('./commands/predict.js')).predict },
  push: { args: '[pipeline]', summary: 'upload up-to-date results the shared remote lacks (--remote URL)', load: async () => (await import('./commands/sync.js')).push },
  pull: { args: '[pipeline]', summary: "download the pipeline's results from the shared remote (--remote URL)", load: async () => (await import('./commands/sync.js')).pull },
  gc: { args: '[pipeline…]', summary: 'delete results that are no longer current (--dry-run says what; --remote URL: on the remote)', load: async () => (await import('./commands/gc.js')).gc },
  fsck: { args: '', summary: 'hash every cached object against its name; quarantine bad ones (--remote URL: check that remote too)', load: async () => (await import('./commands/fsck.js')).fsck },
  doctor: { args: '', summary: 'check that rethink can run here: backends, Node, the cache, the remote, executor settings; what to fix', load: async () => (await import('./commands/doctor.js')).doctor },
  ui: { args: '[pipeline…]', summary: 'a web app over the cache: DAGs, sweeps, curves, runs, live progress (--port N, --host H, --open); read-only', load: async () => (await import('./commands/ui.js')).ui },
  plugins: { args: '', summary: 'list the built-in stage plugins', load: async () => (await import('./commands/plugins.js')).plugins },
  models: { args: '', summary: 'list the model definitions with their parameter counts', load: async () => (await import('./commands/models.js')).models },
  schema: { args: '', summary: 'print the pipeline JSON Schema', load: async () => (await import('./commands/schema.js')).schema },
  completion: { args: 'bash|zsh|fish', summary: 'print a shell completion script (commands, flags, stage names): source <(rethink completion bash)', load: async () => (await import('./commands/completion.js')).completion(COMMANDS) },
  worker: { args: '', summary: 'run stages from a queue (--queue redis://…) against the shared remote (--remote URL), until stopped', load: async () => (await import('./commands/worker.js')).worker },
  exec: { args: '', summary: 'run one stage from its job spec (--spec FILE|-, or --key KEY from --remote); --serve: a worker\'s warm child', load: async () => (await import('./commands/exec.js')).exec, internal: true },
};

function commandList(internal: boolean): string {
  return Object.entries(COMMANDS)
    .filter(([, c]) => (c.internal === true) === internal)
    .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
    .join('\n');
}

const USAGE = `usage: rethink <command> [pipeline] [flags]

commands:
${commandList(false)}

for executors and workers:
${commandList(true)}

every command: --quiet (-q), --verbose, --no-color (or NO_COLOR=1; FORCE_COLOR=1 forces color)
common flags: --set key=value (repeatable), --cache-dir DIR (or RETHINK_CACHE_DIR), --json (its document has "format": 1),
              --remote s3://bucket/prefix|DIR (or RETHINK_REMOTE), --remote-read-only
signing:      RETHINK_REMOTE_SIGNING_KEY=ci.pem signs uploads; with RETHINK_REMOTE_TRUSTED_KEYS=ci.pub.pem,…
              only results those keys signed are taken from the remote
timeouts:     an S3 remote's calls: RETHINK_REMOTE_CONNECT_TIMEOUT (default 5s), RETHINK_REMOTE_IDLE_TIMEOUT
              (30s with nothing sent or received, e.g. a stalled transfer), RETHINK_REMOTE_TIMEOUT (2m for one
              call, retries included; not a transfer's bytes); AWS_MAX_ATTEMPTS tries per call (3)
run flags:    --only GLOB, --jobs N, --dry-run, --keep-going, --retries N, --backend auto|native|wasm|cpu|webgpu|tfjs-node|tfjs-node-gpu,
              --executor local|subprocess (or RETHINK_EXECUTOR), --progress-interval N (no terminal: progress every N s)
worker flags: --queue redis://host:port/db (or RETHINK_QUEUE), --remote URL, --tags gpu, --concurrency N, --name NAME,
              --lock-ms N, --stalled-ms N; SIGTERM hands its running stages back to the queue
verify flags: --only GLOB, --sample N, --backend NAME
path plugins: a module named in uses: (./plugins/x.mjs) is imported by every command that reads the
              pipeline, validate included, which runs its top-level code: use plugins you trust
fsck flags:   --remote URL, --dry-run
ui flags:     --port N (default: a free one), --host H (default 127.0.0.1; any other needs the token it prints),
              --open (the system browser), --remote URL (read only); Ctrl-C stops it
exit codes:   0 ok, 1 a stage failed (verify: a result did not reproduce; fsck: a bad object), 2 bad pipeline or flags,
              130/143/129 stopped by SIGINT (Ctrl-C)/SIGTERM/SIGHUP (a second one exits at once);
              exec: 2 the stage's user error, 3 the job was refused (bad spec, other code, missing input, remote unreachable)

rethink <command> --help lists a command's flags; rethink help env, every environment variable.
`;

/** `rethink NAME --help`: its synopsis, what it does and every flag it takes. */
function commandHelp(name: string, entry: CommandEntry, all: Flags): string {
  // The command's own flags first, then those every pipeline command takes, then those every command takes.
  const rank = (f: string) => (f in outputFlags ? 2 : f in pipelineFlags ? 1 : 0);
  const flags = Object.fromEntries(Object.entries(all).sort(([a], [b]) => rank(a) - rank(b)));
  const synopsis = ['rethink', name, entry.args, Object.keys(flags).length > 0 ? '[flags]' : ''].filter(Boolean).join(' ');
  return `usage: ${synopsis}\n\n${entry.summary}\n${Object.keys(flags).length > 0 ? `\nflags:\n${flagHelp(flags)}\n` : ''}`;
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  // `rethink help env`: the environment variables, as the README's table lists them (--markdown: that table).
  if (name === 'help' && rest[0] === 'env') {
    const { envMarkdownTable, envText } = await import('../util/env-table.js');
    io.stdout(`${rest[1] === '--markdown' ? envMarkdownTable() : envText()}\n`);
    return 0;
  }
  // `rethink help run` is `rethink run --help`.
  if (name === 'help' && rest[0] !== undefined && COMMANDS[rest[0]]) return main([rest[0], '--help'], io);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${rethinkVersion()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`rethink: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    // A malformed variable stops every command before it does anything, all of them named at once.
    checkEnvironment(io.env);
    return await (await command.load())(rest, io);
  } catch (e) {
    if (e instanceof HelpRequest) {
      io.stdout(commandHelp(name, command, e.flags));
      return 0;
    }
    if (e instanceof CorruptObjectError) {
      // Not a bug: the disk (or someone) changed a stored object; it is quarantined and recomputed on the next run.
      io.stderr(`rethink ${name}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UserError) {
      // Imported here, as the environment table is above: a command that succeeds formats no diagnostic.
      const { formatDiagnostics } = await import('../config/diagnostic.js');
      io.stderr(`${formatDiagnostics(e.diagnostics, (file) => sourceText(file, io))}\n`);
      const n = e.diagnostics.length;
      if (n > 1) io.stderr(`\n${n} errors\n`);
      return e.exitCode;
    }
    throw e;
  }
}

function sourceText(file: string, io: CliIO): string | undefined {
  try {
    return readFileSync(file.startsWith('/') ? file : `${io.cwd}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}
