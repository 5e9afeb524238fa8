// pipelines/table2.yaml end to end on a generated tiny ImageNet-layout folder (six classes, a JPEG or
// two each, train/ and val/): image-folder → random labels → Inception V3 at its smallest input (75×75)
// in Table 2's seven settings, on the native backend → the table with top-1 and top-5 columns.
import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../src/cli/cli.js';
import { compiledBin } from '../support/tmp-project.js';
import { Rng } from '../../src/util/random.js';

const root = join(compiledBin(), '..', '..', '..', '..');

async function cli(cache: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, cwd: root, env: { RETHINK_CACHE_DIR: cache } });
  return { code, stdout, stderr };
}

/** root/{train,val}/<wnid>/*.JPEG: noise around a colour per class, 96×80, encoded by sharp. */
async function tinyImageNet(dir: string, classes: number, perClass: { train: number; val: number }): Promise<void> {
  const { default: sharp } = await import('sharp');
  const rng = Rng.derive(1, 'tiny-imagenet');
  const [width, height] = [96, 80];
  for (let k = 0; k < classes; k++) {
    const wnid = `n0${1440764 + k}`;
    const colour = [rng.int(256), rng.int(256), rng.int(256)];
    for (const [split, n] of [['train', perClass.train], ['val', perClass.val]] as const) {
      await mkdir(join(dir, split, wnid), { recursive: true });
      for (let i = 0; i < n; i++) {
        const pixels = Buffer.alloc(width * height * 3);
        for (let p = 0; p < pixels.length; p++) pixels[p] = Math.max(0, Math.min(255, colour[p % 3]! + rng.int(81) - 40));
        const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg().toBuffer();
        await writeFile(join(dir, split, wnid, `${wnid}_${i}.JPEG`), jpeg);
      }
    }
  }
}

test('pipelines/table2.yaml runs end to end on a tiny ImageNet-layout folder: seven Inception V3 rows with top-1 and top-5', async () => {
  const cache = await tempDir('rethink-table2-');
  const data = await tempDir('rethink-tiny-imagenet-');
  await tinyImageNet(data, 6, { train: 1, val: 1 });
  // The smallest Inception V3 (75×75 from images stored at 80×80), one step of six images per run.
  const tiny = ['--set', `vars.root=${data}`, '--set', 'vars.stored=80', '--set', 'vars.size=75', '--set', 'vars.epochs=1', '--set', 'vars.batch=6'];
  const r = await cli(cache, 'run', 'pipelines/table2.yaml', '--json', '--backend', 'native', ...tiny);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { stages: { id: string; status: string }[] };
  assert.equal(doc.stages.length, 11);
  assert.ok(doc.stages.every((s) => s.status === 'ran'), JSON.stringify(doc.stages.map((s) => [s.id, s.status])));

  const shown = JSON.parse((await cli(cache, 'show', 'table', 'pipelines/table2.yaml', '--json', ...tiny)).stdout) as { outputs: Record<string, { value: unknown }> };
  const table = shown.outputs['table']!.value as { columns: string[]; rows: (string | number | boolean | null)[][] };
  assert.deepEqual(table.columns, [
    'stage',
    'dropout',
    'weight_decay',
    'aug',
    'final.train.acc',
    'final.train.top5',
    'final.test.acc',
    'final.test.top5',
    'final.best_test_acc',
    'final.best_test_top5',
  ]);
  // Table 2's rows: four on the true labels, three on random labels (no augmentation column there).
  const settings = (rows: readonly (readonly unknown[])[]) => rows.map((row) => JSON.stringify(row)).sort();
  assert.deepEqual(settings(table.rows.map((row) => row.slice(0, 4))), settings([
    ['train', 0.2, 0.00004, true],
    ['train', 0, 0, true],
    ['train', 0, 0.00004, false],
    ['train', 0, 0, false],
    ['random_labels', 0.2, 0.00004, null],
    ['random_labels', 0, 0.00004, null],
    ['random_labels', 0, 0, null],
  ]));
  for (const row of table.rows) {
    const [trainTop1, trainTop5, testTop1, testTop5, bestTop1, bestTop5] = row.slice(4) as number[];
    for (const v of [trainTop1, trainTop5, testTop1, testTop5, bestTop1, bestTop5]) assert.ok(typeof v === 'number' && v >= 0 && v <= 1, JSON.stringify(row));
    assert.ok(trainTop5! >= trainTop1! && testTop5! >= testTop1! && bestTop5! >= testTop5!, JSON.stringify(row));
  }
});
