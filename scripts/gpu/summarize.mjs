// Joins the WebGPU benchmark's JSON lines (one file per configuration) with torch_bench.py's lines into
// one table of images/second and ratios to PyTorch. Plain JS: runs with the bundle's bare node.
//   LABELS=before,recorded node summarize.mjs before.jsonl recorded.jsonl torch128.txt torch1024.txt
// LABELS names the .jsonl files in order (default: their file names); .txt files are PyTorch's, named
// by the batch size in their name.
import { readFileSync, existsSync } from 'node:fs';

const TORCH_NAME = { mlp_1x512: 'mlp_1x512', mlp_3x512: 'mlp_3x512', small_alexnet: 'alexnet_small', small_inception_bn: 'inception_small', small_inception: 'inception_small_nobn' };
const files = process.argv.slice(2);
const runFiles = files.filter((f) => f.endsWith('.jsonl'));
const torchFiles = files.filter((f) => f.endsWith('.txt'));
const labels = process.env.LABELS?.split(',') ?? runFiles.map((f) => f.split('/').pop().replace(/\.jsonl$/, ''));

function jsonl(f) {
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}
const runs = runFiles.map((f, i) => ({ label: labels[i] ?? f, rows: jsonl(f) }));
const ips = (rows, model, batch) => rows.find((o) => o.kind === 'throughput' && o.model === model && o.batch === batch)?.imgPerSec;

const torch = new Map();
for (const f of torchFiles) {
  if (!existsSync(f)) continue;
  const batch = Number(/(\d+)/.exec(f.split('/').pop())?.[1]);
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^(\S+)\tparams=\d+\t([\d.]+) img\/s/.exec(line);
    if (m) torch.set(`${m[1]}@${batch}`, Number(m[2]));
  }
}
const fmt = (v) => (v === undefined ? '—' : String(Math.round(v)));
const ratio = (a, b) => (a === undefined || b === undefined ? '—' : (a / b).toFixed(3));

console.log(`| model | batch | ${runs.map((r) => `tfjs-webgpu ${r.label}`).join(' | ')} | PyTorch | ${runs.map((r) => `${r.label}/PT`).join(' | ')} |`);
console.log(`|---|---|${runs.map(() => '---|').join('')}---|${runs.map(() => '---|').join('')}`);
for (const model of Object.keys(TORCH_NAME)) {
  for (const batch of [128, 1024]) {
    const v = runs.map((r) => ips(r.rows, model, batch));
    const t = torch.get(`${TORCH_NAME[model]}@${batch}`);
    if (v.every((x) => x === undefined) && t === undefined) continue;
    console.log(`| ${model} | ${batch} | ${v.map(fmt).join(' | ')} | ${fmt(t)} | ${v.map((x) => ratio(x, t)).join(' | ')} |`);
  }
}
for (const { label, rows } of runs) {
  for (const p of rows.filter((o) => o.kind === 'profile')) {
    const top = p.top.slice(0, 8).map((k) => `${k.kernel} ${k.ms}ms/${k.calls}`).join(', ');
    console.log(`profile ${label} ${p.model}@${p.batch}: ${p.kernelCalls} calls, GPU ${p.gpuMsTotal} ms: ${top}`);
    // The slowest GPU programs (a recorded kernel's key names its layer's product and tile).
    for (const q of (p.topPrograms ?? []).slice(0, 10)) console.log(`  ${q.program}: ${q.ms} ms/${q.calls}`);
  }
  for (const o of rows.filter((o) => o.kind === 'check')) console.log(`check ${label} ${o.model}@${o.batch}: ${o.ok ? 'ok' : 'MISMATCH'}, weights rel L2 ${o.weightsRelL2.toExponential(1)}, losses rel ${o.worstLossRel.toExponential(1)}${o.perturbedWeightsRelL2 === undefined ? '' : `; input × (1 + 1e-6) moves them ${o.perturbedWeightsRelL2.toExponential(1)}, ${o.perturbedWorstLossRel.toExponential(1)}`}`);
  for (const o of rows.filter((o) => o.kind === 'tuning')) {
    // Per product: the default tile's time against the chosen one's; the five largest savings.
    const saved = o.choices
      .map((c) => {
        const first = Object.values(c.ms)[0];
        return { key: c.key, tile: c.tile, first, best: c.ms[c.tile] };
      })
      .sort((a, b) => b.first - b.best - (a.first - a.best));
    const total = (k) => saved.reduce((s, c) => s + c[k], 0).toFixed(3);
    console.log(`tuning ${label} ${o.model}@${o.batch}: ${o.gemms} GEMMs, ${o.tuned} timed, ${o.changed} moved, ${o.seconds} s; their ms/step default ${total('first')} → tuned ${total('best')}`);
    for (const c of saved.slice(0, 5)) console.log(`  ${c.key}: ${c.first} → ${c.best} ms (${c.tile})`);
  }
  for (const o of rows.filter((o) => o.kind === 'overhead' || o.kind === 'error')) console.log(label, JSON.stringify(o));
}
