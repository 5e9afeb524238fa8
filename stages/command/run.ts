// The command stage's body: inputs hard-linked (read-only) into a scratch folder, the command run in
// the pipeline's folder as its own process group with a hermetic environment, its lines sent to the
// stage's log and progress, then each declared output checked and published; nothing else is kept.
import { createReadStream } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserInputError } from '../../src/util/user-error.js';
import { type Artifact, type StageContext } from '../../src/plugin/types.js';
import { openSafetensors, SafetensorsFormatError } from '../../src/tensors/safetensors.js';
import { hermeticEnv } from './env.js';
import { hashFiles } from './fingerprint.js';
import type { CommandParams } from './params.js';
import { EXTENSIONS, fillPorts, type PortPaths } from './ports.js';
import { splitShellWords, ShellWordsError } from '../../src/util/shell.js';
import { runProcess } from './process.js';
import { ENV } from '../../src/util/env.js';

export async function runCommand(ctx: StageContext<CommandParams>, baseDir: string): Promise<void> {
  const { params } = ctx;
  await checkFiles(params, baseDir);
  const scratch = await ctx.tempDir();
  const outDir = join(scratch, 'outputs');
  const tmp = join(scratch, 'tmp');
  await Promise.all([mkdir(outDir), mkdir(tmp)]);
  const paths: PortPaths = {
    inputs: await materialise(ctx.inputs, join(scratch, 'inputs')),
    outputs: new Map(Object.entries(params.outputs).map(([name, kind]) => [name, join(outDir, `${name}${EXTENSIONS[kind]}`)])),
  };
  const text = fillPorts(params.run, paths, true);
  const argv = params.shell === false ? words(text, 'run') : [params.shell, '-e', ...(params.shell === 'bash' ? ['-o', 'pipefail'] : []), '-c', text];
  if (argv.length === 0) throw new UserInputError(`stage ${ctx.stage.id}: run: is empty once its words are split`);
  const own = Object.fromEntries(Object.entries(params.env).map(([k, v]) => [k, fillPorts(v, paths, false)]));
  const env = hermeticEnv({
    ...own,
    TMPDIR: tmp,
    [ENV.stageSeed.name]: String(ctx.seed),
    [ENV.stageId.name]: ctx.stage.id,
    [ENV.stageCores.name]: String(ctx.cores),
  });
  ctx.signal.throwIfAborted();
  const result = await runProcess(argv, { cwd: baseDir, env, signal: ctx.signal, onLine: (line) => ctx.log(line), onProgress: (u) => ctx.progress(u) });
  ctx.signal.throwIfAborted();
  if (result.kind === 'not-started') {
    throw new UserInputError(
      result.code === 'ENOENT'
        ? `stage ${ctx.stage.id}: program "${argv[0]}" not found on PATH (${env.PATH ?? 'unset'}) from ${baseDir}: install it, or name it by its path`
        : `stage ${ctx.stage.id}: program "${argv[0]}" cannot be run (permission denied): chmod +x it, or name its interpreter first (e.g. python3 ${argv[0]})`,
    );
  }
  if (result.kind !== 'exited' || result.code !== 0) {
    const how = result.kind === 'exited' ? `exited with code ${result.code}` : `was killed by ${result.signal}`;
    const tail = result.tail.length > 0 ? `; its last lines:\n${result.tail.map((l) => `    ${l}`).join('\n')}` : ' (it printed nothing)';
    // `::error <message>` is the command saying the fault is the user's to fix (exit code 2, no retry).
    if (result.error !== undefined) throw new UserInputError(`${result.error} (the command ${how})`);
    throw new Error(`the command ${how}: ${oneLine(params.shell === false ? argv.join(' ') : text)}${tail}`);
  }
  await publish(ctx, outDir, paths.outputs);
}

function words(text: string, field: string): string[] {
  try {
    return splitShellWords(text);
  } catch (e) {
    if (e instanceof ShellWordsError) throw new UserInputError(`${field}: ${e.message}: ${text}`);
    throw e;
  }
}

const oneLine = (s: string): string => {
  const flat = s.replace(/\s*\n\s*/g, '; ');
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
};

