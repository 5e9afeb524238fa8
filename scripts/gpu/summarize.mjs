// Joins the WebGPU benchmark's JSON lines (stock and rethink kernels) with torch_bench.py's lines into
// one table of images/second and ratios to PyTorch. Plain JS: runs with the bundle's bare node.
//   node summarize.mjs rethink.jsonl stock.jsonl torch128.txt torch1024.txt
import { readFileSync, existsSync } from 'node:fs';

const TORCH_NAME = { mlp_1x512: 'mlp_1x512', mlp_3x512: 'mlp_3x512', small_alexnet: 'alexnet_small', small_inception_bn: 'inception_small', small_inception: 'inception_small_nobn' };
const [rethinkF, stockF, ...torchFs] = process.argv.slice(2);

function jsonl(f) {
  if (!f || !existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}
function ips(rows, model, batch) {
  const r = rows.find((o) => o.kind === 'throughput' && o.model === model && o.batch === batch);
  return r ? r.imgPerSec : undefined;
}
const torch = new Map();
for (const f of torchFs) {
  if (!existsSync(f)) continue;
  const batch = Number(/(\d+)/.exec(f.split('/').pop())?.[1]);
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const m = /^(\S+)\tparams=\d+\t([\d.]+) img\/s/.exec(line);
    if (m) torch.set(`${m[1]}@${batch}`, Number(m[2]));
  }
}
const rethink = jsonl(rethinkF);
const stock = jsonl(stockF);
const fmt = (v) => (v === undefined ? '—' : String(Math.round(v)));
const ratio = (a, b) => (a === undefined || b === undefined ? '—' : (a / b).toFixed(3));
// LABELS="before,fused" renames the two tfjs columns (second file's label first, as in the table).
const [sL, rL] = (process.env.LABELS ?? 'stock,rethink').split(',');
console.log(`| model | batch | tfjs-webgpu ${sL} | tfjs-webgpu ${rL} | PyTorch | ${sL}/PT | ${rL}/PT |`);
console.log('|---|---|---|---|---|---|---|');
for (const model of Object.keys(TORCH_NAME)) {
  for (const batch of [128, 1024]) {
    const s = ips(stock, model, batch);
    const r = ips(rethink, model, batch);
    const t = torch.get(`${TORCH_NAME[model]}@${batch}`);
    if (s === undefined && r === undefined && t === undefined) continue;
    console.log(`| ${model} | ${batch} | ${fmt(s)} | ${fmt(r)} | ${fmt(t)} | ${ratio(s, t)} | ${ratio(r, t)} |`);
  }
}
for (const [name, rows] of [[rL, rethink], [sL, stock]]) {
  for (const p of rows.filter((o) => o.kind === 'profile')) {
    const top = p.top.slice(0, 8).map((k) => `${k.kernel} ${k.ms}ms/${k.calls}`).join(', ');
    console.log(`profile ${name} ${p.model}@${p.batch}: ${p.kernelCalls} calls, GPU ${p.gpuMsTotal} ms: ${top}`);
  }
  for (const o of rows.filter((o) => o.kind === 'check')) console.log(`check ${name} ${o.model}@${o.batch}: ${o.ok ? 'ok' : 'MISMATCH'}, weights rel L2 ${o.weightsRelL2.toExponential(1)}, losses rel ${o.worstLossRel.toExponential(1)}`);
  for (const o of rows.filter((o) => o.kind === 'overhead' || o.kind === 'error')) console.log(name, JSON.stringify(o));
}
