// Peak-memory check of the CIFAR-10 path on a full-size synthetic archive (50,000 + 10,000 records).
// Not a test (timings and RSS do not belong in tests); run by hand:
//   node --import tsx test/data/cifar-memory.ts build /tmp/cifar-synth.tar.gz
//   /usr/bin/time -v node --import tsx test/data/cifar-memory.ts run /tmp/cifar-synth.tar.gz
// and read "Maximum resident set size". The archive is random bytes, so gzip cannot shrink it.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { Rng } from '../../src/util/random.js';
import { CIFAR_RECORD_BYTES } from '../../src/data/cifar.js';
import { tarHeader } from './fixtures.js';

const RECORDS = 10_000;
const FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

async function build(path: string): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const out = gzip.pipe(createWriteStream(path));
  const write = async (b: Uint8Array): Promise<void> => {
    if (!gzip.write(b)) await once(gzip, 'drain');
  };
  const rng = Rng.derive(0, 'cifar-memory');
  for (const name of FILES) {
    const size = RECORDS * CIFAR_RECORD_BYTES;
    await write(tarHeader({ name: `cifar-10-batches-bin/${name}` }, size));
    for (let r = 0; r < RECORDS; r += 1000) {
      const chunk = new Uint8Array(1000 * CIFAR_RECORD_BYTES);
      const words = new Uint32Array(chunk.buffer, 0, Math.floor(chunk.length / 4));
      for (let k = 0; k < words.length; k++) words[k] = rng.nextU32();
      for (let i = 0; i < 1000; i++) chunk[i * CIFAR_RECORD_BYTES] = rng.int(10);
      await write(chunk);
    }
    await write(new Uint8Array((512 - (size % 512)) % 512));
  }
  await write(new Uint8Array(1024));
  gzip.end();
  await once(out, 'finish');
}

async function run(path: string): Promise<void> {
  const { createHarness } = await import('../../src/testing/harness.js');
  const { cifar10 } = await import('../../stages/datasets/cifar10.js');
  const harness = await createHarness();
  try {
    const started = Date.now();
    const r = await harness.run(cifar10, { params: { url: path, md5: null } });
    const out = r.outputs['dataset']!;
    console.log(`dataset ${out.hash} ${out.size} bytes`);
    console.log(`wall ${((Date.now() - started) / 1000).toFixed(1)} s, maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  } finally {
    await harness.close();
  }
}

/** cifar10 then one corrupt kind on its output, to time and size the randomizations at full scale. */
async function corruptRun(path: string, kind: string): Promise<void> {
  const { createHarness } = await import('../../src/testing/harness.js');
  const { cifar10 } = await import('../../stages/datasets/cifar10.js');
  const { corrupt } = await import('../../stages/corrupt/corrupt.js');
  const harness = await createHarness();
  try {
    const data = await harness.run(cifar10, { params: { url: path, md5: null } });
    const started = Date.now();
    const params = kind === 'labels' ? { kind, p: 0.5 } : { kind };
    const r = await harness.run(corrupt, { params, inputs: { dataset: data.outputs['dataset']! } });
    console.log(`corrupt ${kind}: ${r.outputs['dataset']!.hash}`);
    console.log(`wall ${((Date.now() - started) / 1000).toFixed(1)} s (corrupt only), maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (whole process)`);
  } finally {
    await harness.close();
  }
}

const [command, path, kind] = process.argv.slice(2);
if (command === 'build' && path) await build(path);
else if (command === 'run' && path) await run(path);
else if (command === 'corrupt' && path && kind) await corruptRun(path, kind);
else {
  console.error('usage: cifar-memory.ts build|run <archive.tar.gz> | corrupt <archive.tar.gz> <kind>');
  process.exitCode = 2;
}
