// Signed run records: who may publish results through a shared remote. Objects are named by their
// SHA-256 and checked on download, so a remote cannot pass off wrong bytes as a known object; what a
// writer could forge is a run record, the claim "this key's result is these objects". With trusted
// keys configured, a reader takes a record from the remote only if it carries an Ed25519 signature
// by one of them, over the record's canonical JSON. CI signs with its private key and everyone trusts
// its public key: a job that can write to the bucket but does not hold the key (a pull request's)
// cannot poison anyone's cache, which a shared read-write credential alone allows.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../util/user-error.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { RunRecord } from './types.js';
import { ENV } from '../util/env.js';

export interface RecordSignature {
  readonly alg: 'ed25519';
  /** The signer's key id (`keyIdOf`). */
  readonly key: string;
  /** Base64 signature over the canonical JSON of the record without this field. */
  readonly sig: string;
}

export interface RecordTrust {
  /** Signs every record this machine uploads. */
  readonly signer?: { readonly id: string; readonly key: KeyObject };
  /** When set, only records signed by one of these keys (by id) are taken from the remote. */
  readonly trusted?: ReadonlyMap<string, KeyObject>;
}

/** The first 16 hex digits of the SHA-256 of the public key (SPKI DER): short, and names the key. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** What is signed: the record (or job spec) as stored (JSON round trip), without its signature, keys sorted. */
function payload(value: object): Buffer {
  const { signature: _, ...rest } = JSON.parse(JSON.stringify(value)) as { signature?: unknown };
  return Buffer.from(canonicalJson(rest), 'utf8');
}

export function signRecord(record: RunRecord, signer: NonNullable<RecordTrust['signer']>): RunRecord {
  return signValue(record, signer);
}

/** Signs any JSON object the same way as a record (job specs: exec/spec-signing.ts). */
export function signValue<T extends object>(value: T, signer: NonNullable<RecordTrust['signer']>): T & { readonly signature: RecordSignature } {
  const signature: RecordSignature = { alg: 'ed25519', key: signer.id, sig: sign(null, payload(value), signer.key).toString('base64') };
  return { ...value, signature };
}

/** Why a record is not to be trusted, or undefined when a trusted key signed exactly this record. */
export function distrust(record: RunRecord, trusted: ReadonlyMap<string, KeyObject>): string | undefined {
  return distrustValue(record, trusted);
}

/** `distrust` for any JSON object signed with `signValue`. */
export function distrustValue(value: object, trusted: ReadonlyMap<string, KeyObject>): string | undefined {
  const s = (value as { signature?: Partial<RecordSignature> }).signature;
  if (s === undefined) return 'unsigned';
  if (s.alg !== 'ed25519' || typeof s.key !== 'string' || typeof s.sig !== 'string') return 'its signature is malformed';
  const key = trusted.get(s.key);
  if (!key) return `signed by key ${s.key}, which is not trusted`;
  try {
    return verify(null, payload(value), key, Buffer.from(s.sig, 'base64')) ? undefined : `its signature by key ${s.key} does not match its content`;
  } catch {
    return 'its signature is malformed';
  }
}

/**
 * RETHINK_REMOTE_SIGNING_KEY: a PEM file with an Ed25519 private key. RETHINK_REMOTE_TRUSTED_KEYS:
 * PEM files (public keys, or private keys whose public half is meant) separated by commas. Files that
 * cannot be used are user errors that name the variable.
 */
export async function loadTrust(env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<RecordTrust> {
  const read = async (variable: string, file: string): Promise<string> => {
    try {
      return await readFile(isAbsolute(file) ? file : resolve(cwd, file), 'utf8');
    } catch (e) {
      throw UserError.of('E_BAD_KEY', `${variable}: cannot read "${file}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, HOW_TO);
    }
  };
  const ed25519 = (variable: string, file: string, key: KeyObject): KeyObject => {
    if (key.asymmetricKeyType !== 'ed25519') throw UserError.of('E_BAD_KEY', `${variable}: "${file}" holds a ${key.asymmetricKeyType ?? 'symmetric'} key, not an Ed25519 one`, HOW_TO);
    return key;
  };
  const parse = <T>(variable: string, file: string, what: string, f: () => T): T => {
    try {
      return f();
    } catch {
      throw UserError.of('E_BAD_KEY', `${variable}: "${file}" is not a PEM ${what}`, HOW_TO);
    }
  };
  let signer: RecordTrust['signer'];
  const signing = ENV.remoteSigningKey.read(env)?.trim();
  if (signing) {
    const pem = await read(ENV.remoteSigningKey.name, signing);
    const key = ed25519(ENV.remoteSigningKey.name, signing, parse(ENV.remoteSigningKey.name, signing, 'private key', () => createPrivateKey(pem)));
    signer = { id: keyIdOf(key), key };
  }
  let trusted: Map<string, KeyObject> | undefined;
  const files = (ENV.remoteTrustedKeys.read(env) ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  if (files.length > 0) {
    trusted = new Map();
    for (const file of files) {
      const pem = await read(ENV.remoteTrustedKeys.name, file);
      const key = ed25519(ENV.remoteTrustedKeys.name, file, parse(ENV.remoteTrustedKeys.name, file, 'key', () => createPublicKey(pem)));
      trusted.set(keyIdOf(key), key);
    }
  }
  return { ...(signer ? { signer } : {}), ...(trusted ? { trusted } : {}) };
}

const HOW_TO = 'make a key pair with: openssl genpkey -algorithm ed25519 -out ci.pem && openssl pkey -in ci.pem -pubout -out ci.pub.pem';
