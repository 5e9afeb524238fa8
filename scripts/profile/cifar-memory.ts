// Peak-memory check of the CIFAR-10 path on a full-size synthetic archive (50,000 + 10,000 records).
// Not a test (timings and RSS do not belong in tests); run by hand:
//   node --import tsx scripts/profile/cifar-memory.ts build /tmp/cifar-synth.tar.gz
//   /usr/bin/time -v node --import tsx scripts/profile/cifar-memory.ts run /tmp/cifar-synth.tar.gz
// and read "Maximum resident set size". The archive is random bytes, so gzip cannot shrink it.
import { buildSyntheticCifar } from '../../src/data/synthetic-cifar.js';

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
if (command === 'build' && path) await buildSyntheticCifar(path);
else if (command === 'run' && path) await run(path);
else if (command === 'corrupt' && path && kind) await corruptRun(path, kind);
else {
  console.error('usage: cifar-memory.ts build|run <archive.tar.gz> | corrupt <archive.tar.gz> <kind>');
  process.exitCode = 2;
}
