// Maps ajv errors (JSON pointers into the data) onto the YAML nodes they came from.
import type { ErrorObject } from './ajv.js';
import type { Diagnostic } from '../util/user-error.js';
import type { SourceFile, YamlPath } from './source.js';
import { closest } from '../util/closest.js';

export function ajvDiagnostics(errors: readonly ErrorObject[], source: SourceFile, base: YamlPath, subject: string): Diagnostic[] {
  // A failed oneOf also reports each branch's errors: keep only the oneOf itself.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const kept = errors.filter(
    (e) => e.keyword === 'oneOf' || !oneOfPaths.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`)),
  );
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of kept) {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue; // their specific errors follow
    const d = toDiagnostic(e, source, base, subject);
    const id = `${d.at?.line}:${d.at?.col}:${d.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      out.push(d);
    }
  }
  return out;
}

function pointerPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function toDiagnostic(e: ErrorObject, source: SourceFile, base: YamlPath, subject: string): Diagnostic {
  const path = [...base, ...pointerPath(e.instancePath)];
  const field = path.length > 0 ? path.join('.') : 'the document';
  const props = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const suggestion = closest(key, props);
      return {
        code: 'E_UNKNOWN_KEY',
        message: `unknown key "${key}" in ${subject === 'pipeline' ? field : `${subject} params`}`,
        at: source.locate([...path, key], { key: true })!,
        hint: props.length > 0 ? `${suggestion ? `did you mean "${suggestion}"? ` : ''}valid keys: ${props.join(', ')}` : 'no keys are allowed here',
      };
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return { code: 'E_MISSING_KEY', message: `${field} is missing required key "${key}"`, at: source.locate(path, { key: true })! };
    }
    case 'enum': {
      const values = (e.params as { allowedValues: unknown[] }).allowedValues;
      const allowed = values.map((v) => JSON.stringify(v));
      const suggestion = typeof e.data === 'string' ? closest(e.data, values.filter((v): v is string => typeof v === 'string')) : undefined;
      const hint = suggestion !== undefined ? `did you mean "${suggestion}"?` : describe(e);
      return { code: 'E_BAD_VALUE', message: `${field} must be one of ${allowed.join(', ')}`, at: source.locate(path)!, ...(hint ? { hint } : {}) };
    }
    case 'type': {
      const types = [(e.params as { type: string | string[] }).type].flat().map((t) => TYPE_NAMES[t] ?? t);
      return {
        code: 'E_TYPE',
        message: `${field} must be ${types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)!}` : types[0]!}, not ${kindOf(e.data)}`,
        at: source.locate(path)!,
        ...(describe(e) ? { hint: describe(e)! } : {}),
      };
    }
    case 'pattern': {
      const isKey = e.propertyName !== undefined;
      const where = isKey ? [...path, e.propertyName!] : path;
      return {
        code: 'E_BAD_VALUE',
        message: `${isKey ? `name "${e.propertyName}"` : field} does not match ${(e.params as { pattern: string }).pattern}`,
        at: source.locate(where, { key: isKey })!,
        hint: isKey ? 'stage ids start with a letter or _ and contain letters, digits, _ and -' : describe(e),
      };
    }
    case 'oneOf':
    case 'anyOf':
      return { code: 'E_BAD_VALUE', message: `${field} has the wrong shape`, at: source.locate(path)!, hint: describe(e) ?? 'see the schema' };
    default:
      return {
        code: 'E_BAD_VALUE',
        message: `${field} ${e.message ?? 'is invalid'}`,
        at: source.locate(path)!,
        ...(describe(e) ? { hint: describe(e)! } : {}),
      };
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'null' };

/** What a value is, in the words of the messages above: `the string "fast"`, `a list`. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return typeof v === 'object' ? 'a mapping' : typeof v;
}

function describe(e: ErrorObject): string | undefined {
  const d = (e.schema as { description?: string } | undefined)?.description ?? (e.parentSchema as { description?: string } | undefined)?.description;
  return d;
}
