// The dataset artifact: one tensors output `dataset` holding x_train uint8 [N,H,W,C], y_train int32 [N],
// x_test, y_test, plus string metadata (`classes` as a JSON array, `source`, checksums...).
// Helpers here write a whole in-memory dataset in bounded chunks and read one back batch by batch.
import type { StageContext } from '../plugin/types.js';
import type { TensorData, TensorFile, TensorSpec } from '../tensors/types.js';
import { DataError } from './errors.js';

export const DATASET_OUTPUT = 'dataset';
export const SPLITS = ['train', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface SplitData {
  /** NHWC, row-major. */
  readonly x: Uint8Array;
  readonly y: Int32Array;
}

export interface Dataset extends ImageShape {
  readonly classes: readonly string[];
  readonly train: SplitData;
  readonly test: SplitData;
}

/** Chunks handed to the tensor writer: big enough to be cheap, small enough to never matter. */
export const WRITE_CHUNK_BYTES = 8 << 20;

export function imageSize(shape: ImageShape): number {
  return shape.height * shape.width * shape.channels;
}

export function datasetSpecs(shape: ImageShape, trainCount: number, testCount: number): Record<string, TensorSpec> {
  const hwc = [shape.height, shape.width, shape.channels];
  return {
    x_train: { dtype: 'uint8', shape: [trainCount, ...hwc] },
    y_train: { dtype: 'int32', shape: [trainCount] },
    x_test: { dtype: 'uint8', shape: [testCount, ...hwc] },
    y_test: { dtype: 'int32', shape: [testCount] },
  };
}

export function datasetMetadata(
  classes: readonly string[],
  extra: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...extra, classes: JSON.stringify(classes), layout: 'NHWC' };
}

/** A split held as consecutive parts (e.g. CIFAR's five batch files), written without concatenation. */
export interface SplitParts {
  readonly x: readonly Uint8Array[];
  readonly y: readonly Int32Array[];
}

/** Writes `ds` to the `dataset` output without copying it. */
export async function writeDataset(
  ctx: Pick<StageContext, 'createTensorWriter'>,
  ds: Dataset,
  metadata: Readonly<Record<string, string>>,
): Promise<void> {
  const parts = (s: SplitData): SplitParts => ({ x: [s.x], y: [s.y] });
  await writeDatasetParts(ctx, ds, ds.classes, { train: parts(ds.train), test: parts(ds.test) }, metadata);
}

export async function writeDatasetParts(
  ctx: Pick<StageContext, 'createTensorWriter'>,
  shape: ImageShape,
  classes: readonly string[],
  splits: Readonly<Record<Split, SplitParts>>,
  metadata: Readonly<Record<string, string>>,
): Promise<void> {
  const size = imageSize(shape);
  const count = (s: SplitParts): number => s.y.reduce((n, y) => n + y.length, 0);
  for (const split of SPLITS) {
    const bytes = splits[split].x.reduce((n, x) => n + x.length, 0);
    if (bytes !== count(splits[split]) * size) throw new Error(`writeDataset: ${split} image bytes do not match labels × image size`);
  }
  const writer = await ctx.createTensorWriter(
    DATASET_OUTPUT,
    datasetSpecs(shape, count(splits.train), count(splits.test)),
    datasetMetadata(classes, metadata),
  );
  for (const split of SPLITS) {
    for (const x of splits[split].x) await writeChunked(writer, `x_${split}`, x);
    for (const y of splits[split].y) await writeChunked(writer, `y_${split}`, bytesOf(y));
  }
  await writer.close();
}

/** Labels per class, for metrics. */
export function classCounts(y: Int32Array, classCount: number): number[] {
  const counts = new Array<number>(classCount).fill(0);
  for (const l of y) if (l >= 0 && l < classCount) counts[l]!++;
  return counts;
}

export async function writeChunked(
  writer: { write(name: string, chunk: Uint8Array): Promise<void> },
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += WRITE_CHUNK_BYTES) {
    await writer.write(name, bytes.subarray(offset, Math.min(bytes.length, offset + WRITE_CHUNK_BYTES)));
  }
}

/** The raw little-endian bytes of a typed array (x86/ARM hosts are little-endian), without copying. */
export function bytesOf(a: Int32Array | Float32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** What a stage needs to know about an input dataset before streaming it. */
export interface DatasetInfo extends ImageShape {
  readonly classes: readonly string[];
  readonly counts: Readonly<Record<Split, number>>;
}

export async function datasetInfo(file: TensorFile): Promise<DatasetInfo> {
  for (const name of ['x_train', 'y_train', 'x_test', 'y_test']) {
    if (file.tensors[name] === undefined) {
      throw new DataError('bad_format', `input is not a dataset: tensor ${name} is missing`);
    }
  }
  const xTrain = file.tensors['x_train']!;
  const xTest = file.tensors['x_test']!;
  if (xTrain.dtype !== 'uint8' || xTrain.shape.length !== 4 || xTest.dtype !== 'uint8' || xTest.shape.length !== 4) {
    throw new DataError('bad_format', 'input is not a dataset: x_train/x_test must be uint8 [N,H,W,C]');
  }
  const [, height = 0, width = 0, channels = 0] = xTrain.shape;
  if (xTest.shape[1] !== height || xTest.shape[2] !== width || xTest.shape[3] !== channels) {
    throw new DataError('bad_format', 'input is not a dataset: x_train and x_test images differ in shape');
  }
  // Without a class list, the classes are the labels that occur.
  let fallback = 0;
  if (file.metadata['classes'] === undefined) {
    for (const split of SPLITS) for (const l of await readLabels(file, split)) fallback = Math.max(fallback, l + 1);
  }
  return {
    height,
    width,
    channels,
    classes: parseClasses(file.metadata, fallback),
    counts: { train: xTrain.shape[0] ?? 0, test: xTest.shape[0] ?? 0 },
  };
}

/** Class names from metadata, or `0..n-1` when a dataset carries none. */
export function parseClasses(metadata: Readonly<Record<string, string>>, fallbackCount: number): readonly string[] {
  const raw = metadata['classes'];
  if (raw === undefined) return Array.from({ length: fallbackCount }, (_, i) => String(i));
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((c) => typeof c === 'string')) {
    throw new DataError('bad_format', 'dataset metadata `classes` must be a JSON array of strings');
  }
  return parsed as string[];
}

export async function readLabels(file: TensorFile, split: Split): Promise<Int32Array> {
  const t = await file.read(`y_${split}`);
  return asInt32(t);
}

export function asInt32(t: TensorData): Int32Array {
  if (t.data instanceof Int32Array) return t.data;
  return Int32Array.from(t.data as ArrayLike<number>);
}

export function asUint8(t: TensorData): Uint8Array {
  if (t.data instanceof Uint8Array) return t.data;
  throw new DataError('bad_format', `expected uint8 images, got ${t.dtype}`);
}

/** Image rows of one split, `batch` at a time, in order. */
export async function* imageBatches(
  file: TensorFile,
  split: Split,
  count: number,
  batch: number,
): AsyncGenerator<{ readonly start: number; readonly x: Uint8Array }> {
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    yield { start, x: asUint8(await file.readRows(`x_${split}`, start, end)) };
  }
}
