// Temporary directories for tests, removed when the test process exits (RETHINK_KEEP_TEST_DIRS=1
// keeps them, to look at after a failure).
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env['RETHINK_KEEP_TEST_DIRS'] === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
