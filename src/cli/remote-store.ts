// Opening the shared remote behind a local cache: the remote itself (`--remote`, RETHINK_REMOTE),
// its timeouts, and the record trust (signing key, trusted keys). Shared by the pipeline commands
// (workspace.ts) and by `rethink exec`, which must not load the YAML parser and the planner.
import type { CliIO } from './io.js';
import type { LocalStore } from '../store/local.js';
import { openRemote, type Remote } from '../store/remote.js';
import { remoteTimeouts } from '../store/remote-timeouts.js';
import type { RecordTrust } from '../store/signing.js';
import type { TieredStore } from '../store/tiered.js';

/** A remote, opened once, with the trust records going through it get. */
export interface SharedRemote {
  readonly remote: Remote;
  readonly trust: RecordTrust;
}

/**
 * Opens the remote `spec` names; `origin` is where the value came from (`--remote`, RETHINK_REMOTE),
 * for messages. `signal`: the command's (Ctrl-C), which an S3 remote's calls in flight obey.
 */
export async function openSharedRemote(io: CliIO, spec: string, origin: string, signal?: AbortSignal): Promise<SharedRemote> {
  const remote = await openRemote(spec, io.cwd, origin, { timeouts: remoteTimeouts(io.env), ...(signal ? { signal } : {}) });
  const { loadTrust } = await import('../store/signing.js');
  return { remote, trust: await loadTrust(io.env, io.cwd) };
}

/** The local cache with the shared remote behind it. */
export async function tieredOver(local: LocalStore, shared: SharedRemote, options: { readonly readOnly: boolean; readonly signal?: AbortSignal }): Promise<TieredStore> {
  const { TieredStore } = await import('../store/tiered.js');
  return new TieredStore(local, shared.remote, { readOnly: options.readOnly, trust: shared.trust, ...(options.signal ? { signal: options.signal } : {}) });
}
