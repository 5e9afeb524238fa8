// Signed job specs: a coordinator with a signing key (RETHINK_REMOTE_SIGNING_KEY) signs each spec it
// publishes, as it signs run records; a worker that trusts that key (RETHINK_REMOTE_TRUSTED_KEYS)
// then runs the spec's path plugin without `--allow-plugin-code`: the signature says who asked for
// that code to run, and the code itself still comes from the remote by hash (plugin-code.ts).
import { distrustValue, signValue, type RecordSignature, type RecordTrust } from '../store/signing.js';
import type { JobSpec } from './job-spec.js';

export type SignedJobSpec = JobSpec & { readonly signature: RecordSignature };

/** The spec as the coordinator publishes it: signed over its canonical JSON. */
export function signSpec(spec: JobSpec, signer: NonNullable<RecordTrust['signer']>): SignedJobSpec {
  return signValue(spec, signer);
}

/**
 * The key id of the trusted key that signed `raw` (a spec as parsed from JSON, every field kept), or
 * why none did.
 */
export function specSigner(raw: unknown, trusted: RecordTrust['trusted']): { readonly by: string } | { readonly why: string } {
  if (raw === null || typeof raw !== 'object') return { why: 'it is not an object' };
  if (!trusted) return { why: 'this machine trusts no key (RETHINK_REMOTE_TRUSTED_KEYS)' };
  const why = distrustValue(raw, trusted);
  return why === undefined ? { by: (raw as { signature: RecordSignature }).signature.key } : { why: `the spec is ${why}` };
}
