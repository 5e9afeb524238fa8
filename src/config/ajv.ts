// One Ajv instance for the process; compiled validators are cached per schema object.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from '../plugin/types.js';

let ajv: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

export function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    ajv ??= new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true, verbose: true });
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export type { ErrorObject };
