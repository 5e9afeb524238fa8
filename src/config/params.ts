// Plugin params: validated against the plugin's schema, with its defaults filled in.
import type { JsonValue, Plugin } from '../plugin/types.js';
import { validatorFor, type ErrorObject } from './ajv.js';

export type ParamsResult =
  | { readonly ok: true; readonly params: { readonly [k: string]: JsonValue } }
  | { readonly ok: false; readonly errors: readonly ErrorObject[] };

export function resolveParams(plugin: Plugin<never>, given: unknown): ParamsResult {
  // ajv fills defaults in place: callers hand over a fresh object (interpolation builds one).
  const params = (given ?? {}) as Record<string, JsonValue>;
  const validate = validatorFor(plugin.params);
  if (validate(params)) return { ok: true, params };
  return { ok: false, errors: validate.errors ?? [] };
}

/** One line per error, for places without a source position (the test harness, `--set`). */
export function formatParamErrors(plugin: string, errors: readonly ErrorObject[]): string {
  return errors
    .map((e) => {
      const at = e.instancePath ? `with${e.instancePath.replaceAll('/', '.')}` : 'with';
      const extra =
        e.keyword === 'additionalProperties'
          ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
          : e.keyword === 'enum'
            ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`
            : '';
      return `${plugin}: ${at} ${e.message ?? e.keyword}${extra}`;
    })
    .join('\n');
}
