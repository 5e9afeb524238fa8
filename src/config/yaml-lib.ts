// The `yaml` package, loaded on first use. Importing it costs about as much CPU as the rest of a
// no-op rerun's planning, and a valid pipeline never needs it (its values come from fast-yaml.ts):
// only a syntax error, a diagnostic's location, an alias check or `--set` do. `require` (its
// CommonJS build, the one an `import` resolves to under Node) keeps those callers synchronous.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

export function yamlLib(): typeof Yaml {
  lib ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return lib;
}
