// `rethink run [pipeline] [--set k=v]… [--only GLOB]… [--force GLOB]… [--jobs N] [--cache-dir DIR] [--dry-run] [--keep-going] [--retries N] [--executor NAME [--queue URL] [--slurm-args ARGS]] [--progress-interval N] [--json]`
import { jsonDocument } from '../../util/json-document.js';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { consoleToStderr, type Command } from '../io.js';
import { backendChoice, backendFlag, intFlag, onlyFlag, parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, localOf, openStore, remoteReadOnly, type Workspace } from '../workspace.js';
import { selectInstances, withUpstream } from '../../plan/select.js';
import { upstreamIds } from '../../plan/graph.js';
import { execute } from '../../exec/executor.js';
import { progressRecorder } from '../../exec/progress-recorder.js';
import { DEFAULT_REMOTE_JOBS, executorFlags, executorFor, executorName, isDistributed } from '../executors.js';
import type { Observer, StageReport } from '../../exec/events.js';
import type { Store } from '../../store/types.js';
import type { LocalStore } from '../../store/local.js';
import type { TieredStore } from '../../store/tiered.js';
import type { ObjectHash, StageId } from '../../util/brand.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, plainRenderer } from '../render/plain.js';
import { outputMode } from '../output.js';
import { parseDuration } from '../../util/duration.js';
import { runDocument } from '../render/json.js';
import { UserError } from '../../util/user-error.js';
import { CorruptObjectError } from '../../store/object-check.js';
import { Interrupt } from '../interrupt.js';
import { ENV } from '../../util/env.js';
import { nativeFallbackNote } from '../native-hint.js';
import type { Plan } from '../../plan/plan.js';

