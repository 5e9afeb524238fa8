// GET /api/runs/:key/outputs/:name: an output's bytes as a download. Only the run's declared outputs
// can be asked for, and only objects that are plain files inside the local cache are read.
import { extname } from 'node:path';
import type { ArtifactKind } from '../../plugin/types.js';
import type { OutputRef, RunRecord } from '../../store/types.js';
import { HttpError, notFound } from './http-error.js';
import type { Reply } from './reply.js';
import type { UiData } from './ui-data.js';

const TYPES: Readonly<Record<ArtifactKind, string>> = { json: 'application/json', tensors: 'application/octet-stream', file: 'application/octet-stream' };
const EXTENSION: Readonly<Record<ArtifactKind, string>> = { json: '.json', tensors: '.safetensors', file: '' };
/** Content types for the extensions plugins declare for `file` outputs. */
const FILE_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.pdf': 'application/pdf',
  '.csv': 'text/csv; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.vl.json': 'application/json',
};

/** The output `name` of a run, or a 404 naming those it has (never a lookup up the prototype chain). */
export function declaredOutput(record: RunRecord, name: string): OutputRef {
  if (!Object.hasOwn(record.outputs, name)) {
    throw notFound(`run ${record.key.slice(0, 12)} (${record.stage.id}) has no output "${name}"; its outputs: ${Object.keys(record.outputs).join(', ') || 'none'}`);
  }
  return record.outputs[name]!;
}

/** The object's path in the local cache, or a 404 that says where it is instead. */
export function objectFileOf(data: UiData, record: RunRecord, name: string, ref: OutputRef): string {
  const path = data.local.servedObjectPath(ref.hash);
  if (path === undefined) {
    throw new HttpError(404, 'E_NOT_LOCAL', `output "${name}" of ${record.stage.id} is not in the local cache ${data.local.location}${data.remote ? ' (it may be on the remote: rethink pull fetches it)' : ''}`);
  }
  return path;
}

export async function artifact(data: UiData, key: string, name: string): Promise<Reply> {
  const record = await data.record(key);
  const ref = declaredOutput(record, name);
  const path = objectFileOf(data, record, name, ref);
  const extension = await declaredExtension(data, record, name) ?? EXTENSION[ref.kind];
  const contentType = ref.kind === 'file' ? (FILE_TYPES[extension] ?? FILE_TYPES[extname(extension)] ?? TYPES.file) : TYPES[ref.kind];
  // The instance id as it reads (`fit[lr=0.01]`), with no path separators or control characters.
  const base = record.stage.id.replace(/[/\\\x00-\x1f\x7f]+/g, '_');
  return { kind: 'file', path, bytes: ref.size, contentType, filename: `${base}.${name}${extension}` };
}

/** The extension the plugin declares for the output, where the run's pipeline is one of those shown. */
async function declaredExtension(data: UiData, record: RunRecord, name: string): Promise<string | undefined> {
  const source = data.pipelineOfRecord(record);
  if (source === undefined) return undefined;
  const inst = (await data.pipeline(source.id).catch(() => undefined))?.ws.plan.instances.get(record.stage.id);
  return inst?.plugin.outputs[name]?.extension;
}
