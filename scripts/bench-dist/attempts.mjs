// The attempt notes a job leaves on a directory remote (`jobs/<key>/attempts/*.json`: where it ran,
// its pid, Slurm job id, and when it started), which time the recovery of a stage whose machine died.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The attempt notes on the directory remote `remote`, oldest first, once there are `n`; throws if the run ended first. */
export async function attemptsOnceThere(remote, n, ended) {
  for (;;) {
    const notes = await attemptNotes(remote);
    if (notes.length >= n) return notes;
    if (ended()) throw new Error(`the run ended with ${notes.length} attempt notes on ${remote}, not ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function attemptNotes(remote) {
  const jobs = await readdir(join(remote, 'jobs')).catch(() => []);
  const notes = [];
  for (const key of jobs) {
    const dir = join(remote, 'jobs', key, 'attempts');
    for (const name of await readdir(dir).catch(() => [])) {
      // A note being written is not complete yet: skip it until it parses.
      const note = await readFile(join(dir, name), 'utf8').then(JSON.parse, () => undefined);
      if (note !== undefined) notes.push(note);
    }
  }
  return notes.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