export const run: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('run', argv, {
    ...pipelineFlags,
    only: { ...onlyFlag, help: `${onlyFlag.help}; the stages they need run too` },
    jobs: { type: 'string', short: 'j', value: 'N', help: `cores in use at most (default: all of them); under --executor slurm or queue, jobs in flight at most (default ${DEFAULT_REMOTE_JOBS})` },
    'dry-run': { type: 'boolean', short: 'n', help: 'say what would run, and why; run nothing' },
    'keep-going': { type: 'boolean', short: 'k', help: 'after a failure, go on with the stages that do not depend on it' },
    retries: { type: 'string', value: 'N', help: 'attempts after a failure, for stages that set no retries (default 0)' },
    backend: backendFlag,
    ...executorFlags,
    force: { ...onlyFlag, help: `${onlyFlag.help}: compute them even if cached, and replace the cached result` },
    'progress-interval': { type: 'string', value: 'N', help: `without a terminal: a running stage's progress line at most every N seconds (or 30s, 2m; default ${DEFAULT_PROGRESS_INTERVAL_MS / 1000})` },
  });
  if (positionals.length > 1) throw UserError.of('E_BAD_FLAG', `rethink run takes one pipeline, got ${positionals.length}: ${positionals.join(' ')}`);
  const executor = executorName(values.executor, io.env);
  const output = outputMode(values, io);
  const progressIntervalMs = progressInterval(values['progress-interval']);
  const backend = await backendChoice(values.backend, io.env);
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  const jobs = intFlag('jobs', values.jobs, 1) ?? (isDistributed(executor) ? DEFAULT_REMOTE_JOBS : availableParallelism());
  const retries = intFlag('retries', values.retries, 0);
  const retryDelayMs = ENV.retryDelayMs.read(io.env);
  const force = values.force ? selectInstances(ws.plan, values.force, '--force') : undefined;
  // A job elsewhere takes the result the remote already has for its key, which --force would replace.
  if (force && isDistributed(executor)) {
    throw UserError.of('E_BAD_FLAG', `--force cannot be combined with --executor ${executor}: its jobs keep the results the remote already has`, 'recompute them with --executor local or subprocess: --force replaces the result in the local cache (the remote keeps its copy)');
  }
  // Forced instances run whatever --only says.
  const only = values.only ? new Set([...selectInstances(ws.plan, values.only), ...(force ?? [])]) : undefined;
  // Before anything trains: one visible line when auto would pass over a native backend that is missing.
  if (values['dry-run'] !== true) {
    const note = nativeFallbackNote({ request: backend, stageBackends: stageBackends(ws.plan, only) });
    if (note !== undefined) io.stderr(`${note}\n`);
  }
  // Until here a signal ends the process as usual: it holds nothing yet. From here on it stops the
  // run, remote calls in flight included.
  const interrupt = new Interrupt((line) => io.stderr(`${line}\n`));
  let restoreConsole = (): void => {};
  try {
    const store = await openStore(io, values, interrupt.signal);
    const dryRun = values['dry-run'] === true;
    if (!dryRun) await prepareStore(store, remoteReadOnly(io, values), (line) => io.stderr(`warning: ${line}\n`));
    // After the cache is marked: an engine may keep files in it (Slurm's job logs).
    const { runners, close } = await executorFor(executor, {
      plan: ws.plan,
      store,
      flags: values,
      env: io.env,
      remoteReadOnly: remoteReadOnly(io, values),
      warn: (line) => io.stderr(`warning: ${line}\n`),
      dryRun,
    });
    const shownPath = ws.file.source.file;

    let observe: Observer = () => {};
    let finished: Promise<void> = Promise.resolve();
    // The live display: a terminal's progress list, or (no terminal, or --verbose streaming logs) plain
    // lines; none with --json or --quiet, which end with the summary alone.
    const display = values.json || output.verbosity === 'quiet' ? 'none' : io.isTTY && output.verbosity === 'normal' ? 'terminal' : 'lines';
    if (display === 'terminal') {
      const { listrRenderer } = await import('../render/listr.js');
      const ids = only ? [...withUpstream(ws.plan, only)] : ws.plan.order;
      ({ observe, finished } = await listrRenderer(ws.plan, ids, { color: output.color }));
    } else if (display === 'lines') observe = plainRenderer(io.stderr, { verbose: output.verbosity === 'verbose', ...(progressIntervalMs === undefined ? {} : { progressIntervalMs }) });
    // Warnings reach stderr whatever renders the stages: plain lines print them as they come, --json
    // and --quiet as they come too, and a terminal's progress list would paint over them until it ends.
    const warnings: string[] = [];
    if (display !== 'lines') {
      const render = observe;
      observe = (e) => {
        if (e.type !== 'warning') return render(e);
        if (display === 'none') io.stderr(`warning: ${e.message}\n`);
        else warnings.push(`warning: ${e.message}\n`);
      };
    }
    // Each running stage's progress, in the local cache, for `rethink ui` in another process.
    const recorder = dryRun ? undefined : progressRecorder(localOf(store).location, ws.plan.pipeline, (line) => io.stderr(`warning: ${line}\n`));
    if (recorder) {
      const render = observe;
      observe = (e) => {
        recorder.observe(e);
        render(e);
      };
    }
    // With --json, stdout is one JSON document: whatever plugins log goes to stderr instead.
    if (values.json) restoreConsole = consoleToStderr();
    const summary = await execute(
      ws.plan,
      store,
      runners,
      {
        jobs,
        keepGoing: values['keep-going'] === true,
        dryRun: values['dry-run'] === true,
        ...(only ? { only } : {}),
        ...(force ? { force } : {}),
        signal: interrupt.signal,
        ...(retries === undefined ? {} : { retries }),
        retryDelayMs,
        ...(backend === undefined ? {} : { backend }),
      },
      observe,
    ).finally(async () => {
      await recorder?.close();
      await close();
    });
    await finished.catch(() => undefined); // failures are reported below
    // Uploads run in the background while later stages train; the run ends when they are done.
    const remote = 'flush' in store ? await store.flush() : undefined;
    if (values.json) io.stdout(jsonDocument(runDocument(shownPath, summary.stages, summary.seconds, remote)));
    else {
      const { summaryLine, stageLine, remoteLine } = await import('../render/plain.js');
      if (display !== 'lines') {
        for (const w of warnings) io.stderr(w);
        // Failures, and what forcing did (the progress lines show counts only).
        for (const s of summary.stages) if (s.status === 'failed' || (s.status === 'ran' && force?.has(s.id))) io.stderr(`${stageLine(s)}\n`);
        io.stderr(`${summaryLine(summary.stages, summary.seconds)}\n`);
      }
      if (remote) io.stderr(`${remoteLine(remote)}\n`);
      if (summary.ok && !values['dry-run']) io.stdout(await finalResults(ws, summary.stages, store, positionals[0]));
    }
    if (interrupt.exitCode !== undefined) return interrupt.exitCode;
    if (summary.ok) return 0;
    const failed = summary.stages.filter((st) => st.status === 'failed');
    // Only the user's input failed (e.g. a checksum mismatch): exit 2 like any other bad input.
    return failed.length > 0 && failed.every((st) => st.userError === true) ? 2 : 1;
  } finally {
    restoreConsole();
    interrupt.dispose();
  }
};

