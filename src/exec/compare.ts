// How two versions of a stage's outputs differ, in words a researcher can act on: which tensors
// differ and by how much, which JSON fields changed and from what to what.
import { readFile, stat } from 'node:fs/promises';
import type { ObjectHash } from '../util/brand.js';
import type { OutputRef } from '../store/types.js';
import { openTensorArtifact, type ShardPaths } from '../tensors/sharded.js';
import { byteLength } from '../tensors/safetensors.js';
import type { TensorData, TensorFile, TensorSpec } from '../tensors/types.js';
import { jsonChanges } from '../util/json-diff.js';
import { CorruptObjectError } from '../store/object-check.js';

export interface OutputDiff {
  readonly output: string;
  readonly recorded: ObjectHash | null;
  readonly recomputed: ObjectHash | null;
  /** One line per difference found, most telling first; capped at `MAX_LINES`. */
  readonly details: readonly string[];
}

const MAX_LINES = 6;

/** How the two sides are named in the details (`diff` compares two results, `verify` a recomputation). */
export interface Sides {
  readonly before: string;
  readonly after: string;
}
const RECOMPUTATION: Sides = { before: 'the recorded result', after: 'the recomputation' };

/** Outputs whose bytes differ (by hash), each with what differs; [] when all are identical. */
export async function diffOutputs(
  recorded: Readonly<Record<string, OutputRef>>,
  recomputed: Readonly<Record<string, OutputRef>>,
  pathOf: (side: 'recorded' | 'recomputed', hash: ObjectHash) => Promise<string>,
  sides: Sides = RECOMPUTATION,
): Promise<OutputDiff[]> {
  const out: OutputDiff[] = [];
  for (const name of [...new Set([...Object.keys(recorded), ...Object.keys(recomputed)])].sort()) {
    const a = recorded[name];
    const b = recomputed[name];
    if (!a || !b) {
      out.push({ output: name, recorded: a?.hash ?? null, recomputed: b?.hash ?? null, details: [a ? `not written by ${sides.after}` : `not in ${sides.before}`] });
      continue;
    }
    // The same name is the same bytes only if the stored bytes are what their name says: each path
    // is a verified read (a sharded output's parts too), and a corrupt object is a difference, never "the same".
    const [pa, pb, partsA, partsB] = await Promise.all([
      readable(pathOf('recorded', a.hash), sides.before),
      readable(pathOf('recomputed', b.hash), sides.after),
      partPaths(a, (h) => readable(pathOf('recorded', h), sides.before)),
      partPaths(b, (h) => readable(pathOf('recomputed', h), sides.after)),
    ]);
    const corrupt = [pa, pb, ...partsA.corrupt, ...partsB.corrupt].filter((x): x is Corrupt => typeof x !== 'string');
    if (typeof pa !== 'string' || typeof pb !== 'string' || corrupt.length > 0) {
      out.push({ output: name, recorded: a.hash, recomputed: b.hash, details: corrupt.map((x) => x.line) });
      continue;
    }
    if (a.hash === b.hash) continue;
    let details: string[];
    try {
      details =
        a.kind === 'tensors' && b.kind === 'tensors'
          ? await diffTensorFiles(pa, pb, sides, { a: partsA.paths, b: partsB.paths })
          : a.kind === 'json' && b.kind === 'json'
            ? await diffJsonFiles(pa, pb)
            : [];
    } catch (e) {
      details = [`could not compare the contents: ${(e as Error).message}`];
    }
    if (details.length === 0) details = [await sizeLine(pa, pb)];
    out.push({ output: name, recorded: a.hash, recomputed: b.hash, details });
  }
  return out;
}

interface Corrupt {
  readonly line: string;
}

/** A sharded output's parts, by hash → path (undefined for an output in one file), and any corrupt ones. */
async function partPaths(ref: OutputRef, path: (hash: ObjectHash) => Promise<string | Corrupt>): Promise<{ paths?: ShardPaths; corrupt: Corrupt[] }> {
  if (ref.parts === undefined) return { corrupt: [] };
  const found = await Promise.all(ref.parts.map(async (p) => [p.hash, await path(p.hash)] as const));
  return {
    paths: new Map(found.flatMap(([hash, at]) => (typeof at === 'string' ? [[hash, at] as const] : []))),
    corrupt: found.flatMap(([, at]) => (typeof at === 'string' ? [] : [at])),
  };
}

/** The object's path, or what is wrong with it when its bytes do not match its name. */
async function readable(path: Promise<string>, side: string): Promise<string | Corrupt> {
  try {
    return await path;
  } catch (e) {
    if (!(e instanceof CorruptObjectError)) throw e;
    return { line: `${side}'s object is corrupt (${e.reason})${e.quarantined ? `; moved to ${e.quarantined}` : ''}` };
  }
}

async function sizeLine(a: string, b: string): Promise<string> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  return sa.size === sb.size ? `the bytes differ (${count(sa.size)} bytes each)` : `${count(sa.size)} bytes → ${count(sb.size)}`;
}

/** Rows compared at a time: a sharded output (a dataset) can be far larger than memory. */
const CHUNK_BYTES = 64 << 20;

/**
 * Per tensor: missing, reshaped, or how many values differ and the largest absolute difference. A
 * side with `shards` is a sharded output (its manifest at the path, its shards there), compared
 * rows at a time.
 */
