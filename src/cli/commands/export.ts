// `rethink export STAGE [pipeline] [--to DIR] [--json]`: copies the current outputs of a stage (a
// name, an instance id or a glob, as --only takes) out of the content-addressed store into readable
// files: DIR/<instance id>/<output><extension>, e.g. results/report/html.html. The store keeps
// objects by hash, read-only; exported copies are the user's to open, move and edit. With --model, a
// trained model is written as TensorFlow.js and ONNX files instead (./export-model.ts).
import { jsonDocument } from '../../util/json-document.js';
import { copyFile, chmod, mkdir, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { explain } from '../../exec/explain.js';
import { selectInstances } from '../../plan/select.js';
import type { ArtifactKind } from '../../plugin/types.js';
import { exportInstanceModels, modelFormats, noModels, type ExportedModel } from './export-model.js';

const DEFAULT_EXTENSION: Readonly<Record<ArtifactKind, string>> = { json: '.json', tensors: '.safetensors', file: '' };

export const exportCommand: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('export', argv, {
    ...pipelineFlags,
    to: { type: 'string', short: 'o', value: 'DIR', help: 'where to copy: DIR/<instance id>/<output><extension> (default results/)' },
    model: { type: 'boolean', help: 'write trained models as TensorFlow.js (model.json) and ONNX (model.onnx) files: DIR/<instance id>/<output>/' },
    format: { type: 'string', value: 'tfjs,onnx', help: 'with --model: which formats (default both)' },
  });
  const [target, pipeline, ...extra] = positionals;
  if (!target || extra.length > 0) throw UserError.of('E_BAD_FLAG', 'rethink export takes a stage and at most one pipeline', "e.g. rethink export report pipelines/figure1.yaml --to results");
  if (values.format !== undefined && values.model !== true) throw UserError.of('E_BAD_FLAG', '--format goes with --model', 'e.g. rethink export train --model --format onnx');
  const formats = values.model === true ? modelFormats(values.format) : [];
  const ws = await loadWorkspace(io, pipeline, values.set ?? []);
  const selected = selectInstances(ws.plan, [target]);
  const store = await openStore(io, values);
  const dir = values.to ?? 'results';
  const root = isAbsolute(dir) ? dir : resolve(io.cwd, dir);
  await checkDestination(root, dir);
  const states = (await explain(ws.plan, store)).filter((s) => selected.has(s.id));
  const written: { id: string; output: string; path: string }[] = [];
  const models: ExportedModel[] = [];
  const missing = states.filter((s) => s.status !== 'up-to-date');
  for (const s of states) {
    if (s.status !== 'up-to-date') continue;
    const record = (await store.readRun(s.key!))!;
    if (values.model === true) {
      models.push(...(await writing(join(root, s.id), io.cwd, () => exportInstanceModels(store, s.id, s.key!, record, root, formats))));
      continue;
    }
    const specs = ws.plan.instances.get(s.id)!.plugin.outputs;
    for (const [name, ref] of Object.entries(record.outputs)) {
      const dest = join(root, s.id, `${name}${specs[name]?.extension ?? DEFAULT_EXTENSION[ref.kind]}`);
      const source = await store.objectPath(ref.hash);
      await writing(dest, io.cwd, async () => {
        await mkdir(join(dest, '..'), { recursive: true });
        await rm(dest, { force: true });
        await copyFile(source, dest);
        await chmod(dest, 0o644);
      });
      written.push({ id: s.id, output: name, path: dest });
    }
  }
  if (values.model === true && models.length === 0 && missing.length < states.length) throw noModels(target);
  if (values.json) {
    const exported = values.model === true ? models : written;
    io.stdout(jsonDocument({ pipeline: ws.file.source.file, exported, missing: missing.map((s) => ({ id: s.id, reasons: s.reasons })) }));
  } else if (values.model === true) {
    for (const m of models) io.stdout(`${m.files.map((f) => relative(io.cwd, join(m.path, f)) || f).join('\n')}\n`);
  } else for (const w of written) io.stdout(`${relative(io.cwd, w.path) || w.path}\n`);
  if (missing.length > 0) {
    const cmd = `rethink run ${pipeline ?? ''}`.trimEnd();
    io.stderr(`rethink export: ${missing.length} not up to date, not exported (run \`${cmd}\` first):\n${missing.map((s) => `  ${s.id}: ${s.reasons.join('; ')}`).join('\n')}\n`);
    return 1;
  }
  return 0;
};

/** `--to` must be a directory, or not exist yet (it is created): said before anything is copied. */
async function checkDestination(root: string, given: string): Promise<void> {
  const info = await stat(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw destinationError(given, e);
  });
  if (info !== undefined && !info.isDirectory()) {
    throw UserError.of('E_EXPORT_TO', `--to ${given}: it is a file, not a directory`, 'pass a directory to export into (it is created if missing), e.g. --to results');
  }
}

/** Runs one file's copy; a file-system refusal (permissions, a file in the way, a full disk) is the user's to fix. */
async function writing<T>(dest: string, cwd: string, copy: () => Promise<T>): Promise<T> {
  try {
    return await copy();
  } catch (e) {
    throw destinationError(relative(cwd, dest) || dest, e);
  }
}

const WHY: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'a directory is in the way',
  ERR_FS_EISDIR: 'a directory is in the way',
  EEXIST: 'a file is in the way',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

function destinationError(shown: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return e;
  return UserError.of('E_EXPORT_TO', `cannot export to ${shown}: ${WHY[code] ?? code} (${code})`, 'pass --to a directory you can write to (it is created if missing)');
}
