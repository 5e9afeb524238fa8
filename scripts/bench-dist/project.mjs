// The project `npm run bench:dist` runs: one tiny plugin loaded from the project (as a user's own
// plugin is: under a distributed executor its code travels by hash through the remote and workers
// need --allow-plugin-code), which writes its params and, as they say, first sleeps or holds a core,
// and the pipelines of each measurement. Each pipeline takes a `salt` param, so that every round
// computes new keys (nothing is a cache hit, and no queue job id is reused).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PLUGIN = `// bench-dist's stage: sleeps sleep_ms, or holds one core busy_ms (a busy loop), then writes its params.
export const plugin = {
  name: 'bench', version: '1', description: 'sleeps or spins as its params say, then writes them',
  params: { type: 'object' },
  inputs: { x: { many: true, optional: true } },
  outputs: { out: { kind: 'json' } },
  run: async (ctx) => {
    const { sleep_ms = 0, busy_ms = 0 } = ctx.params;
    if (sleep_ms > 0) await new Promise((r) => setTimeout(r, sleep_ms));
    for (const end = Date.now() + busy_ms; Date.now() < end; );
    await ctx.writeJson('out', { params: ctx.params, seed: ctx.seed });
  },
};
`;

/** Writes the plugin into `dir` (the project's directory). */
export function writePlugin(dir) {
  writeFileSync(join(dir, 'bench.mjs'), PLUGIN);
}

const withOf = (params) => `{ ${Object.entries(params).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`;

/** `n` instances of one stage, all ready at once. */
export function matrixPipeline(n, params) {
  return `stages:
  bench:
    uses: ./bench.mjs
    matrix: { i: [${Array.from({ length: n }, (_, i) => i).join(', ')}] }
    with: ${withOf({ ...params, i: '${matrix.i}' })}
`;
}

/** `n` stages, each reading the previous one's output: one ready at a time. */
export function chainPipeline(n, params) {
  const stages = Array.from({ length: n }, (_, i) => `  s${i}: { uses: ./bench.mjs, with: ${withOf(params)}${i === 0 ? '' : `, inputs: { x: s${i - 1} }`} }`);
  return `stages:\n${stages.join('\n')}\n`;
}

/** Writes `yaml` as `<name>.yaml` in `dir`; returns the file name. */
export function writePipeline(dir, name, yaml) {
  writeFileSync(join(dir, `${name}.yaml`), yaml);
  return `${name}.yaml`;
}