export async function diffTensorFiles(pathA: string, pathB: string, sides: Sides = RECOMPUTATION, shards: { readonly a?: ShardPaths | undefined; readonly b?: ShardPaths | undefined } = {}): Promise<string[]> {
  const [fa, fb] = await Promise.all([openTensorArtifact(pathA, shards.a), openTensorArtifact(pathB, shards.b)]);
  try {
    const lines: string[] = [];
    let differing = 0;
    const names = [...new Set([...Object.keys(fa.tensors), ...Object.keys(fb.tensors)])].sort();
    for (const name of names) {
      const sa = fa.tensors[name];
      const sb = fb.tensors[name];
      if (!sa || !sb) {
        differing++;
        lines.push(`${name}: ${sa ? `missing from ${sides.after}` : `only in ${sides.after}`}`);
        continue;
      }
      if (sa.dtype !== sb.dtype || sa.shape.join() !== sb.shape.join()) {
        differing++;
        lines.push(`${name}: ${sa.dtype}[${sa.shape.join(',')}] → ${sb.dtype}[${sb.shape.join(',')}]`);
        continue;
      }
      const d = await diffTensor(fa, fb, name, sa);
      if (d.count === 0) continue;
      differing++;
      const max = Number.isFinite(d.maxAbs) ? `, max |Δ| ${d.maxAbs.toExponential(1)}` : '';
      lines.push(`${name}: ${count(d.count)} of ${count(d.total)} values differ${max}`);
    }
    const meta = [...new Set([...Object.keys(fa.metadata), ...Object.keys(fb.metadata)])].filter((k) => fa.metadata[k] !== fb.metadata[k]);
    for (const k of meta) lines.push(`metadata ${k}: ${clip(fa.metadata[k])} → ${clip(fb.metadata[k])}`);
    const shown = lines.slice(0, MAX_LINES);
    if (lines.length > MAX_LINES) shown.push(`and ${lines.length - MAX_LINES} more`);
    if (differing > 0) shown.unshift(`${differing} of ${names.length} tensor${names.length === 1 ? '' : 's'} differ`);
    return shown;
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** diffValues over one tensor of two files, read in chunks of rows. */
async function diffTensor(fa: TensorFile, fb: TensorFile, name: string, spec: TensorSpec): Promise<{ count: number; total: number; maxAbs: number }> {
  const rows = spec.shape[0];
  if (rows === undefined || rows === 0) return diffValues(await fa.read(name), await fb.read(name));
  const rowBytes = Math.max(1, byteLength({ dtype: spec.dtype, shape: spec.shape.slice(1) }));
  const step = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  const sum = { count: 0, total: 0, maxAbs: Number.NaN };
  for (let start = 0; start < rows; start += step) {
    const end = Math.min(rows, start + step);
    const [ca, cb] = await Promise.all([fa.readRows(name, start, end), fb.readRows(name, start, end)]);
    const d = diffValues(ca, cb);
    sum.count += d.count;
    sum.total += d.total;
    // diffValues says NaN for integers that do not differ (no maximum to give): the largest of the others.
    if (!Number.isNaN(d.maxAbs)) sum.maxAbs = Number.isNaN(sum.maxAbs) ? d.maxAbs : Math.max(sum.maxAbs, d.maxAbs);
  }
  return sum;
}

/** Values that differ bitwise (so -0 and 0, or two NaNs with other payloads, count), and max |a − b|. */
export function diffValues(a: TensorData, b: TensorData): { count: number; total: number; maxAbs: number } {
  const n = a.data.length;
  const isFloat = a.dtype === 'float32' || a.dtype === 'float64';
  const bitsA = bitView(a);
  const bitsB = bitView(b);
  let count = 0;
  let maxAbs = isFloat ? 0 : Number.NaN;
  for (let i = 0; i < n; i++) {
    if (bitsA[i] === bitsB[i]) continue;
    count++;
    const x = Number(a.data[i]);
    const y = Number(b.data[i]);
    const d = Math.abs(x - y);
    if (Number.isNaN(d)) maxAbs = Number.isNaN(x) !== Number.isNaN(y) ? Number.POSITIVE_INFINITY : maxAbs;
    else if (d > maxAbs || Number.isNaN(maxAbs)) maxAbs = d;
  }
  return { count, total: n, maxAbs };
}

function bitView(t: TensorData): ArrayLike<number | bigint> {
  const { buffer, byteOffset, length } = t.data as unknown as { buffer: ArrayBufferLike; byteOffset: number; length: number };
  if (t.dtype === 'float32') return new Uint32Array(buffer, byteOffset, length);
  if (t.dtype === 'float64') return new BigUint64Array(buffer, byteOffset, length);
  return t.data as ArrayLike<number>;
}

/** The leaves that differ, as `path: before → after`. */
export async function diffJsonFiles(pathA: string, pathB: string): Promise<string[]> {
  const [a, b] = await Promise.all([readFile(pathA, 'utf8'), readFile(pathB, 'utf8')]);
  const lines = jsonChanges(JSON.parse(a) as unknown, JSON.parse(b) as unknown).map((c) => {
    const at = c.path || '(the whole value)';
    if (c.kind === 'added') return `${at}: added (${clip(JSON.stringify(c.after))})`;
    if (c.kind === 'removed') return `${at}: removed (was ${clip(JSON.stringify(c.before))})`;
    return `${at}: ${clip(JSON.stringify(c.before))} → ${clip(JSON.stringify(c.after))}`;
  });
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`and ${lines.length - MAX_LINES} more fields`);
  return shown;
}

const clip = (s: string | undefined): string => (s === undefined ? 'none' : s.length > 40 ? `${s.slice(0, 37)}…` : s);
const count = (n: number): string => n.toLocaleString('en-US');
