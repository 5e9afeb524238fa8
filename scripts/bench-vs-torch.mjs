#!/usr/bin/env node
// Training throughput beside PyTorch's, measured back to back on this machine, as ratios:
//   node scripts/bench-vs-torch.mjs [--backend native] [--rounds 2] [--steps 5] [--threads 2] [--models mlp_1x512,…]
// PyTorch runs with 1 and 2 threads (the better counts). Needs `npm run build` and Debian's python3-torch (apt-get install -y python3-torch libopenblas0-pthread).
// Both sides report the same figure: total images ÷ total time over the same number of timed steps,
// after the anchor's 3 warm-up steps (never our fastest step against PyTorch's mean). Rounds
// alternate PyTorch and ours so that drifting load hits both; each side's best round is reported.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    rounds: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1,2' },
    models: { type: 'string' },
    anchor: { type: 'string', default: fileURLToPath(new URL('../../shared/anchors/torch_bench.py', import.meta.url)) },
  },
});
const pairs = [
  ['mlp_1x512', 'mlp_1x512'],
  ['mlp_3x512', 'mlp_3x512'],
  ['small_alexnet', 'alexnet_small'],
  ['small_inception', 'inception_small_nobn'],
  ['small_inception_bn', 'inception_small'],
].filter(([ours]) => values.models === undefined || values.models.split(',').includes(ours));
const best = { ours: {}, torch: {} };
const keep = (side, name, v) => (best[side][name] = Math.max(best[side][name] ?? 0, v));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [ours, theirs] of pairs) {
    let m;
    for (const threads of values.threads.split(',')) {
      const t = spawnSync('/usr/bin/python3', [values.anchor, '--threads', threads, '--steps', values.steps, '--models', theirs], { encoding: 'utf8' });
      m = /([\d.]+) img\/s/.exec(t.stdout);
      if (!m) throw new Error(`torch_bench failed: ${t.stderr}`);
      keep('torch', ours, Number(m[1]));
    }
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/src/bench/main.js', import.meta.url)), '--backend', values.backend, '--models', ours, '--steps', values.steps, '--warmup', '3', '--no-profile', '--json'], { encoding: 'utf8' });
    const doc = JSON.parse(r.stdout);
    const row = (doc.models ?? []).find((x) => x.model === ours || x.name === ours);
    const ips = row?.imagesPerSecond;
    keep('ours', ours, ips?.mean ?? 0);
    process.stderr.write(`round ${round + 1}: ${ours} torch ${best.torch[ours].toFixed(1)} ours ${best.ours[ours].toFixed(1)}\n`);
  }
}
console.log(`backend ${values.backend}, batch 128, 28x28x3; img/s = total images ÷ total time over ${values.steps} timed steps after 3 warm-up steps, on both sides; PyTorch best of ${values.threads} threads; each side's best of ${values.rounds} alternating rounds`);
console.log('model                 ours img/s   torch img/s   ratio');
for (const [name] of pairs) {
  const o = best.ours[name];
  const t = best.torch[name];
  console.log(`${name.padEnd(20)} ${o.toFixed(1).padStart(11)} ${t.toFixed(1).padStart(13)} ${(o / t).toFixed(2).padStart(7)}`);
}
