// Checkpoints survive the machine: a training interrupted on one machine (its own cache) saved its
// checkpoints to the shared remote; `rethink exec` of the same job on another machine (a fresh
// cache) resumes from them and ends with the bytes an uninterrupted run writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { project, type Project } from '../support/tmp-project.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { buildJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import type { JobResult } from '../../src/exec/job-messages.js';
import { runJobSpec } from '../../src/exec/run-spec.js';
import { createRegistry } from '../../src/plan/registry.js';
import { LocalStore } from '../../src/store/local.js';
import { DirRemote, checkpointFolderOf } from '../../src/store/remote.js';
import { TieredStore } from '../../src/store/tiered.js';
import type { OutputRef } from '../../src/store/types.js';
import type { InputArtifact } from '../../src/exec/context.js';
import type { StageId } from '../../src/util/brand.js';
import { builtinPlugins } from '../../stages/index.js';
import { trainingPipeline } from '../support/training.js';

const PIPELINE = trainingPipeline(2);

/** The spec of stage `id`, its upstream results read from the cache `cache`. */
async function specOf(p: Project, cache: string, id: string): Promise<JobSpec> {
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: p.dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const store = new LocalStore(join(p.dir, cache));
  const outputs = new Map<StageId, Readonly<Record<string, OutputRef>>>();
  for (const sid of plan.order) {
    const inst = plan.instances.get(sid)!;
    const { key, keyRecord, record } = await lookup(store, inst, inputKeys(plan, inst, (u) => outputs.get(u)!));
    if (sid === id) return buildJobSpec({ instance: inst, key, keyRecord, inputs: resolveInputs(plan, inst, (u) => outputs.get(u)!), cores: 1 }, plan);
    outputs.set(sid, record!.outputs);
  }
  throw new Error(`no stage ${id}`);
}

test('a training interrupted after epoch 1 on one machine resumes on another from the remote checkpoint, and ends byte-identical', async () => {
  const saved = process.env.RETHINK_CHECKPOINT_SECONDS;
  process.env.RETHINK_CHECKPOINT_SECONDS = '0'; // a checkpoint after every epoch
  try {
    const p = await project({ 'p.yaml': PIPELINE });
    const remote = join(p.dir, 'remote');
    // The uninterrupted run, on a machine of its own with no remote.
    const straight = await p.run('p.yaml', '--cache-dir', 'straight');
    assert.equal(straight.code, 0, straight.stderr);
    // What the coordinator of a distributed run would have put on the remote: the training's input.
    const spec = await specOf(p, 'straight', 'fit');
    const input = spec.inputs.data as InputArtifact;
    const coordinator = new TieredStore(new LocalStore(join(p.dir, 'straight')), new DirRemote(remote));
    await coordinator.pushObject({ hash: input.hash, kind: input.kind, size: input.size });

    // Machine A: the job stops once epoch 1 is done (its checkpoint saved and copied up).
    const stop = new AbortController();
    const a = await runJobSpec(spec, {
      store: new TieredStore(new LocalStore(join(p.dir, 'nodeA')), new DirRemote(remote)),
      registry: createRegistry(builtinPlugins),
      signal: stop.signal,
      onProgress: () => {},
      onLog: (m) => m.startsWith('epoch 1:') && stop.abort(new Error('the machine went away')),
    });
    assert.equal(a.ok, false);
    assert.deepEqual(await readdir(join(remote, ...checkpointFolderOf(spec.key).split('/'))), ['train.safetensors']);

    // Machine B: a fresh cache, the same remote.
    await p.write({ [`jobs/${spec.key}.json`]: JSON.stringify(spec) });
    const b = await p.cli('exec', '--spec', `jobs/${spec.key}.json`, '--remote', remote, '--cache-dir', 'nodeB');
    assert.equal(b.code, 0, b.stderr);
    const result = JSON.parse(b.stdout) as JobResult & { ok: true };
    assert.ok((result.record!.provenance.resumed_after_epoch as number) >= 1, JSON.stringify(result.record!.provenance));
    const expected = straight.doc.stages.find((s) => s.id === 'fit')!.outputs;
    assert.deepEqual(Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.hash])), expected);
    // Both attempts are in the record, and the checkpoints went with the record's upload.
    assert.equal((result.record!.provenance.attempts as unknown[]).length, 2);
    const left = (await readdir(join(remote, 'checkpoints'), { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile());
    assert.deepEqual(left, []);
  } finally {
    if (saved === undefined) delete process.env.RETHINK_CHECKPOINT_SECONDS;
    else process.env.RETHINK_CHECKPOINT_SECONDS = saved;
  }
});
