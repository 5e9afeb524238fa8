// The pipeline schema for editors: the structural schema that `rethink` validates files with, plus,
// for each built-in plugin, its params under `with:` (an if/then on `uses`), so that an editor with
// the YAML language server completes and checks `train`'s `model`, `lr`, … as you type.
//
// A value in `with:` may be an interpolation ("${vars.epochs}", "${matrix.p}") that becomes a number,
// a list or anything else only when the pipeline is expanded. So every param schema accepts, beside
// what it describes, a string that is exactly one reference; otherwise the editor would flag
// pipelines that `rethink validate` accepts. (What the reference resolves to is checked by rethink.)
import type { JsonSchema } from '../plugin/types.js';
import { pipelineSchema } from './pipeline-schema.js';

const INTERPOLATION = { type: 'string', pattern: '^\\$\\{[^}]+\\}$' } as const;

/**
 * Schema keywords that hold one subschema of values, a list of them, or a map of them. Not `if` and
 * `propertyNames` (conditions and key names, no values) nor `not` (widening it would forbid references).
 */
const ONE = ['additionalProperties', 'items', 'then', 'else', 'contains'] as const;
const MANY = ['anyOf', 'oneOf', 'allOf'] as const;
const MAP = ['properties', 'patternProperties', 'definitions', '$defs'] as const;
/** Kept on the outside of a widened schema, where editors read them for hover and completion. */
const ANNOTATIONS = ['description', 'default', 'title', 'examples'] as const;

type Node = Record<string, unknown>;

/** `schema`, with every value in it also allowed to be a `${…}` reference. */
export function interpolationTolerant(schema: JsonSchema): JsonSchema {
  return widen(schema as Node) as JsonSchema;
}

function widen(node: Node): Node {
  const inner: Node = { ...node };
  for (const k of ONE) if (isNode(inner[k])) inner[k] = widen(inner[k] as Node);
  for (const k of MANY) if (Array.isArray(inner[k])) inner[k] = (inner[k] as Node[]).map(widen);
  // Every widened branch of a oneOf takes a reference, so exactly-one would fail on every reference.
  if (Array.isArray(inner['oneOf'])) {
    inner['anyOf'] = inner['oneOf'];
    delete inner['oneOf'];
  }
  for (const k of MAP) if (isNode(inner[k])) inner[k] = Object.fromEntries(Object.entries(inner[k] as Node).map(([name, s]) => [name, isNode(s) ? widen(s) : s]));
  const constrains = 'type' in inner || 'enum' in inner || 'const' in inner || 'pattern' in inner;
  if (!constrains) return inner;
  const outside: Node = {};
  for (const k of ANNOTATIONS) {
    if (k in inner) {
      outside[k] = inner[k];
      delete inner[k];
    }
  }
  return { ...outside, anyOf: [inner, INTERPOLATION] };
}

const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The pipeline schema with the params of each named plugin (`uses` value → its params schema). */
export function editorSchema(plugins: Readonly<Record<string, JsonSchema>>): JsonSchema {
  const stage = pipelineSchema.definitions.stage;
  const byPlugin = Object.entries(plugins).map(([uses, params]) => ({
    if: { properties: { uses: { const: uses } }, required: ['uses'] },
    then: { properties: { with: interpolationTolerant(params) } },
  }));
  return { ...pipelineSchema, definitions: { ...pipelineSchema.definitions, stage: { ...stage, allOf: byPlugin } } } as unknown as JsonSchema;
}
