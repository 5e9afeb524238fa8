// ImageNet-style folders: root/<train>/<class>/**/*.JPEG and either root/<val>/<class>/... or the
// Tiny ImageNet form root/val/images/* + root/val/val_annotations.txt (file<TAB>wnid...).
// Files are listed in code-point order so a listing never depends on the locale or the file system.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { DataError } from './errors.js';

export interface LabeledFile {
  readonly path: string;
  readonly label: number;
}

export interface FolderListing {
  readonly classes: readonly string[];
  readonly train: readonly LabeledFile[];
  readonly test: readonly LabeledFile[];
  /** sha256 over every listed file's relative path and size: changes when the folder does. */
  readonly digest: string;
}

export interface ListOptions {
  readonly trainDir: string;
  readonly testDir: string;
  readonly extensions: readonly string[];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export async function listImageFolder(root: string, options: ListOptions): Promise<FolderListing> {
  const isImage = (name: string): boolean => options.extensions.some((e) => name.toLowerCase().endsWith(e.toLowerCase()));
  const trainRoot = join(root, options.trainDir);
  const classes = (await dirEntries(trainRoot)).filter((e) => e.isDirectory()).map((e) => e.name).sort(byCodePoint);
  if (classes.length === 0) throw new DataError('missing_file', `${trainRoot} has no class folders`);
  const index = new Map(classes.map((c, i) => [c, i]));
  const train: LabeledFile[] = [];
  for (const [label, name] of classes.entries()) {
    const files = await imagesUnder(join(trainRoot, name), isImage);
    if (files.length === 0) throw new DataError('missing_file', `class folder ${join(trainRoot, name)} has no images`);
    for (const path of files) train.push({ path, label });
  }
  const testRoot = join(root, options.testDir);
  const annotations = join(testRoot, 'val_annotations.txt');
  const test = (await exists(annotations))
    ? await tinyImagenetVal(testRoot, annotations, index)
    : await classFolders(testRoot, index, isImage);
  const hash = createHash('sha256');
  for (const f of [...train, ...test]) hash.update(`${relative(root, f.path)}\0${(await stat(f.path)).size}\n`);
  return { classes, train, test, digest: hash.digest('hex') };
}

async function classFolders(testRoot: string, index: ReadonlyMap<string, number>, isImage: (n: string) => boolean): Promise<LabeledFile[]> {
  const out: LabeledFile[] = [];
  const folders = (await dirEntries(testRoot)).filter((e) => e.isDirectory()).map((e) => e.name).sort(byCodePoint);
  for (const name of folders) {
    const label = index.get(name);
    if (label === undefined) throw new DataError('bad_format', `${join(testRoot, name)} is a class the training folder does not have`);
    for (const path of await imagesUnder(join(testRoot, name), isImage)) out.push({ path, label });
  }
  return out;
}

async function tinyImagenetVal(testRoot: string, annotations: string, index: ReadonlyMap<string, number>): Promise<LabeledFile[]> {
  const lines = (await readFile(annotations, 'utf8')).split(/\r?\n/).filter((l) => l.trim().length > 0);
  const out = lines.map((line, n) => {
    const [file, wnid] = line.split('\t');
    const label = wnid === undefined ? undefined : index.get(wnid);
    if (file === undefined || label === undefined) {
      throw new DataError('bad_format', `${annotations}:${n + 1}: expected "file<TAB>class" with a known class, got "${line}"`);
    }
    return { path: join(testRoot, 'images', file), label };
  });
  return out.sort((a, b) => byCodePoint(a.path, b.path));
}

async function imagesUnder(dir: string, isImage: (n: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await dirEntries(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await imagesUnder(path, isImage)));
    else if (e.isFile() && isImage(e.name)) out.push(path);
  }
  return out.sort(byCodePoint);
}

async function dirEntries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new DataError('missing_file', `cannot read folder ${dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export type Fit = 'cover' | 'contain' | 'fill';

/** Decodes and resizes one image to height×width×3 uint8 (grayscale is replicated to RGB, alpha dropped). */
export async function decodeImage(path: string, height: number, width: number, fit: Fit): Promise<{ readonly rgb: Uint8Array; readonly wasGray: boolean }> {
  const { default: sharp } = await import('sharp');
  sharp.cache(false);
  let result: { data: Buffer; info: { channels: number; width: number; height: number } };
  let sourceChannels: number;
  try {
    const image = sharp(path, { failOn: 'error' });
    // Reads the header only; libvips then converts grayscale (and CMYK) to sRGB for raw output.
    sourceChannels = (await image.metadata()).channels ?? 3;
    result = await image
      .resize(width, height, { fit, position: 'centre', background: { r: 0, g: 0, b: 0 } })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new DataError('bad_format', `cannot decode ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const { data, info } = result;
  if (info.width !== width || info.height !== height) throw new Error(`sharp returned ${info.width}×${info.height} for ${path}`);
  const wasGray = sourceChannels <= 2;
  if (info.channels === 3) return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), wasGray };
  if (info.channels !== 1) throw new DataError('bad_format', `${path} decodes to ${info.channels} channels`);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb.fill(data[p]!, p * 3, p * 3 + 3);
  return { rgb, wasGray };
}