/** The `backend` param of each instance to run whose plugin picks a tfjs backend (train, evaluate). */
function stageBackends(plan: Plan, only: ReadonlySet<StageId> | undefined): (string | null)[] {
  const ids = only ? withUpstream(plan, only) : plan.order;
  const backends: (string | null)[] = [];
  for (const id of ids) {
    const i = plan.instances.get(id)!;
    const properties = (i.plugin.params as { properties?: Record<string, unknown> }).properties ?? {};
    if (!('backend' in properties)) continue;
    const b = i.params['backend'];
    backends.push(typeof b === 'string' ? b : null);
  }
  return backends;
}

/** `--progress-interval N`: seconds, or a duration (`30s`, `2m`), as milliseconds. */
function progressInterval(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw UserError.of('E_BAD_FLAG', `--progress-interval must be seconds or a duration (10, 30s, 2m), got "${value}"`);
  return ms;
}

/** Markdown outputs longer than this many lines in all are named, not printed. */
const MAX_PRINTED_LINES = 60;

/**
 * What the run came to: its final stages (those nothing else in the run reads). Their Markdown
 * outputs (a table, a report's text) are printed when short; otherwise, and for the other final
 * stages, how to see them.
 */
async function finalResults(ws: Workspace, stages: readonly StageReport[], store: Store, pipeline: string | undefined): Promise<string> {
  const done = new Map(stages.filter((s) => s.status === 'ran' || s.status === 'cached').map((s) => [s.id, s]));
  // Final within this run: with --only, the selected stages whose dependents did not run.
  const readInRun = new Set(stages.flatMap((s) => upstreamIds(ws.plan.instances.get(s.id)!)));
  const sinks = ws.plan.order.filter((id) => done.has(id) && !readInRun.has(id));
  const texts: string[] = [];
  const hints: string[] = [];
  const where = pipeline === undefined ? '' : ` ${pipeline}`;
  for (const id of sinks) {
    const inst = ws.plan.instances.get(id)!;
    const md = Object.entries(inst.plugin.outputs).find(([, o]) => o.kind === 'file' && o.extension === '.md')?.[0];
    const hash = md === undefined ? undefined : done.get(id)!.outputs[md];
    const show = Object.values(inst.plugin.outputs).some((o) => o.kind === 'file') ? `rethink export '${id}'${where}` : `rethink show '${id}'${where}`;
    try {
      if (hash !== undefined) texts.push((await readFile(await store.objectPath(hash as ObjectHash), 'utf8')).trimEnd());
      hints.push(`  ${id}: ${show}`);
    } catch (e) {
      if (!(e instanceof CorruptObjectError)) throw e;
      hints.push(`  ${id}: ${e.message}`);
    }
  }
  const lines = texts.join('\n\n').split('\n').length;
  const printed = texts.length > 0 && lines <= MAX_PRINTED_LINES ? `\n${texts.join('\n\n')}\n` : '';
  return `${printed}${hints.length > 0 ? `\nresults:\n${hints.join('\n')}\n` : ''}`;
}

/**
 * Before a run writes: marks the cache (an older rethink's cache gets its marker here, which lets
 * `gc` work in it) and sweeps what killed runs left in its tmp/ and in a writable directory remote's.
 */
async function prepareStore(store: LocalStore | TieredStore, remoteReadOnly: boolean, warn: (line: string) => void): Promise<void> {
  const local = localOf(store);
  // A cache that cannot be written (a read-only mount of a colleague's) serves a fully cached run
  // all the same; anything that must write there fails at that write, with its own error.
  const marked = await local.ensureDirs().catch(() => true);
  if (!marked) warn(`${local.location} holds files that are not rethink's: it is used as the cache but not marked as one, so gc will not delete there`);
  await local.sweepTmp();
  if ('remote' in store && !remoteReadOnly) await store.remote.sweepTmp?.();
}

