// Schema validators. Compiling with ajv costs tens of milliseconds per schema (plus ajv's own
// import), which dominated a no-op rerun; so compiled validators are cached on disk as ajv
// "standalone" code, keyed by the schema's content and ajv's version, and ajv is loaded only on a miss.
// Validators not written for a month are deleted after a compile (util/trim-stale.ts).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { JsonSchema } from '../plugin/types.js';
import { canonicalJson } from '../util/canonical-json.js';
import { ENV } from '../util/env.js';
import { userCacheDir } from '../util/cache-home.js';
import { installedVersion } from '../util/installed-version.js';
import { trimStale } from '../util/trim-stale.js';

const require = createRequire(import.meta.url);
const OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true, verbose: true };
const compiled = new WeakMap<object, ValidateFunction>();
let ajv: Ajv | undefined;
let ajvVersion: string | undefined;
/** A cached validator's name: its key (a SHA-256) and .cjs. */
const VALIDATOR = /^[0-9a-f]{64}\.cjs$/;

export function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = loadCached(schema) ?? compileAndCache(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** RETHINK_VALIDATOR_CACHE, else the user's cache directory: never inside the installed package. */
function cacheDir(): string {
  const dir = ENV.validatorCache.read();
  return dir !== undefined && dir.trim() !== '' ? dir : join(userCacheDir(), 'validators');
}

function version(): string {
  ajvVersion ??= installedVersion('ajv', fileURLToPath(import.meta.url)) ?? '?';
  return ajvVersion;
}

const keys = new WeakMap<object, string>();

/**
 * What a validator's behaviour depends on: ajv's version, its options and the schema, hashed. Key
 * order is kept (JSON.stringify, not canonical JSON): the compiled code lists `properties` in schema
 * order, and the "valid keys" of an unknown-key error follow it.
 */
export function validatorKey(schema: JsonSchema): string {
  let key = keys.get(schema);
  if (key === undefined) {
    key = createHash('sha256').update(`${version()}\n${canonicalJson(OPTIONS)}\n${JSON.stringify(schema)}`).digest('hex');
    keys.set(schema, key);
  }
  return key;
}

function fileFor(schema: JsonSchema): string {
  return join(cacheDir(), `${validatorKey(schema)}.cjs`);
}

function load(code: string): ValidateFunction {
  const module = { exports: {} as unknown };
  // The standalone code is CommonJS that requires only ajv's small runtime helpers.
  new Function('require', 'module', 'exports', code)(require, module, module.exports);
  return module.exports as ValidateFunction;
}

function loadCached(schema: JsonSchema): ValidateFunction | undefined {
  let code: string;
  try {
    code = readFileSync(fileFor(schema), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return load(code);
  } catch {
    return undefined; // a damaged entry: recompile over it
  }
}

function compileAndCache(schema: JsonSchema): ValidateFunction {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const standalone = (require('ajv/dist/standalone') as { default: (ajv: Ajv, v: ValidateFunction) => string }).default;
  ajv ??= new AjvClass({ ...OPTIONS, code: { source: true } });
  const v = ajv.compile(schema);
  try {
    const file = fileFor(schema);
    mkdirSync(join(file, '..'), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, standalone(ajv, v));
    renameSync(tmp, file);
    trimStale(join(file, '..'), { entry: (name) => VALIDATOR.test(name) });
  } catch {
    // a read-only install: validators are compiled each run, which is only slower
  }
  return v;
}

export type { ErrorObject };
