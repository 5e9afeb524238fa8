// GET /api/runs/:key/outputs/:name/preview and …/images/:i.png: what a tensors output holds, without
// downloading it: each tensor's shape, dtype, range, mean and a histogram over all its values (read
// in chunks of rows, so a dataset's 150 MB never sits in memory twice), and for a dataset (images
// x_* [N,H,W,C] uint8 with labels y_* [N]) its first images as PNG thumbnails with their labels.
import type { TensorPreview } from '../../ui/api.js';
import { openTensorArtifact } from '../../tensors/sharded.js';
import type { TensorFile, TensorSpec } from '../../tensors/types.js';
import { badRequest, notFound } from './http-error.js';
import { declaredOutput, objectFileOf } from './artifacts.js';
import { outputHref } from './run-detail.js';
import type { UiData } from './ui-data.js';

export const HISTOGRAM_BINS = 20;
/** Thumbnails shown of a dataset. */
export const PREVIEW_IMAGES = 16;
/** Values read at once while summarizing a tensor. */
const CHUNK_VALUES = 1 << 22;

type Summary = TensorPreview['tensors'][number];

/** Previews are of immutable objects: kept by object hash. */
const previews = new Map<string, TensorPreview>();

async function withTensors<T>(data: UiData, key: string, name: string, use: (f: TensorFile) => Promise<T>): Promise<T> {
  const record = await data.record(key);
  const ref = declaredOutput(record, name);
  if (ref.kind !== 'tensors') throw badRequest(`output "${name}" is ${ref.kind}, not tensors: previews are of tensors outputs (download it instead)`);
  // A sharded output (a big dataset) is read through its manifest, across its shards.
  const parts = ref.parts?.map((p) => [p.hash, objectFileOf(data, record, name, { ...p, kind: ref.kind })] as const);
  const f = await openTensorArtifact(objectFileOf(data, record, name, ref), parts === undefined ? undefined : new Map(parts));
  try {
    return await use(f);
  } finally {
    await f.close();
  }
}

export async function preview(data: UiData, key: string, name: string): Promise<TensorPreview> {
  const hash = declaredOutput(await data.record(key), name).hash;
  const known = previews.get(hash);
  if (known) return { ...known, images: known.images.map((img, i) => ({ ...img, href: imageHref(key, name, i) })) };
  const doc = await withTensors(data, key, name, async (f) => {
    const tensors: Summary[] = [];
    for (const [n, spec] of Object.entries(f.tensors)) tensors.push(await summarize(f, n, spec));
    const images = await datasetImages(f);
    return { format: 1 as const, name, tensors, images: images.map((label, i) => ({ href: imageHref(key, name, i), label })) };
  });
  previews.set(hash, doc);
  return doc;
}

export async function previewImage(data: UiData, key: string, name: string, index: number): Promise<Buffer> {
  return withTensors(data, key, name, async (f) => {
    const x = imageTensor(f);
    if (x === undefined) throw notFound(`output "${name}" is not a dataset of images (uint8 x_* [N,H,W,C] with C 1, 3 or 4)`);
    const [n, h, w, c] = f.tensors[x]!.shape as [number, number, number, number];
    if (index >= Math.min(n, PREVIEW_IMAGES)) throw notFound(`image ${index}: the preview has ${Math.min(n, PREVIEW_IMAGES)} images`);
    const row = await f.readRows(x, index, index + 1);
    const pixels = row.data as Uint8Array;
    // sharp (a dependency already, for image folders) encodes raw 1-, 3- or 4-channel rows.
    const { default: sharp } = await import('sharp');
    return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } }).png().toBuffer();
  });
}

const imageHref = (key: string, name: string, i: number): string => `${outputHref(key, name)}/images/${i}.png`;

/** The images tensor of a dataset: x_train first, else the first x_* that is uint8 [N,H,W,C]. */
function imageTensor(f: TensorFile): string | undefined {
  const isImages = (s: TensorSpec) => s.dtype === 'uint8' && s.shape.length === 4 && [1, 3, 4].includes(s.shape[3]!) && s.shape[0]! > 0;
  const names = Object.keys(f.tensors).filter((n) => /^x(_|$)/.test(n) && isImages(f.tensors[n]!));
  return names.includes('x_train') ? 'x_train' : names[0];
}

/** The labels of the dataset's first images (null where it has no labels tensor). */
async function datasetImages(f: TensorFile): Promise<(number | null)[]> {
  const x = imageTensor(f);
  if (x === undefined) return [];
  const count = Math.min(f.tensors[x]!.shape[0]!, PREVIEW_IMAGES);
  const y = `y${x.slice(1)}`;
  const ys = f.tensors[y];
  if (ys === undefined || ys.shape.length !== 1 || ys.shape[0] !== f.tensors[x]!.shape[0] || ys.dtype === 'bool') return new Array<null>(count).fill(null);
  const labels = await f.readRows(y, 0, count);
  return Array.from(labels.data as ArrayLike<number>, Number);
}

/** Range, mean and a histogram of every value, over chunks of rows (two passes: range, then bins). */
async function summarize(f: TensorFile, name: string, spec: TensorSpec): Promise<Summary> {
  const rows = spec.shape.length === 0 ? 1 : spec.shape[0]!;
  const perRow = spec.shape.length === 0 ? 1 : spec.shape.slice(1).reduce((a, b) => a * b, 1);
  const step = Math.max(1, Math.floor(CHUNK_VALUES / Math.max(1, perRow)));
  const chunks = async function* (): AsyncGenerator<ArrayLike<number>> {
    if (spec.shape.length === 0 || perRow === 0) {
      yield (await f.read(name)).data as ArrayLike<number>;
      return;
    }
    for (let r = 0; r < rows; r += step) yield (await f.readRows(name, r, Math.min(rows, r + step))).data as ArrayLike<number>;
  };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  for await (const values of chunks()) {
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      count++;
    }
  }
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  if (count > 0) {
    const width = (max - min) / HISTOGRAM_BINS;
    for await (const values of chunks()) {
      for (let i = 0; i < values.length; i++) {
        const v = Number(values[i]);
        if (!Number.isFinite(v)) continue;
        counts[width === 0 ? 0 : Math.min(HISTOGRAM_BINS - 1, Math.floor((v - min) / width))]!++;
      }
    }
  }
  const edges = count === 0 ? [] : Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => min + ((max - min) * i) / HISTOGRAM_BINS);
  return {
    name,
    dtype: spec.dtype,
    shape: [...spec.shape],
    min: count === 0 ? 0 : min,
    max: count === 0 ? 0 : max,
    mean: count === 0 ? 0 : sum / count,
    histogram: { edges, counts: count === 0 ? [] : counts },
  };
}