/** A listed file that is missing fails the stage: its content is in the key, so the key would lie. */
async function checkFiles(params: Readonly<CommandParams>, baseDir: string): Promise<void> {
  const missing = (await hashFiles(params.files, baseDir)).filter(([, hash]) => hash === null).map(([p]) => p);
  if (missing.length > 0) throw new UserInputError(`files: ${missing.join(', ')} not found in ${baseDir} (paths in files: are relative to the pipeline file)`);
}

/** Each input as read-only files under `dir`: `NAME.ext`, or `NAME/000-<instance>.ext` for a fan-in input. */
async function materialise(inputs: StageContext['inputs'], dir: string): Promise<Map<string, string[]>> {
  await mkdir(dir);
  const out = new Map<string, string[]>();
  for (const [name, value] of Object.entries(inputs)) {
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      const a = value as Artifact;
      out.set(name, [await place(a, join(dir, `${name}${EXTENSIONS[a.kind]}`))]);
      continue;
    }
    const many = value as readonly Artifact[];
    await mkdir(join(dir, name));
    const width = String(many.length).length;
    out.set(
      name,
      await Promise.all(many.map((a, i) => place(a, join(dir, name, `${String(i).padStart(width, '0')}-${a.from.id.replace(/[^A-Za-z0-9._=,-]/g, '_')}${EXTENSIONS[a.kind]}`)))),
    );
  }
  return out;
}

/** A hard link to the store's (read-only) object, or a read-only copy where links cannot be made. */
async function place(a: Artifact, path: string): Promise<string> {
  try {
    await link(a.path, path);
  } catch {
    await copyFile(a.path, path);
    await chmod(path, 0o444);
  }
  return path;
}

/** Every declared output written, nothing else, each valid for its kind: then each is stored. */
async function publish(ctx: StageContext<CommandParams>, outDir: string, outputs: ReadonlyMap<string, string>): Promise<void> {
  const declared = [...outputs].map(([name, path]) => `${name} (${ctx.params.outputs[name]}, ${path})`).join(', ');
  const expected = new Set([...outputs.values()].map((p) => p.slice(outDir.length + 1)));
  const extra = (await readdir(outDir)).filter((f) => !expected.has(f)).sort();
  if (extra.length > 0) {
    throw new UserInputError(`the command wrote ${extra.map((f) => `"${f}"`).join(', ')} in its outputs folder, which no output of stage ${ctx.stage.id} declares (declared: ${declared}); write scratch files to $TMPDIR`);
  }
  for (const [name, path] of outputs) {
    const kind = ctx.params.outputs[name]!;
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw new UserInputError(`the command did not write output "${name}" (${kind}) to \${outputs.${name}} (${path})`);
    if (!info.isFile()) throw new UserInputError(`output "${name}" must be a file, but the command left a ${info.isDirectory() ? 'folder' : 'special file'} at ${path}`);
    switch (kind) {
      case 'json': {
        let value: unknown;
        try {
          value = JSON.parse(await readFile(path, 'utf8'));
        } catch (e) {
          throw new UserInputError(`output "${name}" (json) is not JSON: ${(e as Error).message}`);
        }
        await ctx.writeJson(name, value);
        break;
      }
      case 'tensors':
        await copyTensors(ctx, name, path);
        break;
      case 'file':
        await ctx.writeFile(name, createReadStream(path));
        break;
    }
  }
}

/** A safetensors file, checked and laid out as rethink stores tensors (name order: equal tensors, equal bytes). */
async function copyTensors(ctx: StageContext<CommandParams>, name: string, path: string): Promise<void> {
  let file;
  try {
    file = await openSafetensors(path);
  } catch (e) {
    if (e instanceof SafetensorsFormatError) throw new UserInputError(`output "${name}" (tensors) is not a safetensors file rethink reads: ${e.message}`);
    throw e;
  }
  try {
    const writer = await ctx.createTensorWriter(name, file.tensors, file.metadata);
    for (const tensor of Object.keys(file.tensors)) {
      const t = await file.read(tensor);
      await writer.write(tensor, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    await writer.close();
  } finally {
    await file.close();
  }
}
