// Lists every file left in a harness store, to show a failed stage cached and leaked nothing (the
// store's own marker, written with its directories, is not a result and is left out).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MARKER_FILE } from '../../src/store/marker.js';

export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (!(d === dir && e.name === MARKER_FILE)) out.push(join(d, e.name));
    }
  };
  await walk(dir);
  return out;
}
